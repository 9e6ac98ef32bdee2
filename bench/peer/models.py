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


class ContentPage(models.Model):
    id = models.UUIDField(primary_key=True)
    title = models.TextField()
    slug = models.TextField()
    page_type = models.TextField()
    content = models.JSONField()
    meta_title = models.TextField(null=True)
    meta_description = models.TextField(null=True)
    meta_keywords = models.TextField(null=True)
    og_image = models.TextField(null=True)
    canonical_url = models.TextField(null=True)
    status = models.TextField()
    published_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "content_pages"
        app_label = "peer"


class CaseStudy(models.Model):
    id = models.UUIDField(primary_key=True)
    title = models.TextField()
    slug = models.TextField()
    client_name = models.TextField(null=True)
    industry = models.TextField(null=True)
    challenge = models.TextField(null=True)
    solution = models.TextField(null=True)
    results = models.TextField(null=True)
    technologies = models.JSONField()
    metrics = models.JSONField()
    featured_image = models.TextField(null=True)
    images = models.JSONField()
    sort_order = models.IntegerField()
    meta_title = models.TextField(null=True)
    meta_description = models.TextField(null=True)
    meta_keywords = models.TextField(null=True)
    status = models.TextField()
    published_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "case_studies"
        app_label = "peer"
