from __future__ import annotations

from django.urls import path

from bench.peer.views import CaseStudyList, OwnBookings, PageBySlug, ServiceBySlug, ServiceList

urlpatterns = [
    path("api/v1/services", ServiceList.as_view()),
    path("api/v1/services/<str:slug>", ServiceBySlug.as_view()),
    path("api/v1/bookings", OwnBookings.as_view()),
    path("api/v1/pages/<path:slug>", PageBySlug.as_view()),
    path("api/v1/case-studies", CaseStudyList.as_view()),
]
