"""The peer's endpoints: the service list and service by slug, a page by slug and the
case-study list (public), own bookings (a bearer token of the API, verified with the same
secret)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions, generics, pagination, serializers

from bench.peer.models import Booking, CaseStudy, ContentPage, Service


class ServiceSerializer(serializers.ModelSerializer):
    durationMinutes = serializers.IntegerField(source="duration_minutes")
    isActive = serializers.BooleanField(source="is_active")
    sortOrder = serializers.IntegerField(source="sort_order")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "features",
            "pricing",
            "durationMinutes",
            "isActive",
            "sortOrder",
            "createdAt",
            "updatedAt",
        ]


class BookingSerializer(serializers.ModelSerializer):
    userId = serializers.UUIDField(source="user_id")
    serviceId = serializers.UUIDField(source="service_id")
    consultationType = serializers.CharField(source="consultation_type")
    scheduledAt = serializers.DateTimeField(source="scheduled_at")
    endsAt = serializers.SerializerMethodField()
    durationMinutes = serializers.IntegerField(source="duration_minutes")
    timeZone = serializers.CharField(source="time_zone")
    meetingLink = serializers.CharField(source="meeting_link")
    cancellationReason = serializers.CharField(source="cancellation_reason")
    cancelledAt = serializers.DateTimeField(source="cancelled_at")
    completedAt = serializers.DateTimeField(source="completed_at")
    reminderSent = serializers.BooleanField(source="reminder_sent")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Booking
        fields = [
            "id",
            "userId",
            "serviceId",
            "consultationType",
            "scheduledAt",
            "endsAt",
            "durationMinutes",
            "timeZone",
            "status",
            "meetingLink",
            "notes",
            "cancellationReason",
            "cancelledAt",
            "completedAt",
            "reminderSent",
            "createdAt",
            "updatedAt",
        ]

    def get_endsAt(self, booking: Booking) -> str:
        return (booking.scheduled_at + timedelta(minutes=booking.duration_minutes)).isoformat()


class Pages(pagination.PageNumberPagination):
    page_size = 20


class ServiceList(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = ServiceSerializer
    pagination_class = Pages
    queryset = Service.objects.filter(is_active=True).order_by("sort_order", "name")


class ServiceBySlug(generics.RetrieveAPIView):  # type: ignore[type-arg]
    serializer_class = ServiceSerializer
    lookup_field = "slug"
    queryset = Service.objects.filter(is_active=True)


class OwnBookings(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BookingSerializer

    def get_queryset(self) -> Any:
        if self.request.user is None:
            raise exceptions.NotAuthenticated()
        return Booking.objects.filter(user_id=self.request.user.id).order_by("scheduled_at", "id")[
            :20
        ]


def _public(queryset: Any) -> Any:
    """Published, and within its window (what Dreamer's policies state)."""
    now = timezone.now()
    return queryset.filter(status="published", published_at__lte=now).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


class PageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentPage
        fields = [
            "id",
            "title",
            "slug",
            "page_type",
            "content",
            "meta_title",
            "meta_description",
            "meta_keywords",
            "og_image",
            "canonical_url",
            "status",
            "published_at",
            "expires_at",
            "created_at",
            "updated_at",
        ]


class CaseStudySerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseStudy
        fields = "__all__"


class PageBySlug(generics.RetrieveAPIView):  # type: ignore[type-arg]
    serializer_class = PageSerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return _public(ContentPage.objects.all())


class CaseStudyList(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = CaseStudySerializer
    pagination_class = Pages

    def get_queryset(self) -> Any:
        return _public(CaseStudy.objects.all()).order_by("sort_order", "-published_at", "id")
