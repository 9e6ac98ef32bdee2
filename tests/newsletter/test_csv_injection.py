"""A visitor cannot plant a spreadsheet formula in a staff member's export."""

from __future__ import annotations

import csv
import io

import asyncpg
import httpx
import pytest

from tests.factories import make_account

# Each starts a formula in Excel, LibreOffice or Google Sheets (whitespace around a tag or a
# name is stripped on input; that form is covered by the csvio unit tests).
FORMS = ['=HYPERLINK("http://evil.example")', "+cmd|'/Ccalc'!A0", "-2+3+cmd", "@SUM(9)"]


async def _cells(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> list[str]:
    response = await client.get(path, headers=auth)
    assert response.status_code == 200
    return [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]


@pytest.mark.parametrize("form", FORMS)
async def test_public_tags_and_names_come_out_neutralised(
    client: httpx.AsyncClient, owner_conn: asyncpg.Connection, form: str
) -> None:
    subscribed = await client.post(
        "/api/v1/newsletter/subscribe", json={"email": "visitor@example.com", "tags": [form]}
    )
    assert subscribed.status_code == 202
    contact = await client.post(
        "/api/v1/contact",
        json={"name": f"{form} Smith", "email": "visitor@example.com", "company": form},
    )
    assert contact.status_code == 201
    admin = await make_account(client, owner_conn, "staff@example.com", role="admin")

    newsletter = await _cells(client, "/api/v1/newsletter/subscribers/export.csv", admin.auth)
    leads = await _cells(client, "/api/v1/leads/export.csv", admin.auth)
    assert "'" + form in newsletter  # the tag
    assert leads.count("'" + form) == 2  # first name and company
    assert form not in newsletter + leads  # never as a bare formula
