"""Wire format of the chat assistant (camelCase, as everywhere)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from dreamer.core.responses import ApiModel, InputModel

MAX_MESSAGE = 4000

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE)
]


class Source(ApiModel):
    """What an answer was drawn from: an item of the website."""

    kind: str
    title: str
    path: str


class MessageOut(ApiModel):
    id: uuid.UUID
    role: Literal["user", "assistant", "system"]
    content: str
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens_used: int | None
    model_used: str | None
    sources: list[Source] = Field(default_factory=list)
    created_at: datetime


class ConversationOut(ApiModel):
    id: uuid.UUID
    title: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut] | None = None  # with GET /conversations/{id} only


class ConversationIn(InputModel):
    title: Title | None = None


class ConversationPatch(InputModel):
    title: Title | None = None
    is_active: bool | None = Field(default=None, description="false archives it")


class MessageIn(InputModel):
    content: Text


class Exchange(ApiModel):
    """What a message gets back: the stored question and the stored answer."""

    conversation_id: uuid.UUID
    message: MessageOut
    reply: MessageOut


class ModelOut(ApiModel):
    provider: str
    model: str


class ChatTurn(InputModel):
    role: Literal["user", "assistant", "system"]
    content: Text


class CompletionIn(InputModel):
    """The original one-shot contract."""

    messages: list[ChatTurn] = Field(min_length=1, max_length=50)
    conversation_id: uuid.UUID | None = None
    model: Annotated[str, StringConstraints(max_length=200)] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)


class CompletionOut(ApiModel):
    conversation_id: uuid.UUID
    message: MessageOut
    usage: dict[str, Any]


class UsageFigures(ApiModel):
    messages: int
    prompt_tokens: int
    completion_tokens: int


class UsageDay(UsageFigures):
    day: date


class UsageModel(UsageFigures):
    model: str


class UsageCaller(UsageFigures):
    """A signed-in user (``userId``, ``email``) or an anonymous visitor (``visitorId``); an
    erased account's figures stay, without either."""

    user_id: uuid.UUID | None
    email: str | None
    visitor_id: str | None


class UsageConversation(ApiModel):
    conversation_id: uuid.UUID
    title: str | None
    user_id: uuid.UUID | None
    messages: int
    tokens: int


class UsageOut(ApiModel):
    """Chat usage from ``from`` to ``to`` (UTC days, both included)."""

    from_: date = Field(alias="from")
    to: date
    totals: UsageFigures
    by_day: list[UsageDay]
    by_model: list[UsageModel]
    by_caller: list[UsageCaller]
    top_conversations: list[UsageConversation]


class StaffConversationOut(ConversationOut):
    user_id: uuid.UUID | None
    visitor_id: str | None = Field(default=None, validation_alias="session_id")


class ChatSettingsOut(ApiModel):
    system_prompt: str
    is_default: bool
    updated_at: datetime | None
    updated_by: uuid.UUID | None


class ChatSettingsIn(InputModel):
    system_prompt: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]
        | None
    ) = Field(
        description="The LLM's system prompt (`{site}` becomes the site's name); null restores"
        " the built-in one"
    )
