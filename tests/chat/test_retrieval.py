"""Retrieval quality, measured: the question set (``retrieval_questions.json``: what visitors
ask about the seeded services, prices, workshops, case studies and the company, each with the
source that should answer it) asked through the chat; the right source must be among the
answer's sources (the top 3) for at least 90 % of the questions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.chat.test_chat import seeded

__all__ = ["seeded"]

QUESTIONS = json.loads((Path(__file__).parent / "retrieval_questions.json").read_text())
TARGET = 0.9


async def test_the_right_source_is_in_the_top_3(client: httpx.AsyncClient, seeded: None) -> None:
    questions = QUESTIONS["questions"]
    assert len(questions) >= 30
    missed = []
    for number, item in enumerate(questions):
        answered = await client.post(
            "/api/v1/chat/completions",
            json={"messages": [{"role": "user", "content": item["q"]}]},
            headers={"X-Visitor-Id": uuid.UUID(int=number + 1).hex},
        )
        assert answered.status_code == 200, answered.text
        sources = [s["path"] for s in answered.json()["data"]["message"]["sources"]]
        assert len(sources) <= 3
        if item["source"] not in sources:
            missed.append((item["q"], item["source"], sources))
    share = 1 - len(missed) / len(questions)
    print(f"retrieval: {share:.0%} of {len(questions)} questions have their source in the top 3")
    for q, wanted, got in missed:
        print(f"  missed {q!r}: wanted {wanted}, got {got}")
    assert share >= TARGET, "\n".join(f"{q!r}: wanted {s}, got {got}" for q, s, got in missed)
