"""Wire format of the website's AI demos (camelCase)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from dreamer.core.responses import ApiModel, Envelope, InputModel

MAX_DOCUMENT = 20_000
MAX_SPEECH = 2_500

DocumentType = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=50)
]


class AnalyzeIn(InputModel):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DOCUMENT)
    ]
    type: DocumentType = Field(
        default="general",
        description="What the text is (report, contract, email, article…): a hint for the LLM",
    )


class AnalysisOut(ApiModel):
    summary: str
    key_points: list[str]
    processed_by: str = Field(
        description="The LLM's model, or `dreamer-extractive-summariser` (no AI model)"
    )
    method: Literal["llm", "extractive"]
    note: str
    type: str
    sentences: int
    words: int


class AnalysisEnvelope(Envelope[AnalysisOut]):
    """``summary``, ``keyPoints`` and ``processedBy`` repeat ``data``'s at the top level: the
    original website reads them there (compatibility fields)."""

    summary: str
    key_points: list[str]
    processed_by: str


class SpeechIn(InputModel):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SPEECH)
    ]
    voice_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class VoiceOut(ApiModel):
    voice_id: str


class VoiceEnvelope(Envelope[VoiceOut]):
    """``voiceId`` repeats ``data.voiceId`` at the top level (a compatibility field)."""

    voice_id: str
