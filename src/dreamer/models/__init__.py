"""All tables in one metadata (Alembic's target)."""

from dreamer.models.accounts import User, UserSession
from dreamer.models.base import (
    STAFF_ROLES,
    Base,
    BookingStatus,
    ConsultationType,
    ContentKind,
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
from dreamer.models.chat import ChatConversation, ChatMessage, ChatSettings, ChatUsage
from dreamer.models.content import (
    CaseStudy,
    ContentPage,
    ContentRedirect,
    ContentRevision,
    ContentView,
    Testimonial,
)
from dreamer.models.leads import (
    Lead,
    LeadActivity,
    LeadContactRollup,
    LeadRollup,
    LeadScoringRule,
)
from dreamer.models.logs import (
    AnalyticsDaily,
    AnalyticsDailySource,
    AnalyticsEvent,
    AnalyticsSalt,
    AnalyticsVisit,
    AuditLog,
)
from dreamer.models.newsletter import NewsletterSubscription, NewsletterSuppression
from dreamer.models.reports import ReportDaily, ReportDailyLeads, ReportDailyRevenue, ReportStale
from dreamer.models.system import (
    CacheTopic,
    GdprErasure,
    MailOutbox,
    MailStatus,
    RateLimit,
    RefreshTokenHistory,
)

metadata = Base.metadata

__all__ = [
    "STAFF_ROLES",
    "AnalyticsDaily",
    "AnalyticsDailySource",
    "AnalyticsEvent",
    "AnalyticsSalt",
    "AnalyticsVisit",
    "AuditLog",
    "AvailabilityException",
    "AvailabilitySettings",
    "Base",
    "BookingStatus",
    "CacheTopic",
    "CaseStudy",
    "ChatConversation",
    "ChatMessage",
    "ChatSettings",
    "ChatUsage",
    "ConsultationType",
    "ContentKind",
    "ContentPage",
    "ContentRedirect",
    "ContentRevision",
    "ContentStatus",
    "ContentView",
    "GdprErasure",
    "Lead",
    "LeadActivity",
    "LeadContactRollup",
    "LeadRollup",
    "LeadScoringRule",
    "LeadSource",
    "LeadStatus",
    "MailOutbox",
    "MailStatus",
    "NewsletterSubscription",
    "NewsletterSuppression",
    "PageType",
    "RateLimit",
    "RefreshTokenHistory",
    "ReportDaily",
    "ReportDailyLeads",
    "ReportDailyRevenue",
    "ReportStale",
    "Service",
    "ServiceBooking",
    "Testimonial",
    "User",
    "UserRole",
    "UserSession",
    "UserStatus",
    "metadata",
]
