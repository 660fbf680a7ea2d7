"""CSV records read line by line, robustly (used by the TWCS reader).

Records end at ``\\n`` (or ``\\r\\n``) only. The files were written by pandas with a ``\\n``
line terminator, which does *not* quote a field holding a bare ``\\r``: tweet 3399 of the
head5k file has ``\\r\\r`` inside an unquoted text. A plain ``csv.reader`` (even with
``newline=""``) ends the record at that ``\\r`` and splits the row in three. So lines are read
with ``newline="\\n"`` and every bare ``\\r`` is escaped before the csv module sees it, then
restored in the fields: ``\\r`` survives quoted or not. A file with old-Mac ``\\r``-only line
endings (a ``\\r`` inside its header line) falls back to the csv module's usual handling.

Every line is cleaned of C0 control characters (NUL, ESC…; tab, ``\\n`` and ``\\r`` are kept)
before it is parsed, so no field (id, handle, text or an unknown column kept in ``raw``) can
carry one to the database: PostgreSQL refuses NUL in text.

An unterminated quote would swallow the rows after it into one field. A record spanning
several lines, one of which reads as the start of a record on its own (a valid tweet id,
inbound flag and date in their columns), is taken to be one: it is reported as an
unterminated quote at its first line, and reading starts again at that line. A quote left
open at the end of the file is reported the same way.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from carebird.ingest.normalize import strip_controls

FIELD_LIMIT = 16 * 1024 * 1024  # characters per CSV field; the store truncates text anyway
_ESC, _ESC_SELF, _ESC_CR = "\ufdd0", "\ufdd1", "\ufdd2"  # Unicode noncharacters
_UNESCAPE = re.compile(f"{_ESC}([{_ESC_SELF}{_ESC_CR}])")


@contextmanager
def open_lines(path: Path) -> Iterator[Iterator[str]]:
    """Lines split on ``\\n`` only, with bare ``\\r`` escaped (see the module docstring)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="\n") as fh:
        first = fh.readline()
        if "\r" not in first.rstrip("\r\n"):
            yield _escaped(first, fh)
            return
    # \r-only line endings: the csv module's usual handling.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        yield iter(fh)


def _escaped(first: str, rest: Iterable[str]) -> Iterator[str]:
    for lines in ((first,), rest):
        for line in lines:
            if "\r" in line or _ESC in line:
                end = "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""
                body = line[: len(line) - len(end)]
                body = body.replace(_ESC, _ESC + _ESC_SELF).replace("\r", _ESC + _ESC_CR)
                line = body + end
            yield line


def unescape(value: str) -> str:
    if _ESC not in value:
        return value
    return _UNESCAPE.sub(lambda m: _ESC if m.group(1) == _ESC_SELF else "\r", value)


class LineSource:
    """The lines given to the csv module, cleaned of control characters; the lines of the
    current record are kept in `taken`, so that some of them can be put back and read again."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.pending: list[str] = []  # put back, read first (in reverse order)
        self.taken: list[str] = []
        self.exhausted = False  # the csv module asked for a line past the end of the file

    def __iter__(self) -> LineSource:
        return self

    def __next__(self) -> str:
        if self.pending:
            line = self.pending.pop()
        else:
            try:
                line = strip_controls(next(self._lines))
            except StopIteration:
                self.exhausted = True
                raise
        self.taken.append(line)
        return line

    def put_back(self, lines: list[str]) -> None:
        self.pending.extend(reversed(lines))
        self.exhausted = False


def records(
    source: LineSource,
    line: int,
    *,
    skip: Callable[[int, str], None],
    starts: Callable[[str], bool],
) -> Iterator[tuple[int, list[str]]]:
    """(starting line, fields) of each record, from physical line `line` on; a record the csv
    module refuses, or one opened by an unterminated quote, is reported to `skip` (line,
    reason) and skipped. `starts(line)` says whether a line read alone starts a record."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(source, strict=False)
    while True:
        source.taken = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            skip(line, f"unreadable CSV record: {exc}")
            line += len(source.taken)
            continue
        taken = source.taken
        again = next((k for k in range(1, len(taken)) if starts(taken[k])), None)
        if again is not None:  # the quote opened on `line` swallowed the records after it
            skip(line, f"unterminated quote: the record ran on into line {line + again}")
            source.put_back(taken[again:])
            line += again
            reader = csv.reader(source, strict=False)  # the parser's state starts afresh
            continue
        if source.exhausted:  # the file ended inside a quoted field
            skip(line, "unterminated quote: the record ran on to the end of file")
            return
        yield line, [unescape(f) for f in fields]
        line += len(taken)
