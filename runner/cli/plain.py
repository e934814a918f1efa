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
_RULES: dict[tuple[int, int, str, str], tuple[str, str]] = {}  # a rule's text either side of its title


def _plain(console: Console, text: str, *, markup: bool = False) -> bool:
    if console.color_system is not None or console.record or console.quiet or not text.isascii():
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


def rule(console: Console, title: str, style: str = "rule.line") -> None:
    """``console.rule(title, style=style)``: rich draws one rule per title length, the title is put in it."""
    if not title or "\n" in title or not _plain(console, title, markup=True):
        console.rule(title, style=style)
        return
    key = (console.width, len(title), style, console.encoding)
    if key not in _RULES:
        stand_in = "x" * len(title)
        with console.capture() as captured:
            console.rule(stand_in, style=style)
        text = captured.get()
        at = text.find(f" {stand_in} ")
        if at < 0 or text.count(stand_in) != 1:  # cut short, or drawn some other way: leave it to rich
            console.rule(title, style=style)
            return
        _RULES[key] = (text[: at + 1], text[at + 1 + len(stand_in) :])
    before, after = _RULES[key]
    console.file.write(before + title + after)
