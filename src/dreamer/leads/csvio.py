"""CSV export and import of leads. Import reports what each row would do before anything is
written (dry run), and applies all rows in the request's single transaction."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import clock
from dreamer.leads import repository
from dreamer.models import Lead, LeadSource, LeadStatus

COLUMNS = [
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "inquiry_type",
    "status",
    "source",
    "score",
    "tags",
    "assigned_to",
    "created_at",
]
COMPARED = ("first_name", "last_name", "company", "phone", "inquiry_type")
MAX_ROWS = 50_000


def header() -> str:
    return _line(COLUMNS)


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if v is None else _safe(str(v)) for v in values]
    )
    return buffer.getvalue()


def _safe(value: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets: neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def row(lead: Lead) -> str:
    return _line(
        [
            lead.id,
            lead.email,
            lead.first_name,
            lead.last_name,
            lead.company,
            lead.phone,
            lead.inquiry_type,
            lead.status.value,
            lead.source.value,
            lead.score,
            ";".join(str(t) for t in lead.tags),
            lead.assigned_to,
            lead.created_at.isoformat(),
        ]
    )


def _unsafe(value: str) -> str:
    return value[1:] if value[:2] in ("'=", "'+", "'-", "'@") else value


@dataclass
class Report:
    dry_run: bool
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "merged", "duplicate", "invalid"), 0)
        for item in self.rows:
            counts[item["outcome"]] += 1
        return counts


def _clean(raw: dict[str, str | None]) -> dict[str, Any]:
    return {
        k.strip().lower(): _unsafe((v or "").strip()) or None
        for k, v in raw.items()
        if k is not None
    }


def _validate(values: dict[str, Any]) -> str | None:
    if not values.get("email"):
        return "email missing"
    try:
        values["email"] = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return f"invalid email: {exc}"
    for name, enum in (("status", LeadStatus), ("source", LeadSource)):
        if values.get(name) and values[name] not in {e.value for e in enum}:
            return f"unknown {name} {values[name]!r}"
    return None


def _tags(values: dict[str, Any]) -> list[str]:
    return [t.strip() for t in (values.get("tags") or "").split(";") if t.strip()]


async def import_csv(session: AsyncSession, content: str, *, dry_run: bool) -> Report:
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValueError("the CSV needs a header row with at least an 'email' column")
    rows = [(n + 2, _clean(r)) for n, r in enumerate(reader)]
    if len(rows) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per import")
    report = Report(dry_run)
    valid = []
    for line, values in rows:
        problem = _validate(values)
        if problem:
            report.rows.append(
                {
                    "line": line,
                    "email": values.get("email"),
                    "outcome": "invalid",
                    "reason": problem,
                }
            )
        else:
            valid.append((line, values))
    existing = await repository.by_emails(session, sorted({v["email"].lower() for _, v in valid}))
    seen: set[str] = set()
    for line, values in valid:
        key = values["email"].lower()
        outcome = _outcome(existing.get(key), values, key in seen)
        seen.add(key)
        report.rows.append({"line": line, "email": values["email"], "outcome": outcome})
        if not dry_run:
            await _apply(session, outcome, existing.get(key), values)
    report.rows.sort(key=lambda item: item["line"])
    return report


def _outcome(lead: Lead | None, values: dict[str, Any], repeated: bool) -> str:
    if repeated:
        return "duplicate"
    if lead is None:
        return "created"
    differs = any(values.get(c) and values[c] != getattr(lead, c) for c in COMPARED)
    new_tags = set(_tags(values)) - {str(t) for t in lead.tags}
    return "merged" if differs or new_tags else "duplicate"


async def _apply(
    session: AsyncSession, outcome: str, lead: Lead | None, values: dict[str, Any]
) -> None:
    if outcome == "created":
        status = values.get("status") or "new"
        await repository.insert_lead(
            session,
            {
                "email": values["email"],
                **{c: values.get(c) for c in COMPARED},
                "status": status,
                "source": values.get("source") or "other",
                "tags": _tags(values),
                "source_details": {"imported": True},
                "lost_reason": "imported as lost" if status == "lost" else None,
                "conversion_date": clock.now() if status == "converted" else None,
            },
        )
    elif outcome == "merged" and lead is not None:
        fill = {c: values[c] for c in COMPARED if values.get(c) and not getattr(lead, c)}
        tags = sorted({*map(str, lead.tags), *_tags(values)})
        await repository.update_fields(session, lead.id, {**fill, "tags": tags})
