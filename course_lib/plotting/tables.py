"""Printed tables: aligned columns, rounded numbers, the same on every machine.

>>> table([{"lr": 0.1, "final loss": 0.0123456, "diverged": False},
...        {"lr": 0.5, "final loss": 3.2e-9, "diverged": False}])
 lr  final loss  diverged
---  ----------  --------
0.1     0.01235  no
0.5     3.2e-09  no
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["format_number", "format_table", "table"]


def format_number(value: Any, digits: int = 4) -> str:
    """A number rounded for printing: integers as they are, other numbers to ``digits``
    significant digits (``format(x, ".4g")``), booleans as yes/no, None as an empty cell."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format(float(value), f".{digits}g")
    return "" if value is None else str(value)


def _cell(value: Any, fmt: str | Callable[[Any], str] | None) -> str:
    if fmt is None or value is None:
        return format_number(value)
    if callable(fmt):
        return str(fmt(value))
    if "{" in fmt:
        return fmt.format(value)
    return format(value, fmt)


def format_table(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    index: str = "",
) -> str:
    """Rows as aligned text: a header, a rule, then one line per row; numbers right-aligned.

    Args:
        rows: a list of dicts (column -> value), or row label -> dict (the labels then
            form the first column, headed ``index``).
        columns: the columns to show, in order; None shows every key, in first-seen order.
        formats: column -> a format spec (".3f"), a "{...}" template or a function; other
            numbers get :func:`format_number` (4 significant digits).
        index: the header of the label column when ``rows`` is a dict.
    """
    if isinstance(rows, Mapping):
        records = [{index: label, **dict(row)} for label, row in rows.items()]
        lead = [index]
    elif isinstance(rows, Sequence) and not isinstance(rows, str):
        records = [dict(row) for row in rows]
        lead = []
    else:
        raise TypeError(f"rows must be a list of dicts or a dict of dicts, got {rows!r}")
    if not records:
        raise ValueError("rows must not be empty")
    if columns is None:
        columns = lead + [c for c in dict.fromkeys(k for r in records for k in r) if c not in lead]
    else:
        columns = lead + [c for c in columns if c not in lead]
    formats = dict(formats or {})
    unknown = set(formats) - set(columns)
    if unknown:
        raise ValueError(f"formats names columns that are not shown: {sorted(unknown)}")
    cells = [[_cell(r.get(c), formats.get(c)) for c in columns] for r in records]
    numeric = [all(isinstance(r.get(c), numbers.Real) and not isinstance(r.get(c), bool | np.bool_)
                   for r in records if r.get(c) is not None) and c not in lead for c in columns]
    widths = [max(len(str(c)), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line([str(c) for c in columns]), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def table(
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    index: str = "",
) -> None:
    """Print :func:`format_table` (a notebook cell then shows the table, no return value)."""
    print(format_table(rows, columns=columns, formats=formats, index=index))
