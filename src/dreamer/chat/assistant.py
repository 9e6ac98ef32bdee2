"""The built-in site assistant: answers from the company's own published content.

It needs no model and no network, so ``make run`` chats out of the box. A question is turned
into an *any-word* full-text query (English stemming, prefixes) and run through the site search
(``content.service.search``: published pages, case studies, active services, testimonials);
the answer quotes the best sources, names them, adds a service's price when one was found, and
suggests a consultation. With nothing found it says so, and offers a human instead of guessing.

Token counts are an approximation, documented as such: one token per 4 characters (rounded
up) of the prompt (the question and the conversation so far) and of the answer, the rule of
thumb for English text with GPT-style tokenisers.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROVIDER = "builtin"
MODEL = "dreamer-site-assistant"
MAX_SOURCES = 3
# A turn carries the conversation's last HISTORY messages (an LLM's context, and what the
# built-in answer counts as its prompt), not the whole conversation.
HISTORY = 20
RELEVANT = 0.3  # a source is shown when its rank is at least this share of the best one's
_MARKS = re.compile(r"</?mark>")
BOOKING_HINT = (
    "If you would like to talk it through, you can book a free consultation with our team at /book."
)
UNKNOWN = (
    "I'm sorry, I don't know the answer to that: I can only answer from what is published on "
    "this site. You can ask about our services, prices, workshops and case studies, or leave "
    "your e-mail through the contact form and a person will get back to you."
)


# Retrieval: a visitor's question becomes the words worth searching for. Conversational
# filler the English stop list keeps ("do you *use* …", "have you *worked* with …") would
# otherwise outrank the one rare word that matters; and a visitor's word is joined by the
# words the site uses for the same thing. Measured by tests/chat/test_retrieval.py.
FILLER = frozenset(
    """
    work works worked working use uses used using tell know want wants need needs like get
    gets got help please thanks thank hello hey make makes made really also would could may
    might much many lot lots something anything thing things way say says said think see
    look give take takes find out come kind sort type sure ever
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "cost": ("price", "pricing", "charge"),
    "costs": ("price", "pricing", "charge"),
    "price": ("pricing", "charge", "cost"),
    "prices": ("pricing", "charge", "cost"),
    "fee": ("price", "charge"),
    "fees": ("price", "charge"),
    "pay": ("invoice", "payable"),
    "payment": ("invoice", "payable"),
    "invoice": ("invoices", "payable"),
    "invoices": ("invoice", "payable"),
    "staff": ("team",),
    "employees": ("team",),
    "colleagues": ("team",),
    "people": ("team", "attendees"),
    "company": ("team", "consultancy"),
    "firm": ("team", "consultancy"),
    "agency": ("team", "consultancy"),
    "yourselves": ("team", "consultancy"),
    "appointment": ("booking", "meeting", "consultation"),
    "meeting": ("booking", "consultation"),
    "call": ("consultation", "meeting"),
    "schedule": ("book", "booking"),
    "move": ("reschedule",),
    "online": ("remote", "video"),
    "remotely": ("remote", "video"),
    "virtual": ("remote", "video"),
    "nda": ("non-disclosure", "confidential"),
    "confidential": ("non-disclosure", "nda"),
    "confidentiality": ("non-disclosure", "nda"),
    "safe": ("security", "gdpr", "data"),
    "secure": ("security", "gdpr"),
    "privacy": ("gdpr", "data"),
    "reviews": ("testimonials",),
    "feedback": ("testimonials",),
    "chatbot": ("assistant",),
    "chatgpt": ("llm", "assistant"),
    "predict": ("forecasting", "forecast"),
    "prediction": ("forecasting", "forecast"),
    "trucks": ("logistics", "kilometres"),
    "shipping": ("logistics",),
    "shop": ("retail",),
    "ecommerce": ("retail",),
    "course": ("training", "workshop"),
    "teach": ("training", "workshop"),
    "learn": ("training", "workshop"),
}
_QUESTION_WORDS = re.compile(r"[^\W_]+")


def retrieval_text(question: str) -> str:
    """The words of ``question`` to search the site for: its own without the filler, and the
    site's words for the same things."""
    own = [w for w in _QUESTION_WORDS.findall(question.lower()) if w not in FILLER]
    related = [s for w in own for s in SYNONYMS.get(w, ())]
    return " ".join(dict.fromkeys(own + related))  # the search keeps the first 12


def approx_tokens(text: str) -> int:
    """The documented approximation: ceil(characters / 4)."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass
class Answer:
    content: str
    prompt_tokens: int
    completion_tokens: int
    model: str = MODEL
    sources: list[dict[str, str]] = field(default_factory=list)
    lead_id: str | None = None  # a contact request made in the chat became this lead
    incident: str | None = None  # the provider failed; this answer is the fallback

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def plain(highlight: str) -> str:
    """A search highlight (escaped HTML with <mark>) as plain text."""
    return " ".join(html.unescape(_MARKS.sub("", highlight)).split())


def price(pricing: Mapping[str, Any] | None) -> str | None:
    if not pricing:
        return None
    currency = pricing.get("currency", "")
    kind = pricing.get("type")
    if kind in ("fixed", "workshop") and pricing.get("amount") is not None:
        text = f"{pricing['amount']:,.0f} {currency}"
        if kind == "workshop" and pricing.get("maxAttendees"):
            text += f" for up to {pricing['maxAttendees']} attendees"
        return text
    if kind == "hourly" and pricing.get("rate") is not None:
        return f"{pricing['rate']:,.0f} {currency} an hour"
    if kind == "custom" and pricing.get("startingAt") is not None:
        return f"from {pricing['startingAt']:,.0f} {currency}, quoted to your project"
    return None


def compose(
    question: str,
    history: Sequence[str],
    hits: Sequence[Mapping[str, Any]],
    prices: Mapping[str, Mapping[str, Any]],
) -> Answer:
    """The answer to ``question`` from search ``hits`` (best first) and the pricing of the
    services among them (by slug)."""
    prompt_tokens = approx_tokens(question) + sum(approx_tokens(h) for h in history)
    if not hits:
        return Answer(UNKNOWN, prompt_tokens, approx_tokens(UNKNOWN))
    lead = hits[0]
    # the sources that matter: near the best one's rank, not every weak match
    shown = [h for h in hits[:MAX_SOURCES] if h["rank"] >= RELEVANT * lead["rank"]]
    lines = [f"Here is what I found on our site about {lead['title']}:"]
    for hit in shown:
        snippet = plain(hit.get("highlight") or "")
        line = f"- {hit['title']}"
        if snippet:
            line += f": {snippet}"
        cost = price(prices.get(str(hit.get("slug")))) if hit["kind"] == "service" else None
        if cost:
            line += f" (price: {cost})"
        lines.append(line)
    lines.append("")
    lines.append(BOOKING_HINT)
    content = "\n".join(lines)
    sources = [{"kind": h["kind"], "title": h["title"], "path": h["path"]} for h in shown]
    return Answer(content, prompt_tokens, approx_tokens(content), sources=sources)
