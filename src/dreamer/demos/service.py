"""The website's AI demos: document analysis (the configured LLM within the website's 3 s, else
the built-in extractive summariser) and the ElevenLabs voice proxy.

Nothing a visitor sends here is stored or logged: the text and the audio live for the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from dreamer.chat.service import OpenAICompatible, ProviderError
from dreamer.core.errors import BadGateway, PayloadTooLarge, ValidationFailed
from dreamer.demos import summariser
from dreamer.demos.voices import ElevenLabs, VoiceError

__all__ = ["ElevenLabs", "analyze", "clone_voice", "speak", "voices_for"]

log = logging.getLogger("dreamer.demos")

# The website gives up after 3 s; the LLM gets this long, the rest is the fallback's margin.
LLM_BUDGET_SECONDS = 2.2
MAX_AUDIO_BYTES = 10 * 1_048_576
AUDIO_TYPES = ("audio/",)
EXTRACTIVE_NOTE = (
    "Summarised by sentence ranking: the sentences shown are taken from your text as written."
    " No AI model was used, and your text was not stored."
)
LLM_NOTE = "Summarised by an AI model; your text was not stored."
PROMPT = (
    "Summarise the {type} document the user sends. Answer with JSON only, no prose around it:"
    ' {{"summary": "<two or three sentences>", "keyPoints": ["<point>", …up to 5]}}.'
    " Use only what the document says."
)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def voices_for(api_key: str | None, base_url: str, model: str) -> ElevenLabs | None:
    return ElevenLabs(base_url, api_key, model) if api_key else None


async def analyze(text: str, kind: str, llm: OpenAICompatible | None) -> dict[str, Any]:
    kind = kind or "general"
    extract = summariser.summarise(text)
    if not extract.summary:
        raise ValidationFailed("text holds no sentences to summarise")
    figures = {"type": kind, "sentences": extract.sentences, "words": extract.words}
    if llm is not None:
        answered = await _by_llm(text, kind, llm)
        if answered is not None:
            summary, points, model = answered
            return {
                "summary": summary,
                "key_points": points,
                "processed_by": model,
                "method": "llm",
                "note": LLM_NOTE,
                **figures,
            }
    return {
        "summary": extract.summary,
        "key_points": extract.key_points,
        "processed_by": summariser.NAME,
        "method": "extractive",
        "note": EXTRACTIVE_NOTE,
        **figures,
    }


async def _by_llm(text: str, kind: str, llm: OpenAICompatible) -> tuple[str, list[str], str] | None:
    """The LLM's summary within the budget, or None (too slow, failed, or not the JSON asked
    for): the extractive one answers instead."""
    messages = [
        {"role": "system", "content": PROMPT.format(type=kind)},
        {"role": "user", "content": text},
    ]
    try:
        done = await asyncio.wait_for(llm.complete(messages, temperature=0.2), LLM_BUDGET_SECONDS)
    except (ProviderError, TimeoutError) as exc:
        log.warning("document analysis fell back to the extractive summariser: %r", exc)
        return None
    found = _JSON_OBJECT.search(done.content)
    try:
        parsed = json.loads(found.group(0)) if found else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        log.warning("document analysis: the LLM's answer was not the JSON asked for")
        return None
    summary = parsed.get("summary")
    points = parsed.get("keyPoints", parsed.get("key_points", []))
    if not isinstance(summary, str) or not summary.strip() or not isinstance(points, list):
        return None
    kept = [str(p).strip()[:300] for p in points if str(p).strip()][:8]
    return summary.strip()[:2000], kept, done.model


async def clone_voice(
    voices: ElevenLabs, name: str, filename: str, content_type: str, audio: bytes
) -> str:
    if not content_type.startswith(AUDIO_TYPES):
        raise ValidationFailed("audio must be an audio file (audio/mpeg, audio/wav, …)")
    if not audio:
        raise ValidationFailed("audio is empty")
    if len(audio) > MAX_AUDIO_BYTES:
        raise PayloadTooLarge(f"audio may be at most {MAX_AUDIO_BYTES // 1_048_576} MB")
    try:
        return await voices.clone(name, filename or "sample", content_type, audio)
    except VoiceError as exc:
        raise BadGateway(str(exc)) from None


async def speak(voices: ElevenLabs, text: str, voice_id: str) -> bytes:
    try:
        return await voices.speak(text, voice_id)
    except VoiceError as exc:
        raise BadGateway(str(exc)) from None
