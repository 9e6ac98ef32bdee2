"""Seeding: the first super_admin, the default catalogue, and demo content (``--demo``)."""
