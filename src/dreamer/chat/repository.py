"""SQL for conversations and messages: the caller's ORM session, under RLS (a conversation is
its user's, or an anonymous visitor's by visitor id; staff see all)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.models import ChatConversation, ChatMessage, ChatSettings


async def create_conversation(
    session: AsyncSession, *, user_id: uuid.UUID | None, visitor_id: str | None, title: str | None
) -> uuid.UUID:
    conversation_id = uuid.uuid4()
    await session.execute(
        insert(ChatConversation).values(
            id=conversation_id, user_id=user_id, session_id=visitor_id, title=title
        )
    )
    return conversation_id


async def claim(session: AsyncSession, user_id: uuid.UUID, visitor_id: str) -> int:
    """The visitor's anonymous conversations become the (now signed-in) user's."""
    statement = (
        update(ChatConversation)
        .where(ChatConversation.user_id.is_(None), ChatConversation.session_id == visitor_id)
        .values(user_id=user_id)
        .returning(ChatConversation.id)
    )
    return len((await session.execute(statement)).all())


async def conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> ChatConversation | None:
    query = (
        select(ChatConversation)
        .where(ChatConversation.id == conversation_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def own_conversations(
    session: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[ChatConversation], int]:
    """The caller's own, newest first (staff, who may see every conversation, get theirs)."""
    mine = (
        ChatConversation.user_id == user_id
        if user_id is not None
        else (ChatConversation.user_id.is_(None) & (ChatConversation.session_id == visitor_id))
    )
    total = await session.scalar(select(func.count()).select_from(ChatConversation).where(mine))
    query = (
        select(ChatConversation)
        .where(mine)
        .order_by(ChatConversation.updated_at.desc(), ChatConversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all(), int(total or 0)


async def update_conversation(
    session: AsyncSession, conversation_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(ChatConversation).where(ChatConversation.id == conversation_id).values(**values)
    )


async def touch(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    """A new message moves the conversation to the top of its owner's list."""
    await session.execute(
        update(ChatConversation)
        .where(ChatConversation.id == conversation_id)
        .values(updated_at=func.clock_timestamp())
    )


async def delete_conversation(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    statement = (
        delete(ChatConversation)
        .where(ChatConversation.id == conversation_id)
        .returning(ChatConversation.id)
    )
    return (await session.execute(statement)).first() is not None


async def messages(session: AsyncSession, conversation_id: uuid.UUID) -> Sequence[ChatMessage]:
    query = (
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id)
        .order_by(ChatMessage.created_at, ChatMessage.id)
        .limit(1000)
    )
    return (await session.scalars(query)).all()


async def recent(
    session: AsyncSession, conversation_id: uuid.UUID, limit: int
) -> list[dict[str, str]]:
    """The conversation's last ``limit`` messages, oldest first, as ``{"role", "content"}``:
    what a turn sends as its history, at the same cost however long the conversation is."""
    query = (
        select(ChatMessage.role, ChatMessage.content)
        .where(ChatMessage.conversation_id == conversation_id)
        .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [{"role": role, "content": content} for role, content in reversed(rows)]


async def add_message(
    session: AsyncSession, conversation_id: uuid.UUID, **values: Any
) -> ChatMessage:
    """A message, timestamped with the clock (two in one transaction keep their order), read
    back by the insert's own RETURNING (one round trip; RLS checks it as it would a read)."""
    statement = (
        insert(ChatMessage)
        .values(
            id=uuid.uuid4(),
            conversation_id=conversation_id,
            created_at=func.clock_timestamp(),
            **values,
        )
        .returning(ChatMessage)
    )
    return (await session.scalars(statement)).one()


# -- usage and quotas (chat_usage, written only by its functions in db/sql/chat.sql) ----------


async def usage_hit(
    session: AsyncSession, model: str, per_hour: int, per_day: int, tokens_per_day: int
) -> int:
    """Count one message of the caller if the quota allows it: 0, else the seconds to wait."""
    waited = await session.scalar(
        select(func.chat_usage_hit(model, per_hour, per_day, tokens_per_day))
    )
    return int(waited or 0)


async def usage_add(session: AsyncSession, model: str, prompt: int, completion: int) -> None:
    await session.execute(select(func.chat_usage_add(model, prompt, completion)))


_USAGE_BY_DAY = text(
    """
    select (u.hour at time zone 'UTC')::date as day, sum(u.messages)::bigint as messages,
           sum(u.prompt_tokens)::bigint as prompt_tokens,
           sum(u.completion_tokens)::bigint as completion_tokens
    from chat_usage u where u.hour >= :since and u.hour < :until
    group by 1 order by 1
    """
)
_USAGE_BY_MODEL = text(
    """
    select u.model, sum(u.messages)::bigint as messages,
           sum(u.prompt_tokens)::bigint as prompt_tokens,
           sum(u.completion_tokens)::bigint as completion_tokens
    from chat_usage u where u.hour >= :since and u.hour < :until
    group by 1 order by sum(u.prompt_tokens + u.completion_tokens) desc, 1
    """
)
_USAGE_BY_CALLER = text(
    """
    select u.subject, u.user_id, a.email, sum(u.messages)::bigint as messages,
           sum(u.prompt_tokens)::bigint as prompt_tokens,
           sum(u.completion_tokens)::bigint as completion_tokens
    from chat_usage u left join users a on a.id = u.user_id
    where u.hour >= :since and u.hour < :until
    group by 1, 2, 3 order by sum(u.prompt_tokens + u.completion_tokens) desc, 1 limit :top
    """
)
_TOP_CONVERSATIONS = text(
    """
    select m.conversation_id, c.title, c.user_id, count(*)::bigint as messages,
           coalesce(sum(m.tokens_used), 0)::bigint as tokens
    from chat_messages m join chat_conversations c on c.id = m.conversation_id
    where m.created_at >= :since and m.created_at < :until
    group by 1, 2, 3 order by 5 desc, 4 desc, 1 limit :top
    """
)


async def usage(
    session: AsyncSession, since: datetime, until: datetime, top: int
) -> dict[str, list[dict[str, Any]]]:
    """The staff usage report's figures between ``since`` and ``until`` (RLS: staff only)."""
    bounds = {"since": since, "until": until, "top": top}
    report: dict[str, list[dict[str, Any]]] = {}
    for name, query in (
        ("by_day", _USAGE_BY_DAY),
        ("by_model", _USAGE_BY_MODEL),
        ("by_caller", _USAGE_BY_CALLER),
        ("top_conversations", _TOP_CONVERSATIONS),
    ):
        rows = await session.execute(query, bounds)
        report[name] = [dict(r._mapping) for r in rows]
    return report


async def find_conversations(
    session: AsyncSession,
    *,
    text_contains: str | None,
    since: datetime | None,
    until: datetime | None,
    user_id: uuid.UUID | None,
    lead_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[ChatConversation], int]:
    """Staff search: conversations with a message containing the text (case-insensitive),
    active in the window, of a user, or linked to a lead (the chat's contact request)."""
    conditions: list[Any] = []
    if text_contains:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text_contains) + "%"
        conditions.append(
            select(ChatMessage.id)
            .where(
                ChatMessage.conversation_id == ChatConversation.id,
                ChatMessage.content.ilike(pattern, escape="\\"),
            )
            .exists()
        )
    if since is not None:
        conditions.append(ChatConversation.updated_at >= since)
    if until is not None:
        conditions.append(ChatConversation.created_at < until)
    if user_id is not None:
        conditions.append(ChatConversation.user_id == user_id)
    if lead_id is not None:
        conditions.append(  # the answer to the contact request names the lead
            select(ChatMessage.id)
            .where(
                ChatMessage.conversation_id == ChatConversation.id,
                ChatMessage.metadata_["lead_id"].astext == str(lead_id),
            )
            .exists()
        )
    total = await session.scalar(
        select(func.count()).select_from(ChatConversation).where(*conditions)
    )
    query = (
        select(ChatConversation)
        .where(*conditions)
        .order_by(ChatConversation.updated_at.desc(), ChatConversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all(), int(total or 0)


# -- the staff's system prompt ------------------------------------------------------------


async def system_prompt(session: AsyncSession) -> ChatSettings | None:
    return await session.get(ChatSettings, True, populate_existing=True)


async def set_system_prompt(
    session: AsyncSession, prompt: str | None, user_id: uuid.UUID | None
) -> None:
    if prompt is None:
        await session.execute(delete(ChatSettings))
        return
    statement = pg_insert(ChatSettings).values(id=True, system_prompt=prompt, updated_by=user_id)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ChatSettings.id],
            set_={"system_prompt": prompt, "updated_by": user_id},
        )
    )
