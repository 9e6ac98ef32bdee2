"""A user agent reduced to what the reports show: a browser family, an OS family, a device class.

The full string never reaches a table (it narrows a person down far more than a class does).
Plain substring and prefix rules, checked in an order that resolves the usual overlaps (Edge
and Opera say "Chrome", Chrome says "Safari", Android says "Linux"); unknown agents are
``Other``. Bots are recognised by the words they put in their agent strings.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class Agent(NamedTuple):
    browser: str
    os: str
    device: str  # desktop | mobile | tablet | bot | other


_BOT = re.compile(
    r"bot\b|crawl|spider|slurp|headless|lighthouse|pingdom|uptime|monitor|curl/|wget/|"
    r"python-requests|python-httpx|httpclient|go-http-client|java/|okhttp|axios|node-fetch",
    re.IGNORECASE,
)
# (marker, browser): the first that matches wins
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex"),
    ("Vivaldi/", "Vivaldi"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("MSIE ", "Internet Explorer"),
    ("Trident/", "Internet Explorer"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("iPod", "iOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
)


@lru_cache(maxsize=2048)
def classify(user_agent: str | None) -> Agent:
    """The classes of ``user_agent`` (``Other``/``other`` when absent or unknown)."""
    if not user_agent:
        return Agent("Other", "Other", "other")
    if _BOT.search(user_agent):
        return Agent("Bot", "Other", "bot")
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "Other")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "Other")
    if (
        "iPad" in user_agent
        or "Tablet" in user_agent
        or ("Android" in user_agent and "Mobile" not in user_agent)
    ):
        device = "tablet"
    elif "Mobi" in user_agent or "iPhone" in user_agent or "iPod" in user_agent:
        device = "mobile"
    elif system in ("Windows", "macOS", "Linux", "ChromeOS", "FreeBSD"):
        device = "desktop"
    else:
        device = "other"
    return Agent(browser, system, device)
