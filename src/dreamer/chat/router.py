"""The site's chat assistant: conversations of visitors and users, and their messages."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from dreamer.chat import service
from dreamer.chat.schemas import (
    CompletionIn,
    CompletionOut,
    ConversationIn,
    ConversationOut,
    ConversationPatch,
    Exchange,
    MessageIn,
    MessageOut,
    ModelOut,
)
from dreamer.chat.service import OpenAICompatible, ProviderError
from dreamer.core.responses import Envelope, JSONResponse, PageMeta, json_bytes, ok
from dreamer.db.session import Database, RequestContext
from dreamer.deps import Context, DatabaseDep, DbSession, LlmDep, SettingsDep, by_ip, rate_limit
from dreamer.models import ChatConversation, ChatMessage

router = APIRouter(prefix="/chat", tags=["chat"])
log = logging.getLogger("dreamer.chat")

NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such conversation (or not the caller's)"}
}


# Per person (account or visitor id) the role's quotas hold (service.within_quota); this
# bounds what one address sends across visitor ids.
MESSAGE_LIMITS = [rate_limit("chat:ip", "rate_limit_chat_ip", subject=by_ip)]


def _conversation(
    found: ChatConversation, messages: list[ChatMessage] | None = None
) -> dict[str, Any]:
    out = ConversationOut.model_validate(found)
    if messages is not None:
        out.messages = [_message_model(m) for m in messages]
    return out.model_dump(mode="json")


def _message_model(message: ChatMessage) -> MessageOut:
    sources = (message.metadata_ or {}).get("sources", [])
    return MessageOut.model_validate(
        {
            "id": message.id,
            "role": message.role,
            "content": message.content,
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "tokens_used": message.tokens_used,
            "model_used": message.model_used,
            "sources": sources,
            "created_at": message.created_at,
        }
    )


def _message(message: ChatMessage) -> dict[str, Any]:
    return _message_model(message).model_dump(mode="json")


@router.post("/conversations", status_code=201, response_model=Envelope[ConversationOut])
async def start_conversation(db: DbSession, ctx: Context, body: ConversationIn) -> JSONResponse:
    """Start a conversation: a signed-in caller's, else the anonymous visitor's (by the
    `dreamer_vid` cookie or `X-Visitor-Id`)."""
    return ok(_conversation(await service.start(db, ctx, body)), status=201)


@router.get("/conversations", response_model=Envelope[list[ConversationOut]])
async def list_conversations(
    db: DbSession,
    ctx: Context,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """The caller's own conversations, the most recently active first."""
    found, total = await service.own(db, ctx, page=page, limit=limit)
    return ok([_conversation(c) for c in found], PageMeta.of(page, limit, total))


@router.get(
    "/conversations/{conversation_id}",
    response_model=Envelope[ConversationOut],
    responses=NOT_YOURS,
)
async def get_conversation(conversation_id: uuid.UUID, db: DbSession, ctx: Context) -> JSONResponse:
    """One conversation with its messages (the caller's own; staff: any)."""
    await service.claim(db, ctx)
    found = await service.get(db, conversation_id)
    messages = list(await service.messages(db, conversation_id))
    return ok(_conversation(found, messages))


@router.patch(
    "/conversations/{conversation_id}",
    response_model=Envelope[ConversationOut],
    responses=NOT_YOURS,
)
async def update_conversation(
    conversation_id: uuid.UUID, body: ConversationPatch, db: DbSession, ctx: Context
) -> JSONResponse:
    """Rename it, or archive it (`isActive: false`): an archived conversation takes no new
    messages."""
    return ok(_conversation(await service.update(db, conversation_id, body)))


@router.delete(
    "/conversations/{conversation_id}",
    response_model=Envelope[dict[str, str]],
    responses=NOT_YOURS,
)
async def delete_conversation(
    conversation_id: uuid.UUID, db: DbSession, ctx: Context
) -> JSONResponse:
    """Delete it with its messages."""
    await service.delete(db, conversation_id)
    return ok({"message": "Conversation deleted"})


def _sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + json_bytes(data) + b"\n\n"


def _streamed(exchange: dict[str, Any]) -> StreamingResponse:
    """The answer as Server-Sent Events: ``token`` events with the text piece by piece, then
    ``done`` with the stored exchange. Both messages are committed before the first byte, so a
    client that leaves mid-stream still leaves a whole conversation behind."""
    text: str = exchange["reply"]["content"]

    async def events() -> AsyncIterator[bytes]:
        words = text.split(" ")
        for index, word in enumerate(words):
            yield _sse("token", {"text": word if index == 0 else " " + word})
        yield _sse("done", exchange)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=Envelope[Exchange],
    responses={
        **NOT_YOURS,
        200: {
            "content": {"text/event-stream": {}},
            "description": "With Accept: text/event-stream",
        },
        409: {"description": "The conversation is archived"},
        429: {"description": "Over the caller's chat quota (see Retry-After)"},
    },
    dependencies=MESSAGE_LIMITS,
)
async def send_message(
    request: Request,
    conversation_id: uuid.UUID,
    body: MessageIn,
    db: DbSession,
    database: DatabaseDep,
    ctx: Context,
    llm: LlmDep,
    settings: SettingsDep,
) -> Response:
    """Ask the assistant: the question and its answer are stored, the answer with its token
    counts (prompt and completion), model and sources. `Accept: text/event-stream` streams
    the answer as Server-Sent Events (`token`, then `done` with the stored exchange)."""
    streaming = "text/event-stream" in request.headers.get("accept", "")
    quota = service.quota_for(settings, ctx)
    if streaming and llm is not None:
        turn = await service.ask(
            db, database.public, conversation_id, body.content, quota=quota, model=llm.model
        )
        return _provider_stream(database, ctx, turn, llm, settings.site_name)
    question, reply = await service.send(
        db,
        database.public,
        conversation_id,
        body.content,
        llm=llm,
        site=settings.site_name,
        quota=quota,
    )
    exchange = _exchange(conversation_id, question, reply)
    if streaming:
        return _streamed(exchange)
    return ok(exchange, status=201)


def _exchange(
    conversation_id: uuid.UUID, question: ChatMessage, reply: ChatMessage
) -> dict[str, Any]:
    return Exchange.model_validate(
        {
            "conversation_id": conversation_id,
            "message": _message_model(question),
            "reply": _message_model(reply),
        }
    ).model_dump(mode="json")


# Answers still being generated for a client that may have gone: they finish and are stored.
_GENERATING: set[asyncio.Task[None]] = set()


def _provider_stream(
    database: Database,
    ctx: RequestContext,
    turn: service.Turn,
    llm: OpenAICompatible,
    site: str,
) -> StreamingResponse:
    """The provider's answer as it arrives. The question is committed before the first byte;
    the answer is generated by a task of its own and stored when complete, whether or not the
    client is still there, so a conversation never ends in a half-stored exchange. A provider
    that fails before any text answers with the fallback instead; after some text, the text so
    far is kept and the incident noted."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def generate() -> None:
        pieces: list[str] = []
        usage: dict[str, Any] = {}
        try:
            try:
                async for piece in llm.stream(service.llm_messages(turn, site), usage=usage):
                    pieces.append(piece)
                    queue.put_nowait(("token", {"text": piece}))
                answer = service.llm_answer(
                    turn, "".join(pieces), usage.get("model", llm.model), usage
                )
            except ProviderError as exc:
                if pieces:
                    answer = service.llm_answer(turn, "".join(pieces), llm.model, usage)
                    answer.incident = str(exc)
                else:
                    answer = service.fallback_answer(turn, str(exc))
                    queue.put_nowait(("token", {"text": answer.content}))
            async with database.transaction(ctx) as session:
                reply = await service.store_answer(session, turn.conversation_id, answer)
            queue.put_nowait(("done", _exchange(turn.conversation_id, turn.question, reply)))
        except Exception:
            log.exception("chat answer not stored (conversation %s)", turn.conversation_id)
            queue.put_nowait(("error", {"detail": "The answer could not be stored"}))

    task = asyncio.create_task(generate(), name=f"chat-answer-{turn.conversation_id}")
    _GENERATING.add(task)
    task.add_done_callback(_GENERATING.discard)

    async def events() -> AsyncIterator[bytes]:
        while True:
            event, data = await queue.get()
            yield _sse(event, data)
            if event != "token":
                return

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/models", response_model=Envelope[list[ModelOut]])
async def list_models(llm: LlmDep) -> JSONResponse:
    """The models the configured provider offers (`[{provider, model}]`)."""
    return ok(await service.models(llm))


@router.post(
    "/completions",
    response_model=Envelope[CompletionOut],
    responses={
        404: NOT_YOURS[404],
        429: {"description": "Over the caller's chat quota (see Retry-After)"},
    },
    dependencies=MESSAGE_LIMITS,
)
async def completions(
    body: CompletionIn,
    db: DbSession,
    database: DatabaseDep,
    ctx: Context,
    llm: LlmDep,
    settings: SettingsDep,
) -> JSONResponse:
    """The original one-shot contract: `messages` in, the answer to the last user turn out,
    stored in `conversationId` (or a new conversation, holding the earlier turns)."""
    conversation_id, reply = await service.complete(
        db,
        database.public,
        ctx,
        body,
        llm=llm,
        site=settings.site_name,
        quota=service.quota_for(settings, ctx),
    )
    message = _message_model(reply)
    usage = {
        "promptTokens": reply.prompt_tokens,
        "completionTokens": reply.completion_tokens,
        "totalTokens": reply.tokens_used,
    }
    out = CompletionOut(conversation_id=conversation_id, message=message, usage=usage)
    return ok(out.model_dump(mode="json"))
