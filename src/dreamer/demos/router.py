"""The website's AI demos: document analysis and the ElevenLabs voice proxy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from starlette.responses import Response

from dreamer.core.responses import JSONResponse, ok
from dreamer.demos import service
from dreamer.demos.schemas import (
    AnalysisEnvelope,
    AnalysisOut,
    AnalyzeIn,
    SpeechIn,
    VoiceEnvelope,
)
from dreamer.deps import LlmDep, VoicesDep, rate_limit, voices

router = APIRouter(tags=["demos"])

PER_IP = rate_limit("demo:ip", "rate_limit_demo_ip")
NOT_CONFIGURED: dict[int | str, dict[str, Any]] = {
    503: {"description": "`provider-not-configured`: ELEVENLABS_API_KEY is not set"},
    502: {"description": "`provider-error`: ElevenLabs failed or refused"},
    429: {"description": "Too many demo requests from this IP"},
}


@router.post(
    "/showcase/analyze-document",
    response_model=AnalysisEnvelope,
    responses={429: {"description": "Too many demo requests from this IP"}},
    dependencies=[PER_IP],
)
async def analyze_document(body: AnalyzeIn, llm: LlmDep) -> JSONResponse:
    """Summarise a text (at most 20,000 characters) with key points: by the configured LLM
    when it answers within about 2 s, else by the built-in extractive summariser, which says
    that it is one (`processedBy`, `method`, `note`). The text is neither stored nor logged."""
    result = AnalysisOut.model_validate(await service.analyze(body.text, body.type, llm))
    data = result.model_dump(mode="json")
    return ok(
        data,
        summary=data["summary"],
        keyPoints=data["keyPoints"],
        processedBy=data["processedBy"],
    )


@router.post(
    "/elevenlabs/clone-voice",
    status_code=201,
    response_model=VoiceEnvelope,
    responses=NOT_CONFIGURED,
    dependencies=[Depends(voices), PER_IP],
)
async def clone_voice(
    engine: VoicesDep,
    audio: Annotated[UploadFile, File(description="A voice sample (audio/*, at most 10 MB)")],
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> JSONResponse:
    """Create an ElevenLabs voice from a sample (instant cloning): `{voiceId}`. The sample is
    passed through, not kept."""
    sample = await audio.read()
    voice_id = await service.clone_voice(
        engine, name.strip(), audio.filename or "sample", audio.content_type or "", sample
    )
    return ok({"voiceId": voice_id}, status=201, voiceId=voice_id)


@router.post(
    "/elevenlabs/text-to-speech",
    response_class=Response,
    responses={
        200: {"content": {"audio/mpeg": {}}, "description": "The speech, MP3"},
        **NOT_CONFIGURED,
    },
    dependencies=[Depends(voices), PER_IP],
)
async def text_to_speech(body: SpeechIn, engine: VoicesDep) -> Response:
    """Speak `text` (at most 2,500 characters) in the voice `voiceId`: `audio/mpeg`."""
    audio = await service.speak(engine, body.text, body.voice_id)
    return Response(audio, media_type="audio/mpeg", headers={"Cache-Control": "no-store"})
