"""Pricing as a pure rule: one shape per type, ISO 4217 currencies, the stored JSON form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from dreamer.catalog.pricing import Pricing, pricing_json

PRICING: TypeAdapter[object] = TypeAdapter(Pricing)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (
            {"type": "fixed", "amount": "1200.50", "currency": "eur"},
            {"type": "fixed", "amount": 1200.5, "currency": "EUR"},
        ),
        (
            {"type": "hourly", "rate": 150, "minimumHours": 4, "currency": "USD"},
            {"type": "hourly", "rate": 150.0, "minimumHours": 4, "currency": "USD"},
        ),
        (
            {"type": "workshop", "amount": 900, "max_attendees": 12, "currency": "GBP"},
            {"type": "workshop", "amount": 900.0, "maxAttendees": 12, "currency": "GBP"},
        ),
        (
            {"type": "custom", "startingAt": 5000, "currency": "CHF", "per": "project"},
            {"type": "custom", "startingAt": 5000.0, "currency": "CHF", "per": "project"},
        ),
    ],
)
def test_each_type_validates_and_stores_camel_case(
    given: dict[str, object], stored: dict[str, object]
) -> None:
    validated = PRICING.validate_python(given)
    assert pricing_json(validated.model_dump()) == stored  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "fixed", "amount": 10, "currency": "XXY"},  # not ISO 4217
        {"type": "fixed", "amount": 0, "currency": "EUR"},  # must be positive
        {"type": "fixed", "amount": Decimal("1.001"), "currency": "EUR"},  # cents at most
        {"type": "hourly", "rate": 10, "currency": "EUR"},  # minimumHours missing
        {"type": "barter", "amount": 1, "currency": "EUR"},  # unknown type
        {"type": "fixed", "amount": 10, "currency": "EUR", "discount": 5},  # unknown field
    ],
)
def test_wrong_pricing_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PRICING.validate_python(bad)
