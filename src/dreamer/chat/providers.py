"""An OpenAI-compatible chat-completions provider (OpenAI, Ollama, vLLM, llama.cpp server, LM
Studio…), chosen by ``LLM_BASE_URL``.

- ``POST {LLM_BASE_URL}/chat/completions`` with the model, the messages (a system prompt that
  carries the retrieved site content, then the conversation) and the temperature; with
  ``stream`` the answer arrives as SSE ``data:`` chunks (``choices[0].delta.content``) ending in
  ``data: [DONE]``, and usage is asked for (``stream_options.include_usage``).
- Each attempt has a timeout (``LLM_TIMEOUT_SECONDS``); a failed attempt that may succeed again
  (a connection error, a timeout, 429, 5xx) is retried after 0.25 s, 0.5 s, … up to
  ``LLM_MAX_RETRIES`` times; a stream is never retried once it has produced text.
- A circuit breaker: after 5 failed requests in a row the provider is not asked for 30 s, so a
  provider that is down costs the visitor no waiting.
- Failures raise ``ProviderError``; the chat service turns it into a polite assistant message
  and a logged incident, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("dreamer.chat")
PROVIDER = "openai-compatible"
FAILURES_TO_OPEN = 5
OPEN_SECONDS = 30.0


class ProviderError(Exception):
    """The provider could not answer (after retries), or the circuit is open."""


@dataclass
class Completion:
    content: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None


class CircuitBreaker:
    def __init__(self, failures: int = FAILURES_TO_OPEN, seconds: float = OPEN_SECONDS) -> None:
        self.failures = failures
        self.seconds = seconds
        self.count = 0
        self.opened_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at >= self.seconds:
            self.opened_at = None  # half-open: one request may try again
            self.count = self.failures - 1
            return True
        return False

    def success(self) -> None:
        self.count, self.opened_at = 0, None

    def failure(self) -> None:
        self.count += 1
        if self.count >= self.failures:
            self.opened_at = time.monotonic()


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


class OpenAICompatible:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 2,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.retries = retries
        self.breaker = CircuitBreaker()
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=httpx.Timeout(timeout)
        )

    async def close(self) -> None:
        await self.http.aclose()

    def _body(
        self, messages: Sequence[dict[str, str]], temperature: float | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if temperature is not None:
            body["temperature"] = temperature
        return body

    async def _attempts(self) -> AsyncIterator[int]:
        if not self.breaker.allow():
            raise ProviderError("the provider failed repeatedly; not asking it for a while")
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(0.25 * 2 ** (attempt - 1))
            yield attempt

    async def complete(
        self, messages: Sequence[dict[str, str]], *, temperature: float | None = None
    ) -> Completion:
        last: Exception | None = None
        async for _attempt in self._attempts():
            try:
                response = await self.http.post(
                    "/chat/completions", json=self._body(messages, temperature)
                )
                response.raise_for_status()
                data = response.json()
                usage = data.get("usage") or {}
                completion = Completion(
                    content=str(data["choices"][0]["message"]["content"] or ""),
                    model=str(data.get("model") or self.model),
                    prompt_tokens=usage.get("prompt_tokens"),
                    completion_tokens=usage.get("completion_tokens"),
                )
            except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
                last = exc
                if _retryable(exc):
                    continue
                break
            self.breaker.success()
            return completion
        self.breaker.failure()
        raise ProviderError(_describe(last))

    async def stream(
        self,
        messages: Sequence[dict[str, str]],
        *,
        temperature: float | None = None,
        usage: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        """The answer's text pieces as they arrive; ``usage`` (if given) receives the
        provider's usage and model when it reports them."""
        body = {
            **self._body(messages, temperature),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        last: Exception | None = None
        async for _attempt in self._attempts():
            produced = False
            try:
                async with self.http.stream("POST", "/chat/completions", json=body) as response:
                    response.raise_for_status()
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        chunk = json.loads(data)
                        if usage is not None:
                            if chunk.get("usage"):
                                usage.update(chunk["usage"])
                            if chunk.get("model"):
                                usage["model"] = chunk["model"]
                        for choice in chunk.get("choices") or []:
                            piece = (choice.get("delta") or {}).get("content")
                            if piece:
                                produced = True
                                yield piece
            except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                last = exc
                if _retryable(exc) and not produced:
                    continue
                self.breaker.failure()
                raise ProviderError(_describe(exc)) from None
            self.breaker.success()
            return
        self.breaker.failure()
        raise ProviderError(_describe(last))

    async def models(self) -> list[str]:
        """The models the provider lists (``GET /models``); the configured one if it lists
        none or cannot be asked."""
        try:
            response = await self.http.get("/models")
            response.raise_for_status()
            found = [str(m["id"]) for m in response.json().get("data", []) if m.get("id")]
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            log.warning("llm models unavailable: %s", _describe(exc))
            return [self.model]
        return found or [self.model]


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__ if exc is not None else "unknown error"
