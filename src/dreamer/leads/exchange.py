"""Leads as CSV rows (through ``core.csvio``): the columns of the export, and what an imported
row does — create a lead, merge into the newest lead of its address, or nothing (duplicate)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.core import clock, csvio
from dreamer.core.emails import normalise_email
from dreamer.leads import repository
from dreamer.models import Lead, LeadSource, LeadStatus

COLUMNS = (
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
)
COMPARED = ("first_name", "last_name", "company", "phone", "inquiry_type")
OUTCOMES = ("created", "merged", "duplicate", "invalid")


def cells(lead: Lead) -> list[object]:
    return [
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


def _problem(values: dict[str, Any]) -> str | None:
    """Why a row cannot be imported (normalising its e-mail address in place), or None."""
    if not values.get("email"):
        return "email missing"
    try:
        values["email"] = normalise_email(values["email"])
    except ValueError as exc:
        return f"invalid email: {exc}"
    for name, enum in (("status", LeadStatus), ("source", LeadSource)):
        if values.get(name) and values[name] not in {e.value for e in enum}:
            return f"unknown {name} {values[name]!r}"
    return None


def _tags(values: dict[str, Any]) -> list[str]:
    return [t.strip() for t in (values.get("tags") or "").split(";") if t.strip()]


async def import_rows(
    session: AsyncSession, rows: list[csvio.ImportedRow], *, dry_run: bool
) -> csvio.ImportReport:
    report = csvio.ImportReport(dry_run, OUTCOMES)
    valid = []
    for row in rows:
        values: dict[str, Any] = dict(row.values)
        problem = _problem(values)
        if problem:
            report.add(row.line, values.get("email"), "invalid", problem)
        else:
            valid.append((row.line, values))
    existing = await repository.by_emails(session, sorted({v["email"].lower() for _, v in valid}))
    seen: set[str] = set()
    created: list[dict[str, Any]] = []
    for line, values in valid:
        key = values["email"].lower()
        lead = existing.get(key)
        outcome = _outcome(lead, values, key in seen)
        seen.add(key)
        report.add(line, values["email"], outcome)
        if dry_run:
            continue
        if outcome == "created":
            created.append(_new_lead(values))
        elif outcome == "merged" and lead is not None:
            await _merge(session, lead, values)
    await repository.insert_leads(session, created)  # in batches, inside this transaction
    return report


def _outcome(lead: Lead | None, values: dict[str, Any], repeated: bool) -> str:
    if repeated:
        return "duplicate"
    if lead is None:
        return "created"
    differs = any(values.get(c) and values[c] != getattr(lead, c) for c in COMPARED)
    new_tags = set(_tags(values)) - {str(t) for t in lead.tags}
    return "merged" if differs or new_tags else "duplicate"


def _new_lead(values: dict[str, Any]) -> dict[str, Any]:
    status = values.get("status") or "new"
    return {
        "email": values["email"],
        **{c: values.get(c) for c in COMPARED},
        "status": status,
        "source": values.get("source") or "other",
        "tags": _tags(values),
        "source_details": {"imported": True},
        "lost_reason": "imported as lost" if status == "lost" else None,
        "conversion_date": clock.now() if status == "converted" else None,
    }


async def _merge(session: AsyncSession, lead: Lead, values: dict[str, Any]) -> None:
    fill = {c: values[c] for c in COMPARED if values.get(c) and not getattr(lead, c)}
    tags = sorted({*map(str, lead.tags), *_tags(values)})
    await repository.update_fields(session, lead.id, {**fill, "tags": tags})
