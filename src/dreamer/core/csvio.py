"""CSV in and out for every domain: formula-safe export, capped import with a typed report.

Export: a cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, also after leading spaces) gets a leading ``'`` — OWASP's
advice against CSV injection, since names, messages and tags come from the public. Import undoes
exactly that prefix, so an export can be imported back unchanged.

Import: the header row is required and case-insensitive; rows and bytes are capped; every row
gets an outcome (the caller decides which: created / merged / duplicate / suppressed /
invalid) with its line number and, when refused, the reason. A dry run reports and writes
nothing; otherwise the caller applies the rows in the request's one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

MAX_IMPORT_ROWS = 250_000
MAX_IMPORT_BYTES = 64 * 1024 * 1024
_FORMULA = ("=", "+", "-", "@")
_CONTROL = ("\t", "\r")

Cell = object


class CsvError(ValueError):
    """The file as a whole cannot be imported (no header, too many rows, too large)."""


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would evaluate, so that it is shown as text."""
    if value[:1] in _CONTROL or value.lstrip(" \n")[:1] in _FORMULA:
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo ``neutralise`` (and only it) on a cell read back from our own export."""
    if value[:1] == "'" and neutralise(value[1:]) == value:
        return value[1:]
    return value


def line(values: Iterable[Cell]) -> str:
    """One CSV record (CRLF-terminated, RFC 4180), every cell neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if v is None else neutralise(str(v)) for v in values]
    )
    return buffer.getvalue()


async def stream(columns: Sequence[str], rows: AsyncIterable[Iterable[Cell]]) -> AsyncIterator[str]:
    """The header and then each row, as the rows arrive (for a ``StreamingResponse``)."""
    yield line(columns)
    async for values in rows:
        yield line(values)


def content_disposition(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class ImportedRow:
    """One data row: its line in the file (the header is line 1) and its cells by column."""

    line: int
    values: dict[str, str | None]

    def get(self, column: str) -> str | None:
        return self.values.get(column)


def read(
    content: bytes | str,
    *,
    required: Iterable[str],
    max_rows: int = MAX_IMPORT_ROWS,
    max_bytes: int = MAX_IMPORT_BYTES,
) -> list[ImportedRow]:
    """Parse an upload: cells stripped and restored, empty cells None, header lower-cased."""
    if len(content) > max_bytes:
        raise CsvError(f"the file is larger than {max_bytes} bytes")
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvError(f"the CSV needs a header row with the column(s) {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[ImportedRow] = []
    for number, raw in enumerate(reader, start=2):
        if len(rows) == max_rows:
            raise CsvError(f"at most {max_rows} rows per import")
        cells = {k: restore((v or "").strip()) or None for k, v in raw.items() if k}
        rows.append(ImportedRow(number, cells))
    return rows


@dataclass(frozen=True)
class RowOutcome:
    line: int
    email: str | None
    outcome: str
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        item: dict[str, object] = {"line": self.line, "email": self.email, "outcome": self.outcome}
        if self.reason is not None:
            item["reason"] = self.reason
        return item


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do) with each row."""

    dry_run: bool
    outcomes: tuple[str, ...]
    rows: list[RowOutcome] = field(default_factory=list)

    def add(self, line: int, email: str | None, outcome: str, reason: str | None = None) -> None:
        if outcome not in self.outcomes:
            raise ValueError(f"unknown import outcome {outcome!r}")
        self.rows.append(RowOutcome(line, email, outcome, reason))

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.outcomes, 0)
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    def as_dict(self) -> dict[str, object]:
        ordered = sorted(self.rows, key=lambda r: r.line)
        return {
            "dryRun": self.dry_run,
            "counts": self.counts,
            "rows": [r.as_dict() for r in ordered],
        }
