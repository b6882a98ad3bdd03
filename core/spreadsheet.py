"""CSV for spreadsheets: cells a spreadsheet will not run as a formula."""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell as text that a spreadsheet will not run as a formula (CSV injection): a leading =, +, -, @, tab or
    carriage return is quoted away with an apostrophe; None is an empty cell."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in FORMULA_STARTS else text
