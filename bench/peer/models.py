"""The tables the peer reads, as unmanaged Django models of the same database."""

from __future__ import annotations

from django.db import models


class Service(models.Model):
    id = models.UUIDField(primary_key=True)
    name = models.TextField()
    slug = models.TextField()
    description = models.TextField(null=True)
    features = models.JSONField()
    pricing = models.JSONField()
    duration_minutes = models.IntegerField()
    is_active = models.BooleanField()
    sort_order = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "services"
        app_label = "peer"


class Booking(models.Model):
    id = models.UUIDField(primary_key=True)
    user_id = models.UUIDField(null=True)
    service_id = models.UUIDField()
    consultation_type = models.TextField()
    scheduled_at = models.DateTimeField()
    duration_minutes = models.IntegerField()
    time_zone = models.TextField()
    status = models.TextField()
    meeting_link = models.TextField(null=True)
    notes = models.TextField(null=True)
    cancellation_reason = models.TextField(null=True)
    cancelled_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)
    reminder_sent = models.BooleanField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "service_bookings"
        app_label = "peer"
