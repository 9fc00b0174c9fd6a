"""Errors for bad input: each names where the problem is and what was expected."""

from __future__ import annotations


class DataValidationError(ValueError):
    """Input data broke a rule; the message names the file, row and field and what was expected.

    Args:
        message: What is wrong, in words.
        file: The file (or directory) where the problem was found.
        row: 0-based row index within that file, when one row is at fault.
        field: The column or JSON field at fault.
        expected: What a valid value would have looked like.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file, self.row, self.field, self.expected = file, row, field, expected
        row_s = None if row is None else f"row {row}"
        field_s = None if field is None else f"field '{field}'"
        parts = [p for p in (file, row_s, field_s) if p]
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)
