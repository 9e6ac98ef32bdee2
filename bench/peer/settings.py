"""The peer of ``make bench``: the same reads in Django REST Framework, configured as Django's
deployment checklist and DRF's documentation recommend for production (DEBUG off, persistent
database connections, JSON renderer only, served by gunicorn)."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

_url = urlsplit(os.environ["PEER_DATABASE_URL"])
_query = dict(part.split("=", 1) for part in _url.query.split("&") if part)

SECRET_KEY = os.environ["PEER_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "rest_framework", "bench.peer"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bench.peer.urls"
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": unquote(_query.get("host", _url.hostname or "")),
        "PORT": _url.port or "",
        "CONN_MAX_AGE": 600,  # persistent connections, as the deployment checklist advises
        "CONN_HEALTH_CHECKS": True,
    }
}
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["bench.peer.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
