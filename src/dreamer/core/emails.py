"""E-mail addresses as keys: one spelling per mailbox wherever an address identifies someone.

``abc@example.com`` typed in full-width letters (U+FF41…) and in plain ASCII are the same
mailbox to a person and must not become two accounts, leads or subscriptions. Every address
the API accepts is NFKC-normalised, validated, and its domain written in ASCII (IDNA punycode,
lower case); the database compares addresses case-insensitively (``lower(email)`` unique
indexes), so together each mailbox has one key.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field

MAX_LENGTH = 320


def normalise_email(value: str) -> str:
    """The canonical spelling of ``value``; ValueError when it is no address."""
    folded = unicodedata.normalize("NFKC", value.strip())
    try:
        checked = validate_email(folded, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return f"{checked.local_part}@{checked.ascii_domain}"


EmailAddress = Annotated[
    str,
    Field(max_length=MAX_LENGTH, json_schema_extra={"format": "email"}),
    AfterValidator(normalise_email),
]
