"""The variance policy admin page: the policy in force, saving a new version, refusals that save
nothing, and administrators only."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from models.tables import VariancePolicyVersion
from tests.web.conftest import csrf_of

PAGE = "/admin/variance-policy"


@pytest.fixture
async def admin(browser_session) -> httpx.AsyncClient:
    return await browser_session("admin")


async def post(client: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    """Submit the form the way a browser does: with the session's CSRF token."""
    token = csrf_of((await client.get("/profile")).text)
    return await client.post(PAGE, data={"csrf_token": token, **data})


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def saved_versions(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(VariancePolicyVersion))


async def test_the_page_shows_the_shipped_policy_of_five_percent_and_no_amount(admin):
    response = await admin.get(PAGE)
    page = text_of(response)
    assert response.status_code == 200, response.text
    assert "Version 1, in force" in page
    assert '<dd id="current-percent">5 %</dd>' in page
    assert '<dd id="current-amount">none</dd>' in page
    assert 'name="threshold_percent" class="num" value="5"' in page
    assert 'name="threshold_amount" class="num" value=""' in page
    assert '<a href="/admin/variance-policy" class="here" aria-current="page">' in page


async def test_saving_seven_and_a_half_percent_and_20000_makes_version_2(
    admin, api, session_factory
):
    response = await post(admin, {"threshold_percent": "7.5", "threshold_amount": "20000"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == PAGE

    page = text_of(await admin.get(PAGE))
    assert "Saved as version 2." in page
    assert "Version 2, in force" in page
    assert '<dd id="current-percent">7.5 %</dd>' in page
    assert '<dd id="current-amount">CN¥20,000.00</dd>' in page
    assert 'name="threshold_percent" class="num" value="7.5"' in page
    assert 'name="threshold_amount" class="num" value="20000"' in page
    assert "Saved as version 2." not in text_of(await admin.get(PAGE))  # flashed once

    in_force = (await (await api("ops")).get("/api/v1/policy/variance")).json()
    assert in_force["version"] == 2
    assert Decimal(in_force["threshold_percent"]) == Decimal("7.5")
    assert Decimal(in_force["threshold_amount"]) == Decimal("20000")
    assert await saved_versions(session_factory) == 1


async def test_a_percent_sign_and_thousands_separators_are_understood(admin, api):
    response = await post(
        admin, {"threshold_percent": " 12.50 % ", "threshold_amount": "1,500,000.50"}
    )
    assert response.status_code == 303, response.text

    in_force = (await (await api("admin")).get("/api/v1/policy/variance")).json()
    assert in_force["threshold_percent"] == "12.5"
    assert in_force["threshold_amount"] == "1500000.5"

    response = await post(admin, {"threshold_percent": "3", "threshold_amount": ""})
    assert response.status_code == 303, response.text
    page = text_of(await admin.get(PAGE))
    assert "Saved as version 3." in page
    assert '<dd id="current-amount">none</dd>' in page


NOT_A_PERCENTAGE = "Enter the percentage as a number, like 5 or 7.5."
NOT_AN_AMOUNT = "Enter the amount as a number, like 20000, or leave it blank for none."


@pytest.mark.parametrize(
    ("percent", "amount", "message", "refused_field"),
    [
        ("five", "", NOT_A_PERCENTAGE, "threshold_percent"),
        ("", "20000", NOT_A_PERCENTAGE, "threshold_percent"),
        ("7,5", "", NOT_A_PERCENTAGE, "threshold_percent"),
        ("-1", "", "The percentage cannot be negative.", "threshold_percent"),
        ("100.5", "", "The percentage cannot be over 100.", "threshold_percent"),
        ("7.1234", "", "Give the percentage with at most three decimals.", "threshold_percent"),
        ("5", "lots", NOT_AN_AMOUNT, "threshold_amount"),
        ("5", "2E+4", NOT_AN_AMOUNT, "threshold_amount"),
        ("5", "-100", "The amount cannot be negative.", "threshold_amount"),
        ("5", "10.005", "Give the amount with at most two decimals.", "threshold_amount"),
        ("5", "1" * 15, "The amount is too large.", "threshold_amount"),
        ("-1", "lots", "The percentage cannot be negative.", "threshold_percent"),
    ],
)
async def test_bad_input_is_refused_with_the_typed_values_and_nothing_saved(
    admin, api, session_factory, percent, amount, message, refused_field
):
    response = await post(admin, {"threshold_percent": percent, "threshold_amount": amount})
    page = text_of(response)
    assert response.status_code == 422, response.text
    assert f'<div class="error-box" role="alert" id="form-error">{message}</div>' in page
    assert f'name="threshold_percent" class="num" value="{percent}"' in page
    assert f'name="threshold_amount" class="num" value="{amount}"' in page
    marked = re.findall(r'<input[^>]*aria-invalid="true"[^>]*>', page)
    assert len(marked) == 1 and f'name="{refused_field}"' in marked[0]
    assert "Version 1, in force" in page

    assert await saved_versions(session_factory) == 0
    in_force = (await (await api("admin")).get("/api/v1/policy/variance")).json()
    assert in_force["version"] == 1


async def test_only_administrators_may_see_or_change_the_variance_policy(
    browser_session, session_factory
):
    ops = await browser_session("ops")
    response = await ops.get(PAGE)
    assert response.status_code == 403
    assert "This page is for administrators." in response.text

    response = await post(ops, {"threshold_percent": "50", "threshold_amount": ""})
    assert response.status_code == 403
    assert "This page is for administrators." in response.text
    assert await saved_versions(session_factory) == 0


async def test_a_form_without_its_csrf_token_is_refused(admin, session_factory):
    response = await admin.post(PAGE, data={"threshold_percent": "50", "threshold_amount": ""})
    assert response.status_code == 403
    assert "This form has expired." in response.text
    assert await saved_versions(session_factory) == 0
