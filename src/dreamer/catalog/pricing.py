"""Pricing of a service, validated per pricing type (stored as JSON in ``services.pricing``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic.alias_generators import to_camel

from dreamer.core.responses import InputModel

# Active ISO 4217 currency codes.
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    ]
)


def _currency(code: str) -> str:
    code = code.upper()
    if code not in ISO_4217:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class FixedPrice(InputModel):
    type: Literal["fixed"]
    amount: Money
    currency: Currency
    per: str | None = Field(default=None, max_length=50)


class CustomPrice(InputModel):
    type: Literal["custom"]
    starting_at: Money
    currency: Currency
    per: str | None = Field(default=None, max_length=50)


class HourlyPrice(InputModel):
    type: Literal["hourly"]
    rate: Money
    minimum_hours: int = Field(ge=1, le=10_000)
    currency: Currency


class WorkshopPrice(InputModel):
    type: Literal["workshop"]
    amount: Money
    max_attendees: int = Field(ge=1, le=10_000)
    currency: Currency


Pricing = Annotated[
    FixedPrice | CustomPrice | HourlyPrice | WorkshopPrice, Field(discriminator="type")
]


def pricing_json(validated: dict[str, Any]) -> dict[str, Any]:
    """The stored form of validated pricing: camelCase keys (as the API returns them) and
    plain JSON numbers."""
    return {
        to_camel(key): float(value) if isinstance(value, Decimal) else value
        for key, value in validated.items()
        if value is not None
    }
