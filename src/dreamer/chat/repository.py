"""SQL for conversations and messages: the caller's ORM session, under RLS (a conversation is
its user's, or an anonymous visitor's by visitor id; staff see all)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.models import ChatConversation, ChatMessage


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


async def add_message(
    session: AsyncSession, conversation_id: uuid.UUID, **values: Any
) -> ChatMessage:
    """A message, timestamped with the clock (two in one transaction keep their order)."""
    message_id = uuid.uuid4()
    await session.execute(
        insert(ChatMessage).values(
            id=message_id,
            conversation_id=conversation_id,
            created_at=func.clock_timestamp(),
            **values,
        )
    )
    found = await session.get(ChatMessage, message_id)
    assert found is not None
    return found
