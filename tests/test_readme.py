"""The README's configuration table names every setting."""

from __future__ import annotations

from pathlib import Path

from dreamer.core.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == [], f"settings missing from the README: {missing}"
