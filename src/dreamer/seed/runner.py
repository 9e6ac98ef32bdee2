"""Run the seed in one owner transaction."""

from __future__ import annotations

from dreamer.core.config import Settings
from dreamer.core.security import Passwords
from dreamer.db.session import SYSTEM, Database
from dreamer.seed.service import SeedReport, has_users, seed


async def run_seed(
    settings: Settings, owner_url: str, *, demo: bool, only_if_empty: bool
) -> SeedReport | None:
    """Seed; with ``only_if_empty`` (the automatic first-start seed) skip a used database."""
    db = Database(owner_url, pool_size=1)
    try:
        async with db.transaction(SYSTEM) as session:
            if only_if_empty and await has_users(session):
                return None
            return await seed(
                session,
                Passwords(),
                demo=demo,
                admin_email=settings.dreamer_admin_email,
                admin_password=settings.dreamer_admin_password,
            )
    finally:
        await db.dispose()
