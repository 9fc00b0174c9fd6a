"""The robust fusion model of 2405.15442.

LSTM over hours + image encoder → 256-d tokens → transformer (no positional embedding, no CLS) → flatten →
linear classifier.

Every forward takes an explicit presence mask [B, M] (1 = present; column 0 the time series, then the dense
modalities in `ModelConfig.dense` order). The paper zeroes a missing X-ray's token but still lets the other token
attend to it; 'mask' drops it from attention (key padding) and from the classifier input, 'token' substitutes a
learned missing embedding, 'zero' reproduces the paper.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from model.fusion.config import ModelConfig


def check_inputs(cfg: ModelConfig, ts: torch.Tensor, dense: Mapping[str, torch.Tensor],
                 presence: torch.Tensor) -> torch.Tensor:
    """Validate shapes and return the presence mask as bool [B, M].

    Raises:
        ValueError: A shape or modality name does not match the configuration.
    """
    if ts.ndim != 3 or ts.shape[-1] != cfg.n_features:
        raise ValueError(f"ts must be [B, T, {cfg.n_features}], got {tuple(ts.shape)}")
    b, m = ts.shape[0], len(cfg.modalities)
    if presence.shape != (b, m):
        raise ValueError(f"presence must be [{b}, {m}] for modalities {cfg.modalities}, got {tuple(presence.shape)}")
    names = {n for n, _ in cfg.dense}
    if set(dense) != names:
        raise ValueError(f"dense inputs {sorted(dense)} do not match the configured modalities {sorted(names)}")
    for name, dim in cfg.dense:
        x = dense[name]
        if x.shape[0] != b:
            raise ValueError(f"dense[{name!r}] has batch {x.shape[0]}, expected {b}")
        if cfg.image_input == "embedding" or name != "cxr":
            if x.shape != (b, dim):
                raise ValueError(f"dense[{name!r}] must be [{b}, {dim}], got {tuple(x.shape)}")
    return presence.bool()


class TimeSeriesEncoder(nn.Module):
    """Stacked LSTM over hourly inputs; the top layer's last hidden state [B, hidden]."""

    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True)
        self.drop = nn.Dropout(dropout)

    def forward(self, ts: torch.Tensor) -> torch.Tensor:
        """[B, T, F] → [B, hidden]."""
        _, (h, _) = self.lstm(ts)
        return self.drop(h[-1])


def dense_encoder(cfg: ModelConfig, name: str, dim: int) -> nn.Module:
    """Projection of one dense modality to d_model; for 'pixels' X-rays a trainable ResNet-34 trunk first."""
    if name == "cxr" and cfg.image_input == "pixels":
        from model.embed.cxr_encoder import FEATURE_DIM, CxrEncoder

        return nn.Sequential(_Features(CxrEncoder(14)), nn.Linear(FEATURE_DIM, cfg.d_model))
    return nn.Linear(dim, cfg.d_model)


class _Features(nn.Module):
    """Wrap a CxrEncoder so nn.Sequential calls its 512-d `features` rather than its finding head."""

    def __init__(self, enc: nn.Module) -> None:
        super().__init__()
        self.enc = enc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc.features(x)


class RobustFusion(nn.Module):
    """Time series + dense modalities fused by a transformer encoder over modality tokens.

    Args:
        cfg: Model configuration (kind 'fusion').
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.ts = TimeSeriesEncoder(cfg.n_features, cfg.hidden, cfg.lstm_layers, cfg.ts_dropout)
        self.ts_proj = nn.Identity() if cfg.hidden == cfg.d_model else nn.Linear(cfg.hidden, cfg.d_model)
        self.dense = nn.ModuleDict({n: dense_encoder(cfg, n, d) for n, d in cfg.dense})
        m = len(cfg.modalities)
        self.missing_token = nn.Parameter(torch.zeros(m, cfg.d_model)) if cfg.missing == "token" else None
        if self.missing_token is not None:
            nn.init.normal_(self.missing_token, std=0.02)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.ff, cfg.dropout, batch_first=True)
        # enable_nested_tensor=False: the nested fast path would drop padded slots' outputs we later zero anyway.
        self.fusion = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.head = nn.Linear(m * cfg.d_model, cfg.n_outputs)

    def tokens(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], present: torch.Tensor) -> torch.Tensor:
        """Modality tokens [B, M, d_model]; absent inputs are replaced by zeros before encoding (NaN-safe)."""
        toks = [self.ts_proj(self.ts(ts))]
        for j, (name, _) in enumerate(self.cfg.dense, start=1):
            x = dense[name]
            keep = present[:, j].view(-1, *([1] * (x.ndim - 1)))
            toks.append(self.dense[name](torch.where(keep, x, torch.zeros((), dtype=x.dtype))))
        return torch.stack(toks, dim=1)

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs].

        Args:
            ts: Hourly inputs [B, T, F].
            dense: Modality name → [B, dim] embedding (or [B, 1, H, W] pixels for 'cxr' with image_input='pixels').
            presence: [B, M] 1/0 (or bool) per modality, time series first.

        Raises:
            ValueError: Bad shapes, or (policy 'mask') a sample with every modality absent.
        """
        present = check_inputs(self.cfg, ts, dense, presence)
        tok = self.tokens(ts, dense, present)
        keep = present.unsqueeze(-1)
        if self.cfg.missing == "zero":
            out = self.fusion(tok * keep)
        elif self.cfg.missing == "token":
            out = self.fusion(torch.where(keep, tok, self.missing_token.unsqueeze(0)))
        else:
            if not present.any(1).all():
                raise ValueError("presence: a sample has every modality absent; the 'mask' policy needs one")
            out = self.fusion(tok, src_key_padding_mask=~present) * keep
        return self.head(out.flatten(1))
