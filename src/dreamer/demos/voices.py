"""A thin client of ElevenLabs' HTTP API for the website's voice demos.

- Instant voice cloning: ``POST {ELEVENLABS_BASE_URL}/v1/voices/add`` (multipart ``name`` and
  ``files``) → ``{"voice_id": …}``.
- Text to speech: ``POST {ELEVENLABS_BASE_URL}/v1/text-to-speech/{voice_id}`` (JSON ``text``,
  ``model_id``; ``Accept: audio/mpeg``) → MP3 bytes.

The key travels in ``xi-api-key`` and is never logged. A failure (refused, over quota, down,
too slow) raises ``VoiceError`` with what the provider said, for a 502.
"""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger("dreamer.demos")


class VoiceError(Exception):
    pass


class ElevenLabs:
    def __init__(self, base_url: str, api_key: str, model: str, *, timeout: float = 30.0) -> None:
        self.model = model
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"xi-api-key": api_key},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def clone(self, name: str, filename: str, content_type: str, audio: bytes) -> str:
        answer = await self._call(
            "POST",
            "/v1/voices/add",
            data={"name": name},
            files={"files": (filename, audio, content_type)},
        )
        voice_id = _json(answer).get("voice_id")
        if not isinstance(voice_id, str) or not voice_id:
            raise VoiceError("ElevenLabs answered without a voice id")
        return voice_id

    async def speak(self, text: str, voice_id: str) -> bytes:
        answer = await self._call(
            "POST",
            f"/v1/text-to-speech/{voice_id}",
            json={"text": text, "model_id": self.model},
            headers={"Accept": "audio/mpeg"},
        )
        if not answer.headers.get("content-type", "").startswith("audio/"):
            raise VoiceError("ElevenLabs answered without audio")
        return answer.content

    async def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            answer = await self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            log.warning("elevenlabs %s failed: %r", path.split("/")[2], exc)
            raise VoiceError("ElevenLabs could not be reached") from None
        if answer.status_code >= 400:
            detail = _json(answer).get("detail")
            message = detail.get("message") if isinstance(detail, dict) else detail
            log.warning("elevenlabs refused (%s): %s", answer.status_code, message)
            raise VoiceError(f"ElevenLabs refused the request ({answer.status_code})")
        return answer


def _json(answer: httpx.Response) -> dict[str, object]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
