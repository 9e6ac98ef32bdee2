"""All tables in one metadata (Alembic's target)."""

from dreamer.models.accounts import User, UserSession
from dreamer.models.base import (
    Base,
    BookingStatus,
    ConsultationType,
    ContentStatus,
    LeadSource,
    LeadStatus,
    PageType,
    UserRole,
    UserStatus,
)
from dreamer.models.catalog import (
    AvailabilityException,
    AvailabilitySettings,
    Service,
    ServiceBooking,
)
from dreamer.models.chat import ChatConversation, ChatMessage
from dreamer.models.content import CaseStudy, ContentPage, Testimonial
from dreamer.models.leads import Lead, LeadActivity
from dreamer.models.logs import AnalyticsEvent, AuditLog
from dreamer.models.newsletter import NewsletterSubscription
from dreamer.models.system import MailOutbox, MailStatus, RateLimit, RefreshTokenHistory

metadata = Base.metadata

__all__ = [
    "AnalyticsEvent",
    "AuditLog",
    "AvailabilityException",
    "AvailabilitySettings",
    "Base",
    "BookingStatus",
    "CaseStudy",
    "ChatConversation",
    "ChatMessage",
    "ConsultationType",
    "ContentPage",
    "ContentStatus",
    "Lead",
    "LeadActivity",
    "LeadSource",
    "LeadStatus",
    "MailOutbox",
    "MailStatus",
    "NewsletterSubscription",
    "PageType",
    "RateLimit",
    "RefreshTokenHistory",
    "Service",
    "ServiceBooking",
    "Testimonial",
    "User",
    "UserRole",
    "UserSession",
    "UserStatus",
    "metadata",
]
