"""Password rules: length, no truncation, not one of the most common passwords."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from dreamer.core.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 1024  # generous (passphrases), but bounded: hashing cost grows with input


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (resources.files("dreamer.auth") / "common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def check_new_password(password: str, *, email: str | None = None) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if password.lower() in common_passwords():
        problems.append("none of the 5,000 most common passwords")
    if email and password.lower() == email.lower():
        problems.append("different from the e-mail address")
    if problems:
        raise ValidationFailed(
            "The password must be " + " and ".join(problems),
            extra={
                "errors": [
                    {"loc": ["body", "password"], "msg": p, "type": "password"} for p in problems
                ]
            },
        )
