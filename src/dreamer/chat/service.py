"""The chat assistant's conversations: who owns them, the exchange of a message, the answer.

A conversation belongs to its signed-in user, or to an anonymous visitor by visitor id (the
``dreamer_vid`` cookie or ``X-Visitor-Id``); RLS enforces it (``db/sql/chat.sql``), so another
visitor's conversation is as absent as one that never existed, whatever its id. Answers come
from the built-in site assistant (``chat.assistant``) over the published content.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamer.catalog import service as catalog
from dreamer.chat import assistant, repository
from dreamer.chat.providers import PROVIDER, OpenAICompatible, ProviderError
from dreamer.chat.schemas import ChatTurn, CompletionIn, ConversationIn, ConversationPatch
from dreamer.content import service as content
from dreamer.core.config import Quota, Settings
from dreamer.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from dreamer.core.timebounds import midnight, report_days
from dreamer.db.reader import PublicReader
from dreamer.db.session import RequestContext
from dreamer.leads import service as leads
from dreamer.models import ChatConversation, ChatMessage

__all__ = ["OpenAICompatible", "ProviderError", "provider_for"]

log = logging.getLogger("dreamer.chat")


def provider_for(
    base_url: str | None, model: str, *, api_key: str | None, timeout: float, retries: int
) -> OpenAICompatible | None:
    """The configured LLM provider, or None: the built-in site assistant answers."""
    if not base_url:
        return None
    return OpenAICompatible(base_url, model, api_key=api_key, timeout=timeout, retries=retries)


TITLE_LENGTH = 80
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_CONTACT = re.compile(
    r"\b(contact|call|reach|get in touch|get back|e-?mail me|write to me|follow up|talk to"
    r"|speak to|callback|call back|quote)\b",
    re.IGNORECASE,
)
_ADDRESS: TypeAdapter[str] = TypeAdapter(EmailStr)


def contact_request(text: str) -> str | None:
    """The address of a message that gives one and asks to be contacted, else None."""
    found = _EMAIL.search(text)
    if found is None or _CONTACT.search(text) is None:
        return None
    try:
        return _ADDRESS.validate_python(found.group(0))
    except ValidationError:
        return None


async def models(llm: OpenAICompatible | None) -> list[dict[str, str]]:
    """The models on offer: the provider's, or the built-in assistant itself."""
    if llm is None:
        return [{"provider": assistant.PROVIDER, "model": assistant.MODEL}]
    return [{"provider": PROVIDER, "model": m} for m in await llm.models()]


def _owner(ctx: RequestContext) -> dict[str, Any]:
    return {"user_id": ctx.user_id, "visitor_id": ctx.visitor_id}


async def claim(session: AsyncSession, ctx: RequestContext) -> int:
    """A visitor who signed up or signed in takes their anonymous conversations along: the
    first chat request of theirs that carries both the account and the visitor id moves them
    (a cheap indexed update, nothing to move almost always)."""
    if ctx.user_id is None or ctx.visitor_id is None:
        return 0
    return await repository.claim(session, ctx.user_id, ctx.visitor_id)


async def start(
    session: AsyncSession, ctx: RequestContext, data: ConversationIn
) -> ChatConversation:
    await claim(session, ctx)
    conversation_id = await repository.create_conversation(session, title=data.title, **_owner(ctx))
    return await get(session, conversation_id)


async def get(session: AsyncSession, conversation_id: uuid.UUID) -> ChatConversation:
    found = await repository.conversation(session, conversation_id)
    if found is None:
        raise NotFound("No such conversation")
    return found


async def own(
    session: AsyncSession, ctx: RequestContext, *, page: int, limit: int
) -> tuple[Sequence[ChatConversation], int]:
    await claim(session, ctx)
    return await repository.own_conversations(
        session, limit=limit, offset=(page - 1) * limit, **_owner(ctx)
    )


async def messages(session: AsyncSession, conversation_id: uuid.UUID) -> Sequence[ChatMessage]:
    return await repository.messages(session, conversation_id)


async def update(
    session: AsyncSession, conversation_id: uuid.UUID, data: ConversationPatch
) -> ChatConversation:
    await get(session, conversation_id)
    values = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if values:
        await repository.update_conversation(session, conversation_id, values)
    return await get(session, conversation_id)


async def delete(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    if not await repository.delete_conversation(session, conversation_id):
        raise NotFound("No such conversation")


@dataclass
class Turn:
    """A question stored and everything needed to answer it."""

    conversation_id: uuid.UUID
    question: ChatMessage
    text: str
    history: list[dict[str, str]]
    hits: list[dict[str, Any]]
    prices: dict[str, Any]
    lead_email: str | None
    lead_id: str | None
    system_prompt: str = ""


SYSTEM_PROMPT = (
    "You are the assistant on the website of {site}, an AI consultancy. Answer the visitor's "
    "question briefly and only from the site content below; name the pages you used. If the "
    "content does not answer it, say that you do not know and suggest booking a free "
    "consultation at /book. Never invent prices, clients or services."
)


def quota_for(settings: Settings, ctx: RequestContext) -> Quota:
    """The caller's chat quota: their role's when signed in, else the anonymous one."""
    return settings.chat_quota(ctx.role if ctx.user_id is not None else "anonymous")


async def within_quota(session: AsyncSession, quota: Quota, model: str) -> None:
    """Count the caller's message against their role's quota, or refuse it (429, with the
    seconds until one is allowed again); a refused message counts nothing."""
    wait = await repository.usage_hit(
        session, model, quota.per_hour, quota.per_day, quota.tokens_per_day
    )
    if wait:
        raise RateLimited(
            wait,
            "Chat quota reached (messages per hour or day, or tokens per day):"
            f" try again in {_duration(wait)}",
        )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


async def ask(
    session: AsyncSession,
    reader: PublicReader,
    conversation_id: uuid.UUID,
    text: str,
    *,
    quota: Quota,
    model: str = assistant.MODEL,
) -> Turn:
    """Store the question (and a contact request's lead), and retrieve from the published site
    (any of the question's words) what answering it needs; within the caller's quota."""
    conversation = await get(session, conversation_id)
    if not conversation.is_active:
        raise Conflict("This conversation is archived: start a new one")
    await within_quota(session, quota, model)
    history = await repository.recent(session, conversation_id, assistant.HISTORY)
    question = await repository.add_message(session, conversation_id, role="user", content=text)
    if not conversation.title:
        await repository.update_conversation(session, conversation_id, {"title": _title(text)})
    await repository.touch(session, conversation_id)
    hits, _total = await content.search(
        reader, assistant.retrieval_text(text), page=1, limit=5, match="any"
    )
    prices: dict[str, Any] = {}
    for hit in hits[: assistant.MAX_SOURCES]:
        if hit["kind"] == "service" and hit["slug"]:
            try:
                found = await catalog.public_service(reader, hit["slug"])
            except NotFound:
                continue
            prices[hit["slug"]] = found["pricing"]
    email = contact_request(text)
    lead_id = None
    if email is not None:
        captured = await leads.capture_from_chat(
            session, email=email, message=text, conversation_id=conversation_id
        )
        lead_id = str(captured.lead_id)
    prompt = SYSTEM_PROMPT
    if model != assistant.MODEL:  # an LLM answers: the staff's prompt, if they set one
        configured = await repository.system_prompt(session)
        prompt = configured.system_prompt if configured is not None else SYSTEM_PROMPT
    return Turn(conversation_id, question, text, history, hits, prices, email, lead_id, prompt)


def builtin_answer(turn: Turn) -> assistant.Answer:
    answer = assistant.compose(
        turn.text, [h["content"] for h in turn.history], turn.hits, turn.prices
    )
    return _with_lead(turn, answer)


def _with_lead(turn: Turn, answer: assistant.Answer) -> assistant.Answer:
    if turn.lead_email is not None:
        answer.content = (
            f"Thank you: a member of our team will get back to you at {turn.lead_email}.\n\n"
            + answer.content
        )
        answer.lead_id = turn.lead_id
    return answer


def llm_messages(turn: Turn, site: str) -> list[dict[str, str]]:
    """Retrieval-augmented: the system prompt carries the retrieved site content."""
    context = "\n".join(
        f"- {h['title']} ({h['path']}): {assistant.plain(h.get('highlight') or '')}"
        + (f" Price: {p}" if (p := assistant.price(turn.prices.get(str(h.get("slug"))))) else "")
        for h in turn.hits[: assistant.MAX_SOURCES]
    )
    prompt = (turn.system_prompt or SYSTEM_PROMPT).replace("{site}", site)
    system = prompt + "\n\nSite content:\n" + (context or "(none)")
    return [
        {"role": "system", "content": system},
        *turn.history,
        {"role": "user", "content": turn.text},
    ]


def llm_answer(
    turn: Turn, content_text: str, model: str, usage: dict[str, Any] | None = None
) -> assistant.Answer:
    """A provider's answer with its reported usage (else the documented approximation)."""
    usage = usage or {}
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    answer = assistant.Answer(
        content_text,
        int(prompt) if prompt is not None else assistant.approx_tokens(turn.text),
        int(completion) if completion is not None else assistant.approx_tokens(content_text),
        model=model,
        sources=[
            {"kind": h["kind"], "title": h["title"], "path": h["path"]}
            for h in turn.hits[: assistant.MAX_SOURCES]
        ],
    )
    return _with_lead(turn, answer)


def fallback_answer(turn: Turn, incident: str) -> assistant.Answer:
    """The provider failed: a polite word and what the site itself says, never an error."""
    log.warning("llm incident in conversation %s: %s", turn.conversation_id, incident)
    answer = builtin_answer(turn)
    answer.content = (
        "Our AI assistant is not available right now, so here is what our site says.\n\n"
        + answer.content
    )
    answer.incident = incident
    return answer


async def store_answer(
    session: AsyncSession, conversation_id: uuid.UUID, answer: assistant.Answer
) -> ChatMessage:
    metadata: dict[str, Any] = {"sources": answer.sources}
    if answer.lead_id:
        metadata["lead_id"] = answer.lead_id
    if answer.incident:
        metadata["incident"] = answer.incident
    reply = await repository.add_message(
        session,
        conversation_id,
        role="assistant",
        content=answer.content,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        tokens_used=answer.tokens,
        model_used=answer.model,
        metadata_=metadata,
    )
    await repository.touch(session, conversation_id)
    await repository.usage_add(
        session, answer.model, answer.prompt_tokens, answer.completion_tokens
    )
    return reply


async def send(
    session: AsyncSession,
    reader: PublicReader,
    conversation_id: uuid.UUID,
    text: str,
    *,
    llm: OpenAICompatible | None = None,
    site: str = "",
    temperature: float | None = None,
    quota: Quota,
) -> tuple[ChatMessage, ChatMessage]:
    """Store the question, answer it, store the answer (one transaction: both or neither)."""
    model = llm.model if llm is not None else assistant.MODEL
    turn = await ask(session, reader, conversation_id, text, quota=quota, model=model)
    if llm is None:
        answer = builtin_answer(turn)
    else:
        try:
            done = await llm.complete(llm_messages(turn, site), temperature=temperature)
        except ProviderError as exc:
            answer = fallback_answer(turn, str(exc))
        else:
            usage = {
                "prompt_tokens": done.prompt_tokens,
                "completion_tokens": done.completion_tokens,
            }
            answer = llm_answer(turn, done.content, done.model, usage)
    reply = await store_answer(session, conversation_id, answer)
    return turn.question, reply


def _title(text: str) -> str:
    """The first question, shortened at a word."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_LENGTH:
        return flat
    return flat[: TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"


async def complete(
    session: AsyncSession,
    reader: PublicReader,
    ctx: RequestContext,
    data: CompletionIn,
    *,
    llm: OpenAICompatible | None = None,
    site: str = "",
    quota: Quota,
) -> tuple[uuid.UUID, ChatMessage]:
    """The original one-shot contract: the last user turn is answered in the conversation
    named (or a new one), and earlier turns of a new conversation are kept as its history."""
    question = _last_question(data.messages)
    if data.conversation_id is not None:
        conversation_id = (await get(session, data.conversation_id)).id
    else:
        conversation_id = await repository.create_conversation(session, title=None, **_owner(ctx))
        for turn in data.messages[: data.messages.index(question)]:
            if turn.role != "system":
                await repository.add_message(
                    session, conversation_id, role=turn.role, content=turn.content
                )
    _question, reply = await send(
        session,
        reader,
        conversation_id,
        question.content,
        llm=llm,
        site=site,
        temperature=data.temperature,
        quota=quota,
    )
    return conversation_id, reply


def _last_question(turns: Sequence[ChatTurn]) -> ChatTurn:
    for turn in reversed(turns):
        if turn.role == "user":
            return turn
    raise ValidationFailed("messages must hold a user turn to answer")


# -- staff ----------------------------------------------------------------------------------


async def usage(
    session: AsyncSession, day_from: date | None, day_to: date | None, *, top: int
) -> dict[str, Any]:
    """Messages and tokens by day, model and caller, and the costliest conversations."""
    start, to = report_days(day_from, day_to)
    report = await repository.usage(session, midnight(start), midnight(to + timedelta(1)), top)
    for caller in report["by_caller"]:
        kind, _, who = caller.pop("subject").partition(":")
        caller["visitor_id"] = who if kind == "visitor" else None
    totals = {
        key: sum(d[key] for d in report["by_day"])
        for key in ("messages", "prompt_tokens", "completion_tokens")
    }
    return {"from_": start, "to": to, "totals": totals, **report}


async def find(
    session: AsyncSession,
    *,
    text_contains: str | None,
    day_from: date | None,
    day_to: date | None,
    user_id: uuid.UUID | None,
    lead_id: uuid.UUID | None,
    page: int,
    limit: int,
) -> tuple[Sequence[ChatConversation], int]:
    """Every conversation (RLS: staff see all) matching the filters, last active first."""
    if day_from is not None and day_to is not None and day_from > day_to:
        raise ValidationFailed("from must not be after to")
    return await repository.find_conversations(
        session,
        text_contains=text_contains,
        since=midnight(day_from) if day_from else None,
        until=midnight(day_to + timedelta(1)) if day_to else None,
        user_id=user_id,
        lead_id=lead_id,
        limit=limit,
        offset=(page - 1) * limit,
    )


async def settings_of(session: AsyncSession) -> dict[str, Any]:
    """The system prompt the LLM is given: the staff's, else the built-in one."""
    found = await repository.system_prompt(session)
    if found is None:
        return {
            "system_prompt": SYSTEM_PROMPT,
            "is_default": True,
            "updated_at": None,
            "updated_by": None,
        }
    return {
        "system_prompt": found.system_prompt,
        "is_default": False,
        "updated_at": found.updated_at,
        "updated_by": found.updated_by,
    }


async def configure(
    session: AsyncSession, ctx: RequestContext, system_prompt: str | None
) -> dict[str, Any]:
    await repository.set_system_prompt(session, system_prompt, ctx.user_id)
    return await settings_of(session)
