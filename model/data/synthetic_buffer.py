"""A columnar accumulator of MEDS events that builds one sorted pyarrow table per shard."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

US_PER_H = 3_600_000_000
STATIC_TIME = np.iinfo(np.int64).min  # sorts first; written as null


class EventBuffer:
    """Collects events as arrays (codes as ids into a growing vocabulary) and sorts them MEDS-style."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._cols: dict[str, list[np.ndarray]] = {k: [] for k in ("subject", "time", "code", "num", "stay")}
        self._text: list[tuple[np.ndarray, list[str | None]]] = []  # (row offsets within chunk), aligned later
        self._image: list[tuple[int, np.ndarray, list[str]]] = []
        self._n = 0

    def code_id(self, code: str) -> int:
        return self.vocab.setdefault(code, len(self.vocab))

    def add(
        self,
        subject: np.ndarray,
        time_us: np.ndarray,
        code: str | np.ndarray,
        *,
        numeric: np.ndarray | None = None,
        stay: np.ndarray | None = None,
        text: list[str] | None = None,
        image: list[str] | None = None,
    ) -> None:
        """Append len(subject) events; `code` is one code string or an array of code ids."""
        n = len(subject)
        if n == 0:
            return
        ids = np.full(n, self.code_id(code), np.int32) if isinstance(code, str) else np.asarray(code, np.int32)
        self._cols["subject"].append(np.asarray(subject, np.int64))
        self._cols["time"].append(np.asarray(time_us, np.int64))
        self._cols["code"].append(ids)
        self._cols["num"].append(np.full(n, np.nan, np.float32) if numeric is None else np.asarray(numeric, np.float32))
        self._cols["stay"].append(np.full(n, -1, np.int64) if stay is None else np.asarray(stay, np.int64))
        if text is not None:
            self._text.append((np.arange(self._n, self._n + n), text))
        if image is not None:
            self._image.append((self._n, np.arange(self._n, self._n + n), image))
        self._n += n

    def to_table(self) -> pa.Table:
        """Sorted by (subject_id, time, code), static rows (null time) first within each subject."""
        cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._cols.items()}
        order = np.lexsort((cat["code"], cat["time"], cat["subject"]))
        inv_vocab = np.array(sorted(self.vocab, key=self.vocab.get), dtype=object)
        time = cat["time"][order]
        static = time == STATIC_TIME
        num = cat["num"][order]
        stay = cat["stay"][order]
        text = np.full(self._n, None, dtype=object)
        for rows, values in self._text:
            text[rows] = values
        image = np.full(self._n, None, dtype=object)
        for _, rows, values in self._image:
            image[rows] = values
        codes = pa.DictionaryArray.from_arrays(pa.array(cat["code"][order]), pa.array(inv_vocab, pa.string()))
        return pa.table({
            "subject_id": pa.array(cat["subject"][order], pa.int64()),
            "time": pa.array(time, pa.timestamp("us"), mask=static),
            "code": codes.cast(pa.string()),
            "numeric_value": pa.array(num, pa.float32(), mask=np.isnan(num)),
            "text_value": pa.array(text[order], pa.large_string()),
            "image_path": pa.array(image[order], pa.string()),
            "stay_id": pa.array(stay, pa.int64(), mask=stay < 0),
        })


def ragged_hours(n_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For stays with n_hours[i] hourly slots: (stay index per slot, hour index within the stay)."""
    n_hours = np.asarray(n_hours, np.int64)
    idx = np.repeat(np.arange(len(n_hours)), n_hours)
    starts = np.cumsum(n_hours) - n_hours
    return idx, np.arange(len(idx)) - starts[idx]
