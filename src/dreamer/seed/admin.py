"""``dreamer create-admin``: a staff account from the command line."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from dreamer.auth.service import check_password_policy, passwords_for
from dreamer.core.config import Settings
from dreamer.core.errors import ValidationFailed
from dreamer.db.session import SYSTEM, Database
from dreamer.models import User, UserRole, UserStatus


async def create_staff(
    settings: Settings,
    owner_url: str,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    role: str,
) -> str:
    try:
        check_password_policy(password, email=email)
    except ValidationFailed as exc:
        raise ValueError(exc.detail) from None
    password_hash = passwords_for(settings).hash(password)
    db = Database(owner_url, pool_size=1)
    try:
        async with db.transaction(SYSTEM) as session:
            existing = await session.scalar(
                select(User.id).where(func.lower(User.email) == email.strip().lower())
            )
            values = {
                "role": UserRole(role),
                "status": UserStatus.ACTIVE,
                "email_verified": True,
                "password_hash": password_hash,
            }
            if existing is not None:
                await session.execute(update(User).where(User.id == existing).values(**values))
                return f"{email}: now {role}, active, password set"
            await session.execute(
                insert(User).values(
                    email=email.strip(), first_name=first_name, last_name=last_name, **values
                )
            )
            return f"{email}: created as {role}"
    finally:
        await db.dispose()
