"""What the original website reads: a top-level `token` on sign-in, `error` on every problem."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD


async def test_register_login_and_refresh_carry_a_top_level_token(
    client: httpx.AsyncClient,
) -> None:
    body = {"email": "site@example.com", "password": PASSWORD, "firstName": "S", "lastName": "U"}
    registered = (await client.post("/api/v1/auth/register", json=body)).json()
    assert registered["token"] == registered["data"]["accessToken"]
    login = (
        await client.post(
            "/api/v1/auth/login", json={"email": "site@example.com", "password": PASSWORD}
        )
    ).json()
    assert login["token"] == login["data"]["accessToken"]
    refreshed = (
        await client.post(
            "/api/v1/auth/refresh", json={"refreshToken": login["data"]["refreshToken"]}
        )
    ).json()
    assert refreshed["token"] == refreshed["data"]["accessToken"]


async def test_every_problem_carries_error_as_the_website_shows_it(
    client: httpx.AsyncClient,
) -> None:
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever!"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == wrong.json()["detail"]
    invalid = await client.post("/api/v1/contact", json={"email": "not an address"})
    assert invalid.status_code == 422 and invalid.json()["error"] == invalid.json()["detail"]
    missing = await client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"]


async def test_a_blank_contact_form_is_a_422(client: httpx.AsyncClient) -> None:
    for form in ({"name": "", "message": ""}, {"name": "Ada", "message": "   "}):
        response = await client.post("/api/v1/contact", json={"email": "b@example.com", **form})
        assert response.status_code == 422, form
