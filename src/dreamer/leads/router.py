"""The contact form (public) and the sales pipeline (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from dreamer.core import csvio, signing
from dreamer.core.config import Settings
from dreamer.core.pagination import cursor_meta
from dreamer.core.responses import Envelope, JSONResponse, ok
from dreamer.core.timebounds import Moment
from dreamer.deps import (
    Context,
    DatabaseDep,
    DbSession,
    SettingsDep,
    SigningKeyDep,
    Staff,
    by_email,
    rate_limit,
)
from dreamer.leads import service
from dreamer.leads.schemas import (
    ActivityIn,
    ActivityOut,
    ContactIn,
    LeadFilter,
    LeadOut,
    LeadPatch,
    RuleIn,
    RuleOut,
)
from dreamer.models import Lead, LeadSource, LeadStatus
from dreamer.newsletter import service as newsletter
from dreamer.newsletter.schemas import SubscribeIn

contact_router = APIRouter(prefix="/contact", tags=["contact"])
router = APIRouter(prefix="/leads", tags=["leads"])

THANKS = "Thank you for your message. We will get back to you shortly."


@contact_router.get("/token", response_model=Envelope[dict[str, str]])
async def form_token(key: SigningKeyDep) -> JSONResponse:
    """A signed timestamp for the contact form (optional): a form sent back faster than a
    person can type is quietly dropped."""
    return ok({"token": signing.form_token(key)})


# a form refused as invalid (a typo in the address, a blank message) costs a quarter
INVALID_FORM_COST = 0.25
CONTACT_LIMIT = [
    rate_limit(
        "contact:ip", "rate_limit_contact_ip", body=ContactIn, invalid_cost=INVALID_FORM_COST
    ),
    rate_limit(
        "contact:email",
        "rate_limit_contact_email",
        subject=by_email,
        body=ContactIn,
        invalid_cost=INVALID_FORM_COST,
    ),
]


@contact_router.post(
    "", status_code=201, response_model=Envelope[dict[str, str]], dependencies=CONTACT_LIMIT
)
@contact_router.post(
    "/submit",
    status_code=201,
    response_model=Envelope[dict[str, str]],
    dependencies=CONTACT_LIMIT,
    include_in_schema=False,
)
async def contact(
    body: ContactIn, db: DbSession, ctx: Context, settings: SettingsDep, key: SigningKeyDep
) -> JSONResponse:
    """The contact form; the website's `{name, email, company, message, type}` works as is.

    The answer is the same whether the address is new, known or a repeat inquiry (which
    joins the open lead's timeline). Spam gets the same answer and is not stored."""
    if _looks_automated(body, settings, key):
        return ok({"message": THANKS}, status=201)
    await service.capture(db, body, ctx.ip)
    if body.newsletter:
        signup = SubscribeIn(email=body.email, tags=["contact-form"])
        await newsletter.subscribe(db, newsletter.Env.of(settings, key), ctx, signup)
    return ok({"message": THANKS}, status=201)


def _looks_automated(body: ContactIn, settings: Settings, key: str) -> bool:
    if body.website:  # the honeypot: hidden from people, filled in by bots
        return True
    if body.form_token:
        age = signing.form_age(key, body.form_token)
        if age is not None and age < settings.contact_min_fill_seconds:
            return True
    return False


def _lead(item: Lead) -> dict[str, object]:
    return LeadOut.model_validate(item).model_dump(mode="json")


async def lead_filter(
    status: LeadStatus | None = None,
    source: LeadSource | None = None,
    assigned_to: Annotated[uuid.UUID | None, Query(alias="assignedTo")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    min_score: Annotated[int | None, Query(alias="minScore", ge=-100_000, le=100_000)] = None,
    max_score: Annotated[int | None, Query(alias="maxScore", ge=-100_000, le=100_000)] = None,
    created_from: Annotated[Moment | None, Query(alias="createdFrom")] = None,
    created_to: Annotated[Moment | None, Query(alias="createdTo")] = None,
    q: Annotated[str | None, Query(max_length=200, description="full-text search")] = None,
) -> LeadFilter:
    """The pipeline's filters from the query string."""
    return LeadFilter(
        status=status,
        source=source.value if source else None,
        assigned_to=assigned_to,
        tag=tag,
        min_score=min_score,
        max_score=max_score,
        created_from=created_from,
        created_to=created_to,
        search=q,
    )


# The pipeline's query parameters, shared by the list and the CSV export.
Filters = Annotated[LeadFilter, Depends(lead_filter)]


@router.get("", response_model=Envelope[list[LeadOut]])
async def list_leads(
    db: DbSession,
    ctx: Staff,
    filters: Filters,
    sort: Annotated[str, Query(description="createdAt, score or lastActivityAt; - for desc")] = (
        "-createdAt"
    ),
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """The pipeline with filters and full-text search over name, e-mail, company and message.
    `meta.nextCursor` continues the list."""
    rows, next_cursor = await service.page(db, filters, sort=sort, cursor=cursor, limit=limit)
    return ok(
        [_lead(r) for r in rows],
        cursor_meta(limit, next_cursor),
    )


@router.get("/stats", response_model=Envelope[dict[str, object]])
async def lead_stats(db: DbSession, ctx: Staff) -> JSONResponse:
    """Counts per status and source, conversion rate per source, median time to first contact."""
    return ok(await service.stats(db))


@router.get(
    "/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}}
)
async def export_leads(
    db: DbSession, database: DatabaseDep, ctx: Staff, filters: Filters
) -> StreamingResponse:
    """The leads matching the filters as CSV, streamed (formula cells neutralised)."""
    lines = await service.export_csv(db, database, ctx, filters)
    return StreamingResponse(
        lines, media_type=csvio.MEDIA_TYPE, headers=csvio.content_disposition("leads.csv")
    )


@router.post("/import", response_model=Envelope[dict[str, object]])
async def import_leads(
    request: Request,
    db: DbSession,
    ctx: Staff,
    dry_run: Annotated[bool, Query(alias="dryRun")] = True,
) -> JSONResponse:
    """Import a CSV (body `text/csv`, header row with at least `email`). With `dryRun=true`
    (the default) nothing is written: the report says which rows would be created, merged
    into an existing lead, skipped as duplicates, or are invalid. Otherwise every row is
    applied in one transaction."""
    report = await service.import_csv(db, await request.body(), dry_run=dry_run)
    return ok(report.as_dict())


@router.get("/scoring-rules", response_model=Envelope[list[RuleOut]])
async def scoring_rules(db: DbSession, ctx: Staff) -> JSONResponse:
    """The rules that score leads, in order."""
    return ok([RuleOut.model_validate(r).model_dump(mode="json") for r in await service.rules(db)])


@router.post("/scoring-rules", status_code=201, response_model=Envelope[RuleOut])
async def add_scoring_rule(body: RuleIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """Add a rule; every lead is re-scored in the background."""
    rule = await service.add_rule(db, body)
    return ok(RuleOut.model_validate(rule).model_dump(mode="json"), status=201)


@router.put("/scoring-rules/{rule_id}", response_model=Envelope[RuleOut])
async def change_scoring_rule(
    rule_id: uuid.UUID, body: RuleIn, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Replace a rule; every lead is re-scored in the background."""
    rule = await service.change_rule(db, rule_id, body)
    return ok(RuleOut.model_validate(rule).model_dump(mode="json"))


@router.delete("/scoring-rules/{rule_id}", response_model=Envelope[dict[str, str]])
async def remove_scoring_rule(rule_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """Remove a rule."""
    await service.remove_rule(db, rule_id)
    return ok({"message": "Rule removed"})


@router.get("/{lead_id}", response_model=Envelope[LeadOut])
async def get_lead(lead_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """One lead, with `scoreDetails` explaining its score."""
    return ok(_lead(await service.get(db, lead_id)))


@router.patch("/{lead_id}", response_model=Envelope[LeadOut])
async def change_lead(
    lead_id: uuid.UUID, body: LeadPatch, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Move along the pipeline (new → contacted → qualified → negotiating → converted / lost;
    lost needs `lostReason`), assign, tag, take notes. Each change lands on the timeline."""
    return ok(_lead(await service.change(db, lead_id, body)))


@router.get("/{lead_id}/score", response_model=Envelope[dict[str, object]])
async def lead_score(lead_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """The score and the rules that make it."""
    lead = await service.get(db, lead_id)
    return ok({"score": lead.score, "details": lead.score_details})


@router.get("/{lead_id}/activities", response_model=Envelope[list[ActivityOut]])
async def activities(lead_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """The timeline, newest first: inquiries, calls, mails, meetings, notes, and the automatic
    entries (status and owner changes, bookings)."""
    rows = await service.timeline(db, lead_id)
    return ok([ActivityOut.model_validate(r).model_dump(mode="json") for r in rows])


@router.post("/{lead_id}/activities", status_code=201, response_model=Envelope[ActivityOut])
async def add_activity(
    lead_id: uuid.UUID, body: ActivityIn, db: DbSession, ctx: Staff
) -> JSONResponse:
    """Log a call, mail, meeting or note."""
    created = await service.add_activity(db, lead_id, ctx.user_id, body)
    return ok(ActivityOut.model_validate(created).model_dump(mode="json"), status=201)


@router.post("/{lead_id}/convert", response_model=Envelope[LeadOut])
async def convert(lead_id: uuid.UUID, db: DbSession, ctx: Staff) -> JSONResponse:
    """Link (or create) the client account and mark the lead converted."""
    return ok(_lead(await service.convert(db, lead_id)))
