"""Authentication endpoints: tokens for API clients, or HttpOnly cookies for browsers.

**Bearer mode** (default): `login`/`register`/`refresh` return `accessToken` (a JWT, about 15
minutes) and `refreshToken` (opaque, rotated on every use). Send `Authorization: Bearer
<accessToken>`; when it expires (401), call `refresh` with the refresh token. A refresh token
works once: presenting it again ends the whole session.

**Cookie mode** (`"useCookies": true`): the tokens are set as HttpOnly cookies instead
(`dreamer_at`, and `dreamer_rt` scoped to `/api/v1/auth`), plus a readable `dreamer_csrf`
cookie. Every state-changing request authenticated by cookie must send that value back in
`X-CSRF-Token`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, params
from pydantic import BaseModel

from dreamer.auth import service
from dreamer.auth.schemas import (
    AuthOut,
    ChangePasswordIn,
    EmailIn,
    LoginIn,
    MessageOut,
    RefreshIn,
    RegisterIn,
    ResendIn,
    ResetConfirmIn,
    SessionOut,
    TokenIn,
    TokensOut,
    UserOut,
)
from dreamer.auth.tokens import TokenPair, clear_cookies, set_cookies
from dreamer.core import signing
from dreamer.core.cookies import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    REFRESH_COOKIE,
    REFRESH_COOKIE_PATH,
    check_csrf,
)
from dreamer.core.errors import Unauthorized
from dreamer.core.responses import Envelope, JSONResponse, TokenEnvelope, ok
from dreamer.deps import (
    AuthEnvDep,
    AuthSession,
    Context,
    DbSession,
    LimiterDep,
    SettingsDep,
    SignedIn,
    SigningKeyDep,
    by_email,
    by_user,
    by_user_or_email,
    rate_limit,
)
from dreamer.models import User

router = APIRouter(prefix="/auth", tags=["auth"])

RESEND_MESSAGE = "If this address has an unverified account, a new link is on its way."


Env = AuthEnvDep


def per_ip_and_account(scope: str, model: type[BaseModel]) -> list[params.Depends]:
    """The two limits of a credential form: per client IP, and per e-mail address it names."""
    return [
        rate_limit(f"{scope}:ip", f"rate_limit_{scope}_ip", body=model),
        rate_limit(f"{scope}:account", f"rate_limit_{scope}_account", subject=by_email, body=model),
    ]


def _user(user: User) -> dict[str, object]:
    return UserOut.model_validate(user).model_dump(mode="json")


def _tokens_response(
    env: service.AuthEnv,
    pair: TokenPair,
    cookies: bool,
    user: User | None = None,
    status: int = 200,
) -> JSONResponse:
    body: dict[str, object] = {
        "accessToken": pair.access_token,
        "refreshToken": None if cookies else pair.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": pair.expires_in,
    }
    if user is not None:
        body = {"user": _user(user), **body}
    response = ok(body, status=status, token=pair.access_token)
    if cookies:
        set_cookies(response, env.settings, env.secret, pair)
    return response


@router.post(
    "/register",
    status_code=201,
    response_model=TokenEnvelope[AuthOut],
    dependencies=per_ip_and_account("register", RegisterIn),
)
async def register(body: RegisterIn, db: AuthSession, ctx: Context, env: Env) -> JSONResponse:
    """Create an account (role visitor, status pending_verification) and sign it in.

    A verification mail is queued. 409 when the address is taken; 422 for a weak password.
    """
    signed = await service.register(db, env, ctx, body)
    return _tokens_response(env, signed.tokens, body.use_cookies, signed.user, status=201)


async def login_limits(
    body: LoginIn,
    request: Request,
    ctx: Context,
    settings: SettingsDep,
    key: SigningKeyDep,
    limiter: LimiterDep,
) -> None:
    """Per account *and* IP tightly, per account loosely: failures from elsewhere cannot lock a
    person out. A browser that signed in to this account before (its device cookie) is counted
    on its own instead, so not even a distributed attack on the account blocks it."""
    email = body.email.strip().lower()
    device = signing.device_of(key, request.cookies.get(DEVICE_COOKIE, ""), email)
    if device is not None:
        await limiter.hit("login:device", device, settings.rate_limit_login_device)
        return
    account_ip = f"{email}|{ctx.ip or '-'}"
    await limiter.hit("login:account-ip", account_ip, settings.rate_limit_login_account_ip)
    await limiter.hit("login:account", email, settings.rate_limit_login_account)


@router.post(
    "/login",
    response_model=TokenEnvelope[AuthOut],
    dependencies=[
        rate_limit("login:ip", "rate_limit_login_ip", body=LoginIn),
        Depends(login_limits),
    ],
)
async def login(
    body: LoginIn, db: AuthSession, ctx: Context, env: Env, key: SigningKeyDep
) -> JSONResponse:
    """Sign in. The same 401 answers an unknown address and a wrong password; 403 for a
    suspended or inactive account; 429 with `Retry-After` after too many attempts. A successful
    sign-in also sets `dreamer_device`, which keeps this browser from being locked out by
    failed attempts made elsewhere."""
    signed = await service.login(db, env, ctx, body.email, body.password)
    response = _tokens_response(env, signed.tokens, body.use_cookies, signed.user)
    response.set_cookie(
        DEVICE_COOKIE,
        signing.device_token(key, body.email),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        secure=env.settings.cookie_secure,
        samesite="lax",
        path=REFRESH_COOKIE_PATH,
    )
    return response


@router.post(
    "/refresh",
    response_model=TokenEnvelope[TokensOut],
    dependencies=[rate_limit("refresh:ip", "rate_limit_refresh_ip")],
)
async def refresh(
    request: Request, db: AuthSession, ctx: Context, env: Env, body: RefreshIn | None = None
) -> JSONResponse:
    """Trade a refresh token (body, or the `dreamer_rt` cookie) for a new pair."""
    token = body.refresh_token if body else None
    from_cookie = token is None
    if from_cookie:
        token = request.cookies.get(REFRESH_COOKIE)
        if token:
            check_csrf(request)
    if not token:
        raise Unauthorized("No refresh token given")
    pair = await service.refresh(db, env, ctx, token)
    return _tokens_response(env, pair, from_cookie or bool(body and body.use_cookies))


@router.post("/logout", response_model=Envelope[MessageOut])
async def logout(db: DbSession, ctx: SignedIn) -> JSONResponse:
    """End the current session (its refresh token stops working at once)."""
    await service.logout(db, ctx, everywhere=False)
    response = ok({"message": "Signed out"})
    clear_cookies(response)
    return response


@router.post("/logout-all", response_model=Envelope[MessageOut])
async def logout_all(db: DbSession, ctx: SignedIn) -> JSONResponse:
    """End every session of the account, on every device."""
    count = await service.logout(db, ctx, everywhere=True)
    response = ok({"message": f"Signed out of {count} sessions"})
    clear_cookies(response)
    return response


@router.get("/sessions", response_model=Envelope[list[SessionOut]])
async def sessions(db: DbSession, ctx: SignedIn) -> JSONResponse:
    """The account's live sessions (devices), most recently used first."""
    rows = await service.live_sessions(db, ctx)
    return ok([SessionOut.model_validate(r).model_dump(mode="json") for r in rows])


@router.delete("/sessions/{session_id}", response_model=Envelope[MessageOut])
async def revoke_session(session_id: uuid.UUID, db: DbSession, ctx: SignedIn) -> JSONResponse:
    """End one of the account's sessions; 404 when it is not one of yours or already ended."""
    await service.revoke_session(db, ctx, session_id)
    return ok({"message": "Session ended"})


@router.post(
    "/password-reset",
    response_model=Envelope[MessageOut],
    dependencies=per_ip_and_account("reset", EmailIn),
)
async def password_reset(body: EmailIn, db: AuthSession) -> JSONResponse:
    """Mail a single-use reset link (valid 1 hour). The answer never reveals whether the
    address has an account."""
    await service.request_password_reset(db, body.email)
    return ok({"message": service.RESET_MESSAGE})


@router.post("/password-reset/confirm", response_model=Envelope[MessageOut])
async def password_reset_confirm(body: ResetConfirmIn, db: AuthSession, env: Env) -> JSONResponse:
    """Set a new password with the mailed token; every session of the account ends."""
    await service.confirm_password_reset(db, env, body.token, body.password)
    return ok({"message": "Password changed; sign in with the new password"})


@router.post(
    "/password",
    response_model=Envelope[MessageOut],
    dependencies=[
        rate_limit(
            "password:account",
            "rate_limit_login_account_ip",
            subject=by_user,
            body=ChangePasswordIn,
        )
    ],
)
async def change_password(
    body: ChangePasswordIn, db: AuthSession, ctx: SignedIn, env: Env
) -> JSONResponse:
    """Change the password (the current one is required); other sessions end."""
    await service.change_password(db, env, ctx, body.current_password, body.new_password)
    return ok({"message": "Password changed"})


@router.post("/verify-email", response_model=Envelope[MessageOut])
async def verify_email(body: TokenIn, db: AuthSession) -> JSONResponse:
    """Confirm the address with the mailed token (valid 48 hours, single use)."""
    await service.verify_email(db, body.token)
    return ok({"message": "E-mail address verified"})


@router.post(
    "/verify-email/resend",
    response_model=Envelope[MessageOut],
    dependencies=[
        rate_limit("resend:ip", "rate_limit_resend_ip", body=ResendIn | None),
        rate_limit(
            "resend:account",
            "rate_limit_resend_account",
            subject=by_user_or_email,
            body=ResendIn | None,
        ),
    ],
)
async def resend_verification(
    db: AuthSession, ctx: Context, env: Env, body: ResendIn | None = None
) -> JSONResponse:
    """Send a new verification link: to the signed-in account, or to `email`."""
    await service.resend_verification(db, env, ctx, body.email if body else None)
    return ok({"message": RESEND_MESSAGE})
