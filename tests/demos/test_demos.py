"""The website's AI demos: document analysis (the built-in extractive summariser, or an LLM on
a real OpenAI-compatible server within the budget), and the ElevenLabs proxy against a fake
ElevenLabs server on 127.0.0.1, or an immediate 503 when it is not configured."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.chat.test_provider import Fake, provider
from tests.conftest import AppWith as App
from tests.harness import serve_asgi

__all__ = ["provider"]

ANALYZE = "/api/v1/showcase/analyze-document"
CLONE = "/api/v1/elevenlabs/clone-voice"
SPEAK = "/api/v1/elevenlabs/text-to-speech"
REPORT = (
    "Acme Corp reported record revenue of 12 million dollars in the third quarter. The growth "
    "came mainly from the new cloud product, which doubled its customer base. Costs rose by 8 "
    "percent because of hiring in the support team. The board approved a dividend of 50 cents "
    "per share.\n\nManagement expects revenue growth to continue in the fourth quarter, driven "
    "by cloud subscriptions. Risks include currency fluctuations and a slowdown in European "
    "demand. The company will present its full-year results in February."
)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 500


async def test_the_built_in_summariser_says_what_it_is(client: httpx.AsyncClient) -> None:
    analysed = await client.post(ANALYZE, json={"text": REPORT, "type": "Report"})
    assert analysed.status_code == 200, analysed.text
    body = analysed.json()
    data = body["data"]
    assert data["method"] == "extractive"
    assert data["processedBy"] == "dreamer-extractive-summariser"
    assert "No AI model was used" in data["note"]
    assert data["summary"].startswith("Acme Corp reported record revenue")
    assert 1 <= len(data["keyPoints"]) <= 5
    assert all(point in REPORT for point in data["keyPoints"])  # extracted, not invented
    assert (data["type"], data["sentences"]) == ("report", 7)
    # the original website reads the fields at the top level
    assert (body["summary"], body["keyPoints"], body["processedBy"]) == (
        data["summary"],
        data["keyPoints"],
        data["processedBy"],
    )
    # through the original path as well (308 keeps the method and the body)
    legacy = await client.post(
        "/api/showcase/analyze-document", json={"text": REPORT}, follow_redirects=True
    )
    assert legacy.status_code == 200 and legacy.json()["summary"] == data["summary"]


@pytest.mark.parametrize(
    "body",
    [
        {"text": "   "},
        {"text": "x" * 20_001},
        {"text": "!!! ???"},
        {"text": REPORT, "extra": 1},
        {"type": "report"},
    ],
)
async def test_bad_documents_are_refused(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    refused = await client.post(ANALYZE, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    refused = await client.post(ANALYZE, json={"text": "word " * 300_000})
    assert refused.status_code == 413


async def test_the_demos_are_limited_per_ip(app_with: App) -> None:
    async with app_with(rate_limit_demo_ip="2/3600") as http:
        for _ in range(2):
            assert (await http.post(ANALYZE, json={"text": REPORT})).status_code == 200
        refused = await http.post(ANALYZE, json={"text": REPORT})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_an_llm_summarises_within_the_budget(
    app_with: App, provider: tuple[str, Fake]
) -> None:
    url, fake = provider
    fake.answer = json.dumps(
        {"summary": "Record quarter, cloud-driven.", "keyPoints": ["Revenue 12M", "Dividend"]}
    )
    async with app_with(llm_base_url=url, llm_model="fake-llm-1", llm_max_retries=0) as http:
        analysed = (await http.post(ANALYZE, json={"text": REPORT, "type": "report"})).json()
        assert analysed["data"]["method"] == "llm"
        assert analysed["processedBy"] == "fake-llm-1"
        assert analysed["keyPoints"] == ["Revenue 12M", "Dividend"]
        asked = fake.requests[-1]["messages"]
        assert "report document" in asked[0]["content"] and asked[1]["content"] == REPORT

        fake.answer = "Sure! Here is a summary: it went well."  # not the JSON asked for
        fallback = (await http.post(ANALYZE, json={"text": REPORT})).json()
        assert fallback["data"]["method"] == "extractive"

        fake.mode = "slow"  # 5 s: past the budget, the summariser answers
        started = time.monotonic()
        slow = await http.post(ANALYZE, json={"text": REPORT})
        assert time.monotonic() - started < 5
        assert slow.json()["data"]["method"] == "extractive"


# -- ElevenLabs --------------------------------------------------------------------------


@dataclass
class FakeVoices:
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: bool = False


def _fake_elevenlabs(fake: FakeVoices) -> Starlette:
    async def add(request: Request) -> Response:
        if request.headers.get("xi-api-key") != "xi-test":
            return JSONResponse({"detail": {"message": "invalid api key"}}, status_code=401)
        form = await request.form()
        upload = form["files"]
        assert not isinstance(upload, str)
        sample = await upload.read()
        fake.requests.append(("add", {"name": form["name"], "bytes": len(sample)}))
        if fake.refuse:
            return JSONResponse({"detail": {"message": "quota exceeded"}}, status_code=429)
        return JSONResponse({"voice_id": "voice-abc123"})

    async def speak(request: Request) -> Response:
        if request.headers.get("xi-api-key") != "xi-test":
            return JSONResponse({"detail": {"message": "invalid api key"}}, status_code=401)
        body = await request.json()
        fake.requests.append(("speak", {**body, "voice": request.path_params["voice"]}))
        if fake.refuse:
            return JSONResponse({"detail": "unknown voice"}, status_code=404)
        return Response(MP3, media_type="audio/mpeg")

    return Starlette(
        routes=[
            Route("/v1/voices/add", add, methods=["POST"]),
            Route("/v1/text-to-speech/{voice}", speak, methods=["POST"]),
        ]
    )


@pytest.fixture
def elevenlabs() -> Iterator[tuple[str, FakeVoices]]:
    fake = FakeVoices()
    with serve_asgi(_fake_elevenlabs(fake)) as base:
        yield base, fake


async def test_voices_answer_503_at_once_when_not_configured(client: httpx.AsyncClient) -> None:
    for path, kwargs in (
        (CLONE, {"files": {"audio": ("a.mp3", MP3, "audio/mpeg")}, "data": {"name": "Me"}}),
        (SPEAK, {"json": {"text": "Hello", "voiceId": "v1"}}),
        (SPEAK, {"json": {}}),  # not even validated: the website falls back at once
    ):
        answered = await client.post(path, **kwargs)
        assert answered.status_code == 503, answered.text
        assert answered.json()["type"].endswith("/provider-not-configured")


async def test_voices_through_elevenlabs(app_with: App, elevenlabs: tuple[str, FakeVoices]) -> None:
    base, fake = elevenlabs
    async with app_with(elevenlabs_api_key="xi-test", elevenlabs_base_url=base) as http:
        cloned = await http.post(
            CLONE, files={"audio": ("me.mp3", MP3, "audio/mpeg")}, data={"name": " My voice "}
        )
        assert cloned.status_code == 201, cloned.text
        assert cloned.json()["voiceId"] == cloned.json()["data"]["voiceId"] == "voice-abc123"
        assert fake.requests[-1] == ("add", {"name": "My voice", "bytes": len(MP3)})

        spoken = await http.post(SPEAK, json={"text": "Hello there", "voiceId": "voice-abc123"})
        assert spoken.status_code == 200
        assert spoken.headers["content-type"] == "audio/mpeg" and spoken.content == MP3
        assert fake.requests[-1] == (
            "speak",
            {"text": "Hello there", "model_id": "eleven_multilingual_v2", "voice": "voice-abc123"},
        )

        # what the website may get wrong, and what ElevenLabs may refuse
        not_audio = await http.post(
            CLONE, files={"audio": ("x.txt", b"hi", "text/plain")}, data={"name": "X"}
        )
        assert not_audio.status_code == 422
        huge = await http.post(
            CLONE,
            files={"audio": ("big.mp3", b"\0" * (10 * 1_048_576 + 1), "audio/mpeg")},
            data={"name": "Big"},
        )
        assert huge.status_code == 413
        bad_voice = await http.post(SPEAK, json={"text": "Hi", "voiceId": "../etc/passwd"})
        assert bad_voice.status_code == 422
        too_long = await http.post(SPEAK, json={"text": "x" * 2501, "voiceId": "v"})
        assert too_long.status_code == 422
        fake.refuse = True
        refused = await http.post(SPEAK, json={"text": "Hi", "voiceId": "gone"})
        assert refused.status_code == 502
        assert refused.json()["type"].endswith("/provider-error")
    fake.refuse = False
    async with app_with(elevenlabs_api_key="wrong", elevenlabs_base_url=base) as http:
        wrong_key = await http.post(SPEAK, json={"text": "Hi", "voiceId": "v"})
        assert wrong_key.status_code == 502
