"""The shared CSV module: formula neutralisation, round trip, caps, the typed report."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest

from dreamer.core import csvio

DANGEROUS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "  =1+1",
    " \n@cmd",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_are_neutralised_and_restored(value: str) -> None:
    safe = csvio.neutralise(value)
    assert safe == "'" + value
    assert csvio.restore(safe) == value
    cell = next(csv.reader(io.StringIO(csvio.line([value]))))[0]
    assert cell.startswith("'")


@pytest.mark.parametrize("value", ["plain", "'quoted already", "a=b", "", "1-2", "e@x.com"])
def test_harmless_cells_are_left_alone(value: str) -> None:
    assert csvio.neutralise(value) == value
    assert csvio.restore(value) == value


def test_read_normalises_the_header_and_numbers_lines() -> None:
    rows = csvio.read(b"\xef\xbb\xbfEmail, Tags\r\na@x.com,'=1\r\n,\r\n", required=["email"])
    assert [(r.line, r.values) for r in rows] == [
        (2, {"email": "a@x.com", "tags": "=1"}),
        (3, {"email": None, "tags": None}),
    ]


def test_read_refuses_a_missing_header_too_many_rows_and_too_many_bytes() -> None:
    with pytest.raises(csvio.CsvError, match="email"):
        csvio.read("name\nx\n", required=["email"])
    with pytest.raises(csvio.CsvError, match="at most 2 rows"):
        csvio.read("email\na\nb\nc\n", required=["email"], max_rows=2)
    with pytest.raises(csvio.CsvError, match="larger than"):
        csvio.read("email\n" + "a\n" * 100, required=["email"], max_bytes=50)


def test_report_counts_every_outcome_and_sorts_by_line() -> None:
    report = csvio.ImportReport(dry_run=True, outcomes=("created", "invalid"))
    report.add(3, "b@x.com", "created")
    report.add(2, None, "invalid", "email missing")
    assert report.as_dict() == {
        "dryRun": True,
        "counts": {"created": 1, "invalid": 1},
        "rows": [
            {"line": 2, "email": None, "outcome": "invalid", "reason": "email missing"},
            {"line": 3, "email": "b@x.com", "outcome": "created"},
        ],
    }
    with pytest.raises(ValueError, match="unknown import outcome"):
        report.add(4, None, "merged")


async def test_stream_yields_the_header_then_each_row() -> None:
    async def rows() -> AsyncIterator[list[object]]:
        yield ["=x", 1]
        yield [None, "y"]

    lines = [line async for line in csvio.stream(["a", "b"], rows())]
    assert lines == ["a,b\r\n", "'=x,1\r\n", ",y\r\n"]
