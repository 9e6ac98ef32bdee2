"""The chat assistant for staff: usage and quotas at a glance, every conversation, the prompt."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from dreamer.chat import service
from dreamer.chat.schemas import (
    ChatSettingsIn,
    ChatSettingsOut,
    StaffConversationOut,
    UsageOut,
)
from dreamer.core.responses import Envelope, JSONResponse, PageMeta, ok
from dreamer.deps import DbSession, Staff

router = APIRouter(prefix="/admin/chat", tags=["admin: chat"])

From = Annotated[date | None, Query(alias="from", description="UTC day, included")]
To = Annotated[date | None, Query(alias="to", description="UTC day, included")]


@router.get("/usage", response_model=Envelope[UsageOut])
async def chat_usage(
    db: DbSession,
    ctx: Staff,
    day_from: From = None,
    day_to: To = None,
    top: Annotated[int, Query(ge=1, le=100, description="callers and conversations")] = 10,
) -> JSONResponse:
    """Messages and tokens (prompt and completion) by day, by model and by caller (user or
    anonymous visitor), with the costliest conversations; by default the last 30 days. The
    figures come from the usage ledger the quotas count, so deleted conversations still
    count; the top conversations are those still stored."""
    report = await service.usage(db, day_from, day_to, top=top)
    return ok(UsageOut.model_validate(report).model_dump(mode="json"))


@router.get("/conversations", response_model=Envelope[list[StaffConversationOut]])
async def find_conversations(
    db: DbSession,
    ctx: Staff,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="text of a message")
    ] = None,
    day_from: From = None,
    day_to: To = None,
    user_id: Annotated[uuid.UUID | None, Query(alias="userId")] = None,
    lead_id: Annotated[
        uuid.UUID | None, Query(alias="leadId", description="where the visitor became this lead")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Every conversation, last active first: those with a message containing `q`
    (case-insensitive), active between `from` and `to`, of a user, or of a lead. Open one
    with `GET /api/v1/chat/conversations/{id}`."""
    found, total = await service.find(
        db,
        text_contains=q,
        day_from=day_from,
        day_to=day_to,
        user_id=user_id,
        lead_id=lead_id,
        page=page,
        limit=limit,
    )
    data = [StaffConversationOut.model_validate(c).model_dump(mode="json") for c in found]
    return ok(data, PageMeta.of(page, limit, total))


@router.get("/settings", response_model=Envelope[ChatSettingsOut])
async def chat_settings(db: DbSession, ctx: Staff) -> JSONResponse:
    """The system prompt the configured LLM is given (before the retrieved site content)."""
    return ok(ChatSettingsOut.model_validate(await service.settings_of(db)).model_dump(mode="json"))


@router.put("/settings", response_model=Envelope[ChatSettingsOut])
async def configure_chat(body: ChatSettingsIn, db: DbSession, ctx: Staff) -> JSONResponse:
    """Set the system prompt (`{site}` becomes the site's name), or restore the built-in one
    with `null`. Audited; the next answer uses it."""
    saved = await service.configure(db, ctx, body.system_prompt)
    return ok(ChatSettingsOut.model_validate(saved).model_dump(mode="json"))
