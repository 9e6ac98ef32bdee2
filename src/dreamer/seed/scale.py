"""``dreamer bench generate``: a realistic, reproducible data set at a chosen scale.

Scale 1 is about 10k users, 100k leads with 500k activities, 20k bookings, 1M audit rows,
2,000 pages and case studies (and 300 testimonials, with 30 days of views), 100k chat
conversations with 1M messages (and their hourly token usage), and 1M analytics events of the
last 30 days (with their daily roll-ups); scale N is N times that (fractions make small sets
for tests). Everything loads through COPY (asyncpg's binary protocol) as the owner role into
the real schema, with its RLS policies, triggers, constraints and partitions in place: the
audit trail, the lead scores, the booking activities and the content revisions are written by
the database's own triggers, exactly as in production; the audit trail is filled up to its
share with login events of the last month before the content and the chat, whose own audit
rows come on top.

The distributions are the ones a consultancy's site sees: sign-ups and leads grow over two
years with a weekly rhythm (weekdays busy, weekends quiet) and a summer and December dip; the
pipeline thins from new to converted, older leads have moved further; activity per lead,
bookings per client, logins per user, conversations per person and messages per conversation
are heavy-tailed (a few heavy users); a few items take most page views, and most of the site
is about a few topics (so search terms are skewed too); the assistant's answers carry the
model of their day (a new version every few months) and token counts that grow with the
history sent. The same seed and the same ``as_of`` date give the same rows, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import asyncpg
import orjson

from dreamer.db.urls import plain_url

# what scale 1 holds
BASE = {
    "users": 10_000,
    "leads": 100_000,
    "activities": 500_000,
    "bookings": 20_000,
    "pages": 1_500,
    "case_studies": 500,
    "testimonials": 300,
    "conversations": 100_000,
}
MESSAGES_PER_CONVERSATION = 10  # 1M chat messages at scale 1, heavy-tailed per conversation
AUDIT_ROWS = 1_000_000
EVENTS = 1_000_000  # analytics events of the last 30 days at scale 1
PATHS = (
    ["/", "/services", "/about", "/contact", "/case-studies", "/faq", "/blog"]
    + [f"/blog/post-{i}" for i in range(40)]
    + [f"/services/offer-{i}" for i in range(8)]
)
KINDS = (
    ("page_view", 0.62),
    ("cta_click", 0.1),
    ("scroll_depth", 0.12),
    ("web_vital", 0.12),
    ("contact_submit", 0.01),
    ("booking_start", 0.02),
    ("newsletter_signup", 0.01),
)
VISIT_SOURCES = (
    (None, None, 0.45),
    ("google.com", None, 0.3),
    ("linkedin.com", "linkedin", 0.1),
    ("news.ycombinator.com", None, 0.05),
    (None, "newsletter", 0.1),
)
CHUNK = 10_000
# every generated account has this password (login benchmarks sign in as any of them)
PASSWORD = "bench-password-1"  # noqa: S105 (a published test password, never a real one)
EMAIL_DOMAIN = "scale.example"

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Ken",
    "Barbara",
    "Edsger",
    "Donald",
    "Margaret",
    "Dennis",
    "Frances",
    "Tim",
    "Radia",
    "Vint",
    "Sophie",
    "Katherine",
    "Hedy",
    "Claude",
    "John",
    "Mary",
    "Anita",
    "Leslie",
    "Shafi",
    "Karen",
    "Guido",
    "Bjarne",
    "James",
    "Yukihiro",
    "Niklaus",
    "Fran",
    "Joan",
    "Adele",
    "Jean",
    "Lynn",
    "Carol",
    "Ivan",
    "Susan",
    "Whitfield",
    "Martin",
    "Ruth",
    "Hal",
    "Dana",
    "Ole",
    "Kristen",
    "Amir",
    "Priya",
    "Wei",
    "Mei",
    "Chen",
    "Olu",
    "Ngozi",
    "Ana",
    "Luis",
    "Marta",
    "Jonas",
    "Freya",
    "Lars",
    "Ingrid",
    "Mateo",
    "Lucia",
    "Omar",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Thompson",
    "Liskov",
    "Dijkstra",
    "Knuth",
    "Hamilton",
    "Ritchie",
    "Allen",
    "Berners-Lee",
    "Perlman",
    "Cerf",
    "Wilson",
    "Johnson",
    "Lamarr",
    "Shannon",
    "McCarthy",
    "Keller",
    "Borg",
    "Lamport",
    "Goldwasser",
    "Jones",
    "Rossum",
    "Stroustrup",
    "Gosling",
    "Matsumoto",
    "Wirth",
    "Clarke",
    "Bell",
    "Goldberg",
    "Sammet",
    "Conway",
    "Kernighan",
    "Sutherland",
    "Kay",
    "Hoare",
    "Cox",
    "Abelson",
    "Diffie",
    "Graham",
    "Nygaard",
    "Nguyen",
    "Patel",
    "Kim",
    "Garcia",
    "Muller",
    "Rossi",
    "Novak",
    "Silva",
    "Okafor",
    "Haddad",
    "Jensen",
    "Larsen",
    "Moreau",
    "Dubois",
    "Fischer",
    "Weber",
    "Schmidt",
    "Kowalski",
    "Ivanova",
    "Tanaka",
    "Sato",
    "Suzuki",
    "Yamamoto",
    "Singh",
    "Khan",
    "Ali",
    "Costa",
    "Santos",
    "Ferreira",
]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Aperture",
    "Nakatomi",
    "Oscorp",
    "Massive",
    "Dynamic",
    "Pied",
    "Piper",
    "Gringotts",
    "Monarch",
    "Prestige",
    "Vehement",
    "Bluth",
    "Dunder",
    "Sterling",
    "Cooper",
    "Wernham",
    "Gekko",
    "Oceanic",
    "Virtucon",
    "Zorg",
    "Nordwind",
    "Sirius",
    "Tessier",
]
INDUSTRIES = ("fintech", "retail", "health", "logistics", "manufacturing", "media", "public")
INQUIRIES = ("consultation", "partnership", "support", "pricing", "careers", "other")
TAGS = ("enterprise", "smb", "startup", "hot", "follow-up", "newsletter", "event-2026", "rfp")
MESSAGES = (
    "We would like to automate document processing in our {industry} back office.",
    "Can you help us evaluate an AI assistant for our customer support team?",
    "Looking for a partner to build a recommendation engine for {company}.",
    "Our {industry} data team needs training on machine learning operations.",
    "Interested in a strategy workshop about generative AI for {company}.",
    "Please send pricing for an integration of large language models into our CRM.",
)
# (status, share of leads older than a quarter, share of the last quarter's leads)
PIPELINE = (
    ("new", 0.06, 0.50),
    ("contacted", 0.16, 0.25),
    ("qualified", 0.14, 0.12),
    ("negotiating", 0.08, 0.06),
    ("converted", 0.26, 0.03),
    ("lost", 0.30, 0.04),
)
SOURCES = (
    ("website", 0.55),
    ("referral", 0.15),
    ("social_media", 0.12),
    ("event", 0.06),
    ("direct", 0.08),
    ("other", 0.04),
)
LOST_REASONS = ("budget", "timing", "chose a competitor", "no response", "not a fit")
ACTIVITY_TYPES = (
    ("note", 0.30),
    ("email", 0.35),
    ("call", 0.20),
    ("meeting", 0.10),
    ("form_submitted", 0.05),
)
CONSULTATION_TYPES = ("discovery", "technical", "strategy", "implementation", "support")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)


# content and chat
TOPICS = (
    "generative AI",
    "machine learning",
    "data strategy",
    "document processing",
    "demand forecasting",
    "customer support automation",
    "computer vision",
    "recommendation engines",
    "MLOps",
    "large language models",
    "fraud detection",
    "predictive maintenance",
    "knowledge search",
    "AI governance",
    "data platforms",
    "speech recognition",
    "process mining",
    "pricing optimisation",
    "churn prediction",
    "AI training for teams",
)
TITLES = (
    "{topic} in {industry}: where to start",
    "what {topic} changed for a {industry} team",
    "a practical guide to {topic}",
    "{topic}: five questions before you build",
    "how we deliver {topic} projects",
    "the cost of {topic}, honestly",
    "{topic} for {industry}",
)
SENTENCES = (
    "Most {industry} teams start with {topic} where the data already exists.",
    "We scoped the first {topic} use case in {n} days and shipped a prototype soon after.",
    "{company} measured the effect of {topic} against a baseline before rolling it out.",
    "A good {topic} project begins with the business question, not the model.",
    "The hardest part of {topic} is rarely the algorithm: it is the data pipeline around it.",
    "We train your engineers so that {topic} stays maintainable after we leave.",
    "Privacy and security reviews are part of every {topic} engagement from day one.",
    "In {industry}, {topic} paid for itself within {n} weeks in our last project.",
)
QUESTIONS = (
    "How much does a {topic} project cost?",
    "Do you have experience with {topic} in {industry}?",
    "How long does it take to build a {topic} prototype?",
    "Can you help our team learn {topic}?",
    "What data do we need for {topic}?",
    "Can I book a consultation about {topic}?",
    "Which services do you offer for {industry} companies?",
)
TECHNOLOGIES = (
    "Python",
    "PostgreSQL",
    "pgvector",
    "PyTorch",
    "scikit-learn",
    "LightGBM",
    "FastAPI",
    "Kubernetes",
    "LLM APIs",
    "Airflow",
    "dbt",
    "Spark",
)
PAGE_TYPES = (("blog", 0.7), ("landing", 0.1), ("service", 0.05), ("custom", 0.15))
SECTIONS = {"blog": "blog", "landing": "lp", "service": "offers", "custom": "info"}
# an item's life: (state, share)
CONTENT_STATES = (
    ("published", 0.74),
    ("expiring", 0.03),
    ("expired", 0.03),
    ("draft", 0.1),
    ("scheduled", 0.03),
    ("archived", 0.07),
)
ANSWER_SECONDS = dt.timedelta(seconds=12)  # an answer comes within this of its question
MAX_TURNS = 300  # questions in the longest generated conversation
VIEW_DAYS = 30  # the public items' daily views, kept for this many days
# the LLM answering on a day: (from this many days ago, model), oldest first
MODEL_VERSIONS = (
    (240, "gpt-4o-2024-08-06"),
    (120, "gpt-4o-mini-2024-07-18"),
    (0, "gpt-4.1-mini-2025-04-14"),
)


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind a scale asks for."""

    scale: float
    users: int
    leads: int
    activities: int
    bookings: int
    pages: int
    case_studies: int
    testimonials: int
    conversations: int
    messages: int
    audit: int
    events: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        if scale <= 0:
            raise ValueError("the scale must be positive")
        n = {k: max(1, round(v * scale)) for k, v in BASE.items()}
        return cls(
            scale=scale,
            audit=round(AUDIT_ROWS * scale),
            events=round(EVENTS * scale),
            messages=n["conversations"] * MESSAGES_PER_CONVERSATION,
            **n,
        )


@dataclass
class Report:
    plan: Plan
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


Progress = Callable[[str, int, int], None]


def bar(stream: Any = sys.stderr) -> Progress:
    """A one-line progress bar per table on ``stream``."""
    started: dict[str, float] = {}

    def show(table: str, done: int, total: int) -> None:
        begun = started.setdefault(table, time.monotonic())
        share = done / total if total else 1.0
        rate = done / max(time.monotonic() - begun, 1e-6)
        filled = int(share * 30)
        stream.write(
            f"\r{table:<16} {'█' * filled}{'░' * (30 - filled)} {share:4.0%} "
            f"{done:>10,}/{total:,}  {rate:9,.0f} rows/s"
        )
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


class _Random(random.Random):
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.getrandbits(128), version=4)

    def pick(self, weighted: Sequence[tuple[str, float]]) -> str:
        return self.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]

    def heavy(self, mean: float, alpha: float = 1.6, cap: int = 10_000) -> int:
        """A heavy-tailed count (Pareto) with about the given mean: most small, a few huge."""
        scale = mean * (alpha - 1) / alpha
        return min(cap, int(scale * self.paretovariate(alpha)))


def _traffic(moment: dt.datetime) -> float:
    """Relative traffic at a moment: a weekly rhythm and a summer and December dip."""
    weekday = (1.25, 1.3, 1.25, 1.2, 1.0, 0.35, 0.3)[moment.weekday()]
    season = {7: 0.75, 8: 0.6, 12: 0.7}.get(moment.month, 1.0)
    hour = 1.0 if 8 <= moment.hour < 19 else 0.25
    return weekday * season * hour


def _moment(rng: _Random, start: dt.datetime, end: dt.datetime, growth: float = 2.0) -> dt.datetime:
    """A moment between start and end, ``growth`` times as likely at the end as at the start,
    shaped by ``_traffic`` (rejection sampling)."""
    span = (end - start).total_seconds()
    while True:
        # the density rises linearly from 1 to growth: invert its CDF
        u = rng.random()
        x = u if growth == 1 else (math.sqrt(1 + u * (growth**2 - 1)) - 1) / (growth - 1)
        moment = start + dt.timedelta(seconds=x * span)
        if rng.random() * 1.3 <= _traffic(moment):
            return moment


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass
class _Person:
    id: uuid.UUID
    email: str
    first: str
    last: str
    company: str | None
    created_at: dt.datetime


class Generator:
    def __init__(self, plan: Plan, seed: int, as_of: dt.datetime, password_hash: str) -> None:
        self.plan = plan
        self.rng = _Random(seed)
        self.now = as_of
        self.password_hash = password_hash
        self.clients: list[_Person] = []
        self.staff: list[uuid.UUID] = []
        self.users: list[_Person] = []
        self.case_studies: list[uuid.UUID] = []
        self.public: list[tuple[str, uuid.UUID]] = []  # (content kind, id) of live items
        self.sources: list[dict[str, str]] = []  # what an answer may cite: the live items
        # (id, seed, started, turns) per generated conversation, until its messages are written
        self.conversations: list[tuple[uuid.UUID, int, dt.datetime, int]] = []
        self._source_weights: list[float] = []
        self._topic_weights = [1 / (rank + 1) for rank in range(len(TOPICS))]

    # users ---------------------------------------------------------------------------------
    def users_rows(self) -> Iterator[tuple[Any, ...]]:
        rng, now = self.rng, self.now
        staff = max(2, self.plan.users // 1000)
        for i in range(self.plan.users):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{last.lower()}.{i}@{EMAIL_DOMAIN}"
            created = _moment(rng, now - dt.timedelta(days=3 * 365), now, growth=3.0)
            if i < staff:
                role, status = ("super_admin" if i == 0 else "admin"), "active"
            else:
                role = "client" if rng.random() < 0.6 else "visitor"
                status = rng.pick(
                    (
                        ("active", 0.85),
                        ("pending_verification", 0.10),
                        ("inactive", 0.03),
                        ("suspended", 0.02),
                    )
                )
            logins = 0 if status == "pending_verification" else rng.heavy(12)
            last_login = created + (now - created) * (1 - rng.random() ** 3) if logins else None
            company = rng.choice(COMPANIES) if rng.random() < 0.7 else None
            person = _Person(rng.uuid(), email, first, last, company, created)
            self.users.append(person)
            if role in ("admin", "super_admin"):
                self.staff.append(person.id)
            elif role == "client":
                self.clients.append(person)
            yield (
                person.id,
                email,
                self.password_hash,
                first,
                last,
                company,
                role,
                status,
                status != "pending_verification",
                last_login,
                logins,
                _json({"generated": True}),
                created,
                last_login or created,
                role in ("admin", "super_admin"),
            )

    USERS = (
        "id",
        "email",
        "password_hash",
        "first_name",
        "last_name",
        "company",
        "role",
        "status",
        "email_verified",
        "last_login",
        "login_count",
        "metadata",
        "created_at",
        "updated_at",
        "accepts_leads",
    )

    # leads and their activities ------------------------------------------------------------
    LEADS = (
        "id",
        "user_id",
        "email",
        "first_name",
        "last_name",
        "company",
        "message",
        "inquiry_type",
        "status",
        "source",
        "source_details",
        "assigned_to",
        "tags",
        "conversion_date",
        "lost_reason",
        "last_activity_at",
        "first_contacted_at",
        "created_at",
        "updated_at",
    )
    ACTIVITIES = (
        "id",
        "lead_id",
        "user_id",
        "activity_type",
        "description",
        "metadata",
        "created_at",
    )

    def leads_rows(self, activities: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Leads; each lead's activities are appended to ``activities`` (written after)."""
        rng, now = self.rng, self.now
        per_lead = self.plan.activities / self.plan.leads
        quarter = now - dt.timedelta(days=91)
        for _ in range(self.plan.leads):
            created = _moment(rng, now - dt.timedelta(days=2 * 365), now)
            recent = created > quarter
            status = rng.choices(
                [p[0] for p in PIPELINE], [p[2] if recent else p[1] for p in PIPELINE]
            )[0]
            linked = self.clients and rng.random() < 0.1
            if linked:
                person = rng.choice(self.clients)
                user_id, first, last = person.id, person.first, person.last
                email, company = person.email, person.company
            else:
                user_id = None
                first, last = rng.choice(FIRST), rng.choice(LAST)
                company = rng.choice(COMPANIES) if rng.random() < 0.8 else None
                email = (
                    f"{first.lower()}.{rng.randrange(10**7)}@{(company or 'mail').lower()}.example"
                )
            lead_id = rng.uuid()
            contacted = None
            if status != "new":
                contacted = created + dt.timedelta(hours=rng.lognormvariate(2.3, 1.2))
                contacted = min(contacted, now)
            # activities: more for leads further down the pipeline, heavy-tailed
            weight = {"new": 0.4, "contacted": 0.9, "lost": 1.0, "qualified": 1.3}.get(status, 1.8)
            count = 1 + rng.heavy(max(per_lead * weight - 1, 0.2))
            last_at = created
            for _ in range(count):
                at = created + (now - created) * rng.random() ** 2
                last_at = max(last_at, at)
                kind = rng.pick(ACTIVITY_TYPES)
                activities.append(
                    (
                        rng.uuid(),
                        lead_id,
                        rng.choice(self.staff) if kind != "form_submitted" else None,
                        kind,
                        f"{kind.replace('_', ' ').capitalize()} with {first} {last}",
                        _json({"generated": True}),
                        at,
                    )
                )
            industry = rng.choice(INDUSTRIES)
            yield (
                lead_id,
                user_id,
                email,
                first,
                last,
                company,
                rng.choice(MESSAGES).format(industry=industry, company=company or "our company"),
                rng.choice(INQUIRIES),
                status,
                rng.pick(SOURCES),
                _json(
                    {
                        "industry": industry,
                        "utm_source": rng.choice(("google", "linkedin", "newsletter", "direct")),
                    }
                ),
                rng.choice(self.staff) if status != "new" else None,
                _json(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2, 3)))),
                (contacted or created) + dt.timedelta(days=rng.randrange(1, 90))
                if status == "converted"
                else None,
                rng.choice(LOST_REASONS) if status == "lost" else None,
                last_at,
                contacted,
                created,
                last_at,
            )

    # bookings ------------------------------------------------------------------------------
    BOOKINGS = (
        "id",
        "user_id",
        "service_id",
        "consultation_type",
        "scheduled_at",
        "duration_minutes",
        "buffer_minutes",
        "status",
        "meeting_link",
        "notes",
        "completed_at",
        "cancelled_at",
        "cancellation_reason",
        "reminder_sent",
        "created_at",
        "updated_at",
    )

    def bookings_rows(self, services: Sequence[tuple[uuid.UUID, int]]) -> Iterator[tuple[Any, ...]]:
        """Bookings over two years and the coming two months. Pending and confirmed ones (the
        future) sit in distinct slots, as the no-overlap constraint demands; a client's share
        of the bookings is heavy-tailed."""
        rng, now = self.rng, self.now
        clients = self.clients or self.users
        # Zipf-like; cumulative once, not per draw (choices() sums plain weights every call)
        weights = list(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(clients))))
        taken: set[dt.datetime] = set()
        day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(self.plan.bookings):
            person = rng.choices(clients, cum_weights=weights)[0]
            service_id, minutes = rng.choice(services)
            future = rng.random() < 0.05
            status = "cancelled"
            if future:
                for _attempt in range(20):
                    day = day0 + dt.timedelta(days=rng.randrange(2, 60))
                    if day.weekday() >= 5:
                        continue
                    # slots every four hours leave room for the longest service and its buffer
                    at = day + dt.timedelta(hours=rng.choice((8, 12)))
                    if at not in taken:
                        taken.add(at)
                        status = "confirmed" if rng.random() < 0.6 else "pending"
                        break
                else:
                    at = day0 + dt.timedelta(days=rng.randrange(2, 60), hours=9)
            else:
                at = _moment(rng, now - dt.timedelta(days=2 * 365), now - dt.timedelta(hours=2))
                at = at.replace(minute=rng.choice((0, 30)), second=0, microsecond=0)
                status = rng.pick((("completed", 0.75), ("cancelled", 0.17), ("no_show", 0.08)))
            created = at - dt.timedelta(days=rng.lognormvariate(1.8, 0.9))
            created = min(created, now - dt.timedelta(minutes=5))
            done = at + dt.timedelta(minutes=minutes) if status == "completed" else None
            cancelled = created + (at - created) * rng.random() if status == "cancelled" else None
            yield (
                rng.uuid(),
                person.id,
                service_id,
                rng.choice(CONSULTATION_TYPES),
                at,
                minutes,
                15,
                status,
                "https://meet.example/" + rng.uuid().hex[:12] if status != "pending" else None,
                "Looking forward to it." if rng.random() < 0.3 else None,
                done,
                cancelled,
                "schedule conflict" if cancelled else None,
                at < now,
                created,
                done or cancelled or created,
            )

    # content: pages, case studies, testimonials --------------------------------------------
    PAGES = (
        "id",
        "title",
        "slug",
        "page_type",
        "content",
        "meta_title",
        "meta_description",
        "meta_keywords",
        "status",
        "published_at",
        "expires_at",
        "author_id",
        "created_at",
        "updated_at",
    )

    def _topic(self) -> str:
        """A topic, Zipf-skewed: a few are what most of the site is about."""
        return self.rng.choices(TOPICS, self._topic_weights)[0]

    def _window(self) -> tuple[str, dt.datetime | None, dt.datetime | None, dt.datetime]:
        """An item's (status, published_at, expires_at, created_at): most published over
        three years (more lately), some drafts, a few scheduled, archived or expired."""
        rng, now = self.rng, self.now
        created = _moment(rng, now - dt.timedelta(days=3 * 365), now, growth=2.5)
        kind = rng.pick(CONTENT_STATES)
        if kind == "draft":
            return "draft", None, None, created
        published = created + dt.timedelta(hours=rng.lognormvariate(2.5, 1.0))
        published = min(published, now - dt.timedelta(minutes=1))
        if kind == "scheduled":  # goes live by itself in the coming month
            return "published", now + dt.timedelta(hours=rng.randrange(1, 720)), None, created
        if kind == "archived":
            return "archived", published, None, created
        expires = None
        if kind == "expired":
            expires = published + (now - published) * rng.random()
        elif kind == "expiring":
            expires = now + dt.timedelta(days=rng.randrange(1, 90))
        return "published", published, expires, created

    def _live(
        self, status: str, published: dt.datetime | None, expires: dt.datetime | None
    ) -> bool:
        return (
            status == "published"
            and published is not None
            and published <= self.now
            and (expires is None or expires > self.now)
        )

    def page_rows(self) -> Iterator[tuple[Any, ...]]:
        """Pages: mostly blog posts, some landing, service and custom pages; a heading and a
        few paragraphs (and sometimes a list and a call to action) each."""
        rng = self.rng
        for i in range(self.plan.pages):
            page_type = rng.pick(PAGE_TYPES)
            topic = self._topic()
            industry = rng.choice(INDUSTRIES)
            title = rng.choice(TITLES).format(topic=topic, industry=industry).capitalize()
            words = "-".join(w for w in title.lower().replace(":", "").split()[:6] if w.isalnum())
            slug = f"{SECTIONS[page_type]}/{words or 'page'}-{i}"
            blocks: list[dict[str, Any]] = [{"type": "heading", "level": 2, "text": title}]
            for _ in range(1 + rng.heavy(3, cap=30)):
                blocks.append({"type": "paragraph", "text": self._prose(topic, industry, 3)})
            if rng.random() < 0.3:
                items = rng.sample(TOPICS, 3)
                blocks.append({"type": "list", "style": "bulleted", "items": items})
            if page_type in ("landing", "service") or rng.random() < 0.2:
                blocks.append({"type": "cta", "label": "Book a consultation", "href": "/book"})
            status, published, expires, created = self._window()
            page_id = rng.uuid()
            if self._live(status, published, expires):
                self.public.append(("page", page_id))
                self.sources.append({"kind": "page", "title": title, "path": f"/{slug}"})
            yield (
                page_id,
                title,
                slug,
                page_type,
                _json({"blocks": blocks}),
                title[:60] if rng.random() < 0.6 else None,
                self._prose(topic, industry, 1)[:160] if rng.random() < 0.7 else None,
                ", ".join(rng.sample(TOPICS, 3)) if rng.random() < 0.4 else None,
                status,
                published,
                expires,
                rng.choice(self.staff),
                created,
                max(d for d in (created, published, expires) if d is not None and d <= self.now)
                if published is not None
                else created,
            )

    CASE_STUDIES = (
        "id",
        "title",
        "slug",
        "client_name",
        "industry",
        "challenge",
        "solution",
        "results",
        "technologies",
        "metrics",
        "status",
        "published_at",
        "expires_at",
        "author_id",
        "sort_order",
        "meta_description",
        "created_at",
        "updated_at",
    )

    def case_study_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for i in range(self.plan.case_studies):
            topic, industry = self._topic(), rng.choice(INDUSTRIES)
            company = rng.choice(COMPANIES)
            title = f"{company}: {topic} for {industry}"
            slug = f"{company.lower()}-{topic.replace(' ', '-').lower()}-{i}"
            status, published, expires, created = self._window()
            case_id = rng.uuid()
            self.case_studies.append(case_id)
            if self._live(status, published, expires):
                self.public.append(("case_study", case_id))
                path = f"/case-studies/{slug}"
                self.sources.append({"kind": "case_study", "title": title, "path": path})
            yield (
                case_id,
                title,
                slug,
                f"{company} {rng.choice(('Group', 'Ltd', 'GmbH', 'Inc'))}",
                industry,
                self._prose(topic, industry, 2),
                self._prose(topic, industry, 3),
                self._prose(topic, industry, 2),
                _json(rng.sample(TECHNOLOGIES, rng.randrange(1, 5))),
                _json(
                    {
                        "timeSaved": f"{rng.randrange(10, 80)}%",
                        "paybackMonths": rng.randrange(2, 18),
                    }
                ),
                status,
                published,
                expires,
                rng.choice(self.staff),
                rng.randrange(0, 20),
                self._prose(topic, industry, 1)[:160],
                created,
                published if published is not None and published <= self.now else created,
            )

    TESTIMONIALS = (
        "id",
        "client_name",
        "client_title",
        "client_company",
        "content",
        "rating",
        "case_study_id",
        "is_featured",
        "sort_order",
        "status",
        "published_at",
        "author_id",
        "created_at",
        "updated_at",
    )

    def testimonial_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for _ in range(self.plan.testimonials):
            status, published, _expires, created = self._window()
            yield (
                rng.uuid(),
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                rng.choice(("CTO", "Head of Data", "COO", "Founder", "VP Engineering")),
                rng.choice(COMPANIES),
                self._prose(self._topic(), rng.choice(INDUSTRIES), 2),
                rng.choices((5, 4, 3), (0.7, 0.25, 0.05))[0],
                rng.choice(self.case_studies) if self.case_studies and rng.random() < 0.3 else None,
                rng.random() < 0.1,
                rng.randrange(0, 20),
                status,
                published,
                rng.choice(self.staff),
                created,
                published if published is not None and published <= self.now else created,
            )

    def _prose(self, topic: str, industry: str, sentences: int) -> str:
        rng = self.rng
        return " ".join(
            rng.choice(SENTENCES).format(
                topic=topic if rng.random() < 0.6 else self._topic(),
                industry=industry,
                company=rng.choice(COMPANIES),
                n=rng.randrange(2, 60),
            )
            for _ in range(sentences)
        )

    VIEWS = ("kind", "entity_id", "day", "views")

    def view_rows(self) -> Iterator[tuple[Any, ...]]:
        """Daily views of the public items over the last ``VIEW_DAYS`` days: Zipf-like
        popularity (a few items take most reads), the weekly rhythm, some noise."""
        rng = self.rng
        order = list(self.public)
        rng.shuffle(order)
        today = self.now.date()
        for rank, (kind, item_id) in enumerate(order):
            base = 2000 / (rank + 1) ** 1.1
            for back in range(VIEW_DAYS):
                day = today - dt.timedelta(days=back)
                noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
                yield kind, item_id, day, int(base * _traffic(noon) * rng.lognormvariate(0, 0.3))

    # chat: conversations and their messages ------------------------------------------------
    CONVERSATIONS = (
        "id",
        "user_id",
        "session_id",
        "title",
        "is_active",
        "metadata",
        "created_at",
        "updated_at",
    )
    CHAT_MESSAGES = (
        "id",
        "conversation_id",
        "role",
        "content",
        "tokens_used",
        "prompt_tokens",
        "completion_tokens",
        "model_used",
        "metadata",
        "created_at",
    )

    def conversation_rows(self) -> Iterator[tuple[Any, ...]]:
        """Conversations of the last year (more lately, in office hours), a quarter of them
        signed in (a few people chat a lot), the rest anonymous visitors, with heavy-tailed
        lengths, ``plan.messages`` messages in all. Each conversation's turns come from a seed
        of its own, kept (with its id, start and length) for ``message_rows``: the messages
        are written after their conversations without being held in memory."""
        rng, now = self.rng, self.now
        count = self.plan.conversations
        shares = [rng.paretovariate(1.8) for _ in range(count)]
        total = sum(shares)
        staff = set(self.staff)
        people = [u for u in self.users if u.id not in staff]  # staff do not ask the assistant
        weights = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(people))))
        for share in shares:
            # whole turns; the longest conversations are cut at MAX_TURNS
            turns = min(MAX_TURNS, max(1, round(share / total * self.plan.messages / 2)))
            started = _moment(rng, now - dt.timedelta(days=365), now, growth=3.0)
            chats = people and rng.random() < 0.25
            person = rng.choices(people, cum_weights=weights)[0] if chats else None
            conversation_id, seed = rng.uuid(), rng.getrandbits(64)
            self.conversations.append((conversation_id, seed, started, turns))
            last_asked = self._turn_times(seed, started, turns)[-1]
            yield (
                conversation_id,
                person.id if person is not None else None,
                None if person is not None else f"{rng.getrandbits(128):032x}",
                self._question(seed, 0)[:80],
                started > now - dt.timedelta(days=30) or rng.random() < 0.3,
                "{}",
                started,
                min(last_asked + ANSWER_SECONDS, now),
            )

    def _turn_times(self, seed: int, started: dt.datetime, turns: int) -> list[dt.datetime]:
        """When each turn's question was asked: its answer (within ``ANSWER_SECONDS``) read,
        then the next question."""
        clock = _Random(seed)
        times, at = [], started
        for _ in range(turns):
            times.append(at)
            at += ANSWER_SECONDS + dt.timedelta(seconds=clock.lognormvariate(3.5, 1.0))
        return times

    def _question(self, seed: int, turn: int) -> str:
        words = _Random(seed * 1009 + turn)
        topic = words.choices(TOPICS, self._topic_weights)[0]
        return words.choice(QUESTIONS).format(topic=topic, industry=words.choice(INDUSTRIES))

    def message_rows(self) -> Iterator[tuple[Any, ...]]:
        """The conversations' messages: question and answer per turn, the answers with their
        token counts (the prompt grows with the history sent) and the model of their day."""
        rng, now = self.rng, self.now
        for conversation_id, seed, started, turns in self.conversations:
            for turn, asked in enumerate(self._turn_times(seed, started, turns)):
                question = self._question(seed, turn)
                yield (
                    rng.uuid(),
                    conversation_id,
                    "user",
                    question,
                    None,
                    None,
                    None,
                    None,
                    "{}",
                    min(asked, now),
                )
                answered = min(asked + ANSWER_SECONDS * rng.uniform(0.1, 1), now)
                topic = self._topic()
                answer = self._prose(topic, rng.choice(INDUSTRIES), rng.randrange(1, 5))
                prompt = 180 + 40 * min(turn, 20) + rng.randrange(0, 400)
                completion = len(answer) // 4 + 1
                yield (
                    rng.uuid(),
                    conversation_id,
                    "assistant",
                    answer,
                    prompt + completion,
                    prompt,
                    completion,
                    self._model(answered),
                    _json({"sources": self._cited()}),
                    answered,
                )
        self.conversations.clear()

    def _cited(self) -> list[dict[str, str]]:
        """The live items an answer names as its sources: none to three, the most popular
        cited most."""
        if not self.sources:
            return []
        weights = self._source_weights  # cumulative, made once the sources are known
        if len(weights) != len(self.sources):
            weights = list(accumulate(1 / (r + 1) for r in range(len(self.sources))))
            self._source_weights = weights
        return self.rng.choices(self.sources, cum_weights=weights, k=self.rng.randrange(0, 4))

    def _model(self, at: dt.datetime) -> str:
        """The model that answered at ``at``: the built-in assistant, or the LLM of the day
        (a new version every few months)."""
        if self.rng.random() < 0.2:
            return "dreamer-site-assistant"
        age = (self.now - at).days
        return next(model for days, model in MODEL_VERSIONS if age >= days)

    # audit: logins of the last month -------------------------------------------------------
    AUDIT = (
        "id",
        "created_at",
        "user_id",
        "action",
        "entity_type",
        "entity_id",
        "ip_address",
        "user_agent",
        "metadata",
    )

    def login_events(self, count: int) -> Iterator[tuple[Any, ...]]:
        rng, now = self.rng, self.now
        month = now - dt.timedelta(days=30)
        weights = [1 / (rank + 1) ** 0.9 for rank in range(len(self.users))]
        chosen = rng.choices(self.users, weights, k=count)
        for person in chosen:
            at = _moment(rng, month, now, growth=1.0)
            yield (
                rng.uuid(),
                at,
                person.id,
                "auth.login",
                "user",
                person.id,
                f"198.51.100.{rng.randrange(1, 255)}",
                rng.choice(AGENTS),
                _json({"generated": True, "db_user": "dreamer_auth"}),
            )

    EVENTS = (
        "id",
        "created_at",
        "user_id",
        "session_id",
        "visitor_hash",
        "event_type",
        "page_url",
        "path",
        "referrer",
        "utm_source",
        "properties",
        "ip_address",
        "browser",
        "os",
        "device",
    )

    def event_rows(self, count: int) -> Iterator[tuple[Any, ...]]:
        """Visits of the last 30 days: a visitor (hashed for the day), a source, a few events
        on Zipf-distributed paths; a tenth of them signed in."""
        rng, now = self.rng, self.now
        month = now - dt.timedelta(days=30)
        path_weights = [1 / (rank + 1) for rank in range(len(PATHS))]
        kinds = [k for k, _ in KINDS]
        kind_weights = [w for _, w in KINDS]
        sources = [(r, u) for r, u, _ in VISIT_SOURCES]
        source_weights = [w for _, _, w in VISIT_SOURCES]
        made = 0
        while made < count:
            at = _moment(rng, month, now, growth=1.0)
            visitor = f"{rng.getrandbits(128):032x}"
            referrer, utm = rng.choices(sources, source_weights)[0]
            person = rng.choice(self.users).id if rng.random() < 0.1 else None
            browser, system, device = rng.choice(
                (
                    ("Chrome", "Windows", "desktop"),
                    ("Safari", "iOS", "mobile"),
                    ("Firefox", "Linux", "desktop"),
                    ("Chrome", "Android", "mobile"),
                )
            )
            network = f"198.51.{rng.randrange(0, 255)}.0/24"
            for i in range(min(rng.heavy(5, cap=40), count - made)):
                kind = "page_view" if i == 0 else rng.choices(kinds, kind_weights)[0]
                path = rng.choices(PATHS, path_weights)[0]
                yield (
                    rng.uuid(),
                    min(at + dt.timedelta(seconds=20 * i), now),
                    person,
                    visitor,
                    visitor,
                    kind,
                    f"https://dreamer.example{path}",
                    path,
                    referrer if i == 0 else None,
                    utm if i == 0 else None,
                    "{}",
                    network,
                    browser,
                    system,
                    device,
                )
                made += 1


# The hourly usage chat_usage_hit() and chat_usage_add() keep, computed once over the
# generated answers (a question counts under the model that answered it).
CHAT_USAGE = """
INSERT INTO chat_usage (subject, user_id, hour, model, messages, prompt_tokens,
                        completion_tokens)
SELECT coalesce('user:' || c.user_id::text, 'visitor:' || c.session_id), c.user_id,
       date_trunc('hour', m.created_at), m.model_used, count(*), sum(m.prompt_tokens),
       sum(m.completion_tokens)
FROM chat_messages m JOIN chat_conversations c ON c.id = m.conversation_id
WHERE m.role = 'assistant'
GROUP BY 1, 2, 3, 4
ON CONFLICT (subject, hour, model) DO UPDATE
    SET messages = chat_usage.messages + EXCLUDED.messages,
        prompt_tokens = chat_usage.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = chat_usage.completion_tokens + EXCLUDED.completion_tokens
"""

# The roll-ups analytics_ingest() keeps, computed once over the generated events.
ROLL_UPS = (
    """
    INSERT INTO analytics_daily (day, event_type, path, events)
    SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, coalesce(path, ''), count(*)
    FROM analytics_events GROUP BY 1, 2, 3
    ON CONFLICT (day, event_type, path) DO UPDATE SET events = EXCLUDED.events
    """,
    """
    INSERT INTO analytics_daily_sources (day, referrer, utm_source, utm_medium, utm_campaign,
                                         visits)
    SELECT day, coalesce(referrer, ''), coalesce(utm_source, ''), '', '', count(*)
    FROM (SELECT DISTINCT ON (1, visitor_hash) (created_at AT TIME ZONE 'UTC')::date AS day,
                 referrer, utm_source
          FROM analytics_events WHERE event_type = 'page_view' AND visitor_hash IS NOT NULL
          ORDER BY 1, visitor_hash, created_at) first_views
    GROUP BY 1, 2, 3
    ON CONFLICT (day, referrer, utm_source, utm_medium, utm_campaign)
        DO UPDATE SET visits = EXCLUDED.visits
    """,
)


async def _copy(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterator[tuple[Any, ...]] | Sequence[tuple[Any, ...]],
    total: int,
    progress: Progress,
) -> int:
    done = 0
    progress(table, 0, total)
    chunk: list[tuple[Any, ...]] = []

    async def flush() -> None:
        nonlocal done
        # PostgreSQL refuses COPY into a table whose RLS applies to the one copying; the owner
        # is exempt from its table's policies only while they are not forced, so for this
        # transaction alone they are not (other sessions wait on the lock and never see it).
        async with conn.transaction():
            await conn.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            await conn.copy_records_to_table(table, records=chunk, columns=list(columns))
            await conn.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        done += len(chunk)
        chunk.clear()
        progress(table, done, max(total, done))

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            await flush()
    if chunk:
        await flush()
    return done


async def generate(
    owner_url: str,
    plan: Plan,
    *,
    seed: int = 1,
    as_of: dt.date | None = None,
    password_hash: str,
    progress: Progress | None = None,
) -> Report:
    """Load ``plan``'s rows into the (migrated, seeded) database of ``owner_url``."""
    progress = progress or (lambda _table, _done, _total: None)
    day = as_of or dt.datetime.now(dt.UTC).date()
    now = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    report = Report(plan)
    started = time.monotonic()
    conn = await asyncpg.connect(plain_url(owner_url))
    try:
        await conn.execute("SELECT ensure_monthly_partitions('audit_logs'::regclass)")
        services = [
            (row["id"], row["duration_minutes"])
            for row in await conn.fetch(
                "SELECT id, duration_minutes FROM services WHERE is_active ORDER BY slug"
            )
        ]
        if not services:
            raise ValueError("no active services: seed the database first (dreamer seed)")
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE $1)", f"%@{EMAIL_DOMAIN}"
        ):
            raise ValueError(
                "this database already holds a generated data set (or part of one, if a load"
                " was interrupted): generate into a fresh DREAMER_HOME or database"
            )
        audit_before = await conn.fetchval("SELECT count(*) FROM audit_logs")
        gen = Generator(plan, seed, now, password_hash)
        report.rows["users"] = await _copy(
            conn, "users", gen.USERS, gen.users_rows(), plan.users, progress
        )
        activities: list[tuple[Any, ...]] = []
        report.rows["leads"] = await _copy(
            conn, "leads", gen.LEADS, gen.leads_rows(activities), plan.leads, progress
        )
        report.rows["lead_activities"] = await _copy(
            conn, "lead_activities", gen.ACTIVITIES, activities, len(activities), progress
        )
        activities.clear()
        report.rows["service_bookings"] = await _copy(
            conn,
            "service_bookings",
            gen.BOOKINGS,
            gen.bookings_rows(services),
            plan.bookings,
            progress,
        )
        written = await conn.fetchval("SELECT count(*) FROM audit_logs") - audit_before
        logins = max(plan.audit - written, 0)
        added = await _copy(
            conn, "audit_logs", gen.AUDIT, gen.login_events(logins), logins, progress
        )
        report.rows["audit_logs"] = written + added
        # the site and the chat (their audit rows come on top of the plan's share); the views
        # are of the items found live, so their count is known once the items are made
        site: tuple[tuple[str, Sequence[str], Callable[[], Iterator[Any]], Callable[[], int]], ...]
        site = (
            ("content_pages", gen.PAGES, gen.page_rows, lambda: plan.pages),
            ("case_studies", gen.CASE_STUDIES, gen.case_study_rows, lambda: plan.case_studies),
            ("testimonials", gen.TESTIMONIALS, gen.testimonial_rows, lambda: plan.testimonials),
            ("content_views", gen.VIEWS, gen.view_rows, lambda: len(gen.public) * VIEW_DAYS),
            (
                "chat_conversations",
                gen.CONVERSATIONS,
                gen.conversation_rows,
                lambda: plan.conversations,
            ),
            ("chat_messages", gen.CHAT_MESSAGES, gen.message_rows, lambda: plan.messages),
        )
        for table, columns, rows, total in site:
            report.rows[table] = await _copy(conn, table, columns, rows(), total(), progress)
        await conn.execute(CHAT_USAGE)
        report.rows["audit_logs"] = await conn.fetchval("SELECT count(*) FROM audit_logs")
        await conn.execute("SELECT ensure_monthly_partitions('analytics_events'::regclass)")
        report.rows["analytics_events"] = await _copy(
            conn, "analytics_events", gen.EVENTS, gen.event_rows(plan.events), plan.events, progress
        )
        for statement in ROLL_UPS:
            await conn.execute(statement)
        # the business roll-ups of the days the triggers marked (the reports would on first read)
        await conn.execute("SELECT report_refresh()")
        for table in (
            "users",
            "leads",
            "lead_activities",
            "service_bookings",
            "audit_logs",
            "analytics_events",
            "analytics_daily",
            "analytics_daily_sources",
            "report_daily",
            "report_daily_leads",
            "report_daily_revenue",
            "content_pages",
            "case_studies",
            "testimonials",
            "content_views",
            "content_revisions",
            "chat_conversations",
            "chat_messages",
            "chat_usage",
        ):
            await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()
    report.seconds = time.monotonic() - started
    return report
