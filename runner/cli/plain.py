"""Plain-text lines and tables written straight to a console's stream, when rich would print them unchanged.

``runner lint`` and ``runner plan`` print a row and several lines for each of a
thousand steps. Through rich, each ``print`` and each table cell costs parsing,
measuring and segmenting, which is most of their running time on a long chain.
When the console has no colours, and the text is plain printable ASCII with
nothing rich would rewrite (markup, emoji codes, tabs, control characters), and
a table fits the console's width, rich's output is the text itself: these write
that directly. Anything else goes through rich, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Console

_EMOJI_CODE = re.compile(r":\S*?:")  # anything rich might read as an :emoji: code
_SEPARATOR = "  "  # a borderless table without edge padding: one space each side of every inner edge


def _plain(console: Console, text: str, *, markup: bool = False) -> bool:
    if console.color_system is not None or console.record or not text.isascii():
        return False
    if markup and "[" in text:
        return False
    return all(line.isprintable() for line in text.split("\n")) and not _EMOJI_CODE.search(text)


def say(console: Console, text: str, end: str = "\n") -> None:
    """``console.print(text, markup=False, end=end)``, without rich's work when it would print ``text`` as is."""
    if _plain(console, text) and end in ("", "\n"):
        console.file.write(text + end)
    else:
        console.print(text, markup=False, end=end)


def show_table(console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """What ``Table(show_edge=False, pad_edge=False, box=None)`` with these columns and rows prints."""
    widths = [len(column) for column in columns]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    cells = [*columns, *(cell for row in rows for cell in row)]
    fits = min(widths) > 0 and sum(widths) + len(_SEPARATOR) * (len(widths) - 1) < console.width
    if not (fits and all(_plain(console, cell, markup=True) and "\n" not in cell for cell in cells)):
        from rich.table import Table

        table = Table(show_edge=False, pad_edge=False, box=None)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    lines = [
        _SEPARATOR.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [columns, *rows]
    ]
    console.file.write("".join(line + "\n" for line in lines))
