"""Tables of numbers that fit the terminal without cutting a number.

A number cut short (``12,3…``) reads as a different number, so numeric columns
never wrap or shrink below their widest cell; the label column folds instead,
and when even that is not enough the least important columns are left out
(the caller says which, and ``--json`` has everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LABEL_MIN = 14
"""Narrowest the label column is folded to (characters)."""


def _width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(part) for part in text.split("\n")), default=0)


def fitted_table(title: str, label: str, columns: Sequence[str],
                 rows: Sequence[tuple[str, Sequence[str]]], drop_order: Sequence[str],
                 width: int) -> tuple[Any, list[str]]:
    """A rich Table of ``rows`` (label, cells) that fits ``width`` columns, and the columns left out.

    Columns named in ``drop_order`` are left out, in that order, while the table would be
    wider than ``width`` with the label column folded to ``LABEL_MIN`` characters.
    """
    from rich.table import Table

    need = {c: max([_width(c), *(_width(cells[i]) for _, cells in rows)])
            for i, c in enumerate(columns)}
    keep = list(columns)
    dropped: list[str] = []
    label_min = min(LABEL_MIN, max([_width(label), *(_width(r[0]) for r in rows)]))

    def total() -> int:  # one space of padding each side of a cell, one rule between cells
        return label_min + 2 + sum(need[c] + 2 for c in keep) + len(keep) + 2

    for name in drop_order:
        if total() <= width:
            break
        if name in keep:
            keep.remove(name)
            dropped.append(name)
    table = Table(title=title, header_style="bold")
    table.add_column(label, overflow="fold", min_width=label_min)
    for c in keep:
        table.add_column(c, justify="right", no_wrap=True, min_width=need[c])
    index = {c: i for i, c in enumerate(columns)}
    for name, cells in rows:
        table.add_row(name, *(cells[index[c]] for c in keep))
    return table, dropped
