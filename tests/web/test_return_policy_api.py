"""The approval policy's amount above which a return also needs the director: set, read and
cleared through the API and the admin page (in English and Chinese), a negative or unreadable
amount refused next to its field saving nothing, and only administrators may set it."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import csrf_of
from tests.web.test_cancellation_policy_api import text_of, version_count
from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)
from tests.web.test_policy import two_stage_policy

URL = "/api/v1/policy/approval"
NEGATIVE = (
    "The amount above which the director also approves a return cannot be negative "
    "(leave it blank if the director need never approve one)."
)
NEGATIVE_ZH = "退货需总监审批的金额不能为负数（如总监无需审批退货，请留空）。"
UNREADABLE = "Returns: Enter an amount (at most two decimals), or leave it blank."


def next_to_the_field(response: httpx.Response) -> str:
    """The message shown right under the return amount's field."""
    found = re.search(r'id="return-amount-error"[^>]*>([^<]*)<', response.text)
    assert found, "no message next to the field"
    return html.unescape(found[1])


# -- the API -----------------------------------------------------------------------------------


async def test_an_administrator_sets_the_return_amount_and_approvers_read_it_to_the_cent(api):
    admin = await api("admin")
    saved = await admin.put(URL, json=two_stage_policy(return_director_above="5000.5"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["return_director_above"] == "5000.50"
    assert saved.json()["cancellation_director_above"] is None  # the two are apart
    for reader in ("director", "sales_manager"):
        in_force = (await (await api(reader)).get(URL)).json()
        assert in_force["return_director_above"] == "5000.50"
    cleared = await admin.put(URL, json=two_stage_policy(return_director_above=None))
    assert cleared.json()["return_director_above"] is None


async def test_without_the_setting_the_director_never_approves_returns(api):
    in_force = (await (await api("admin")).get(URL)).json()
    assert in_force["return_director_above"] is None
    saved = await (await api("admin")).put(URL, json=two_stage_policy())
    assert saved.json()["return_director_above"] is None


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-0.01", NEGATIVE),
        (
            "1.005",
            "The amount above which the director also approves a return may have at most 2 "
            "decimal places.",
        ),
        ("lots", "The amount above which the director also approves a return must be a number."),
    ],
)
async def test_a_negative_or_unreadable_return_amount_is_refused_with_422_and_saves_nothing(
    api, session_factory, amount, message
):
    before = await version_count(session_factory)
    refused = await (await api("admin")).put(
        URL, json=two_stage_policy(return_director_above=amount)
    )
    assert refused.status_code == 422
    # the sentence names the field as people call it; `field` says where it is in the body
    assert refused.json() == {"detail": message, "field": "return_director_above"}
    assert await version_count(session_factory) == before


@pytest.mark.parametrize("username", ["director", "sales_manager", "warehouse"])
async def test_only_an_administrator_sets_the_return_amount(api, session_factory, username):
    before = await version_count(session_factory)
    refused = await (await api(username)).put(
        URL, json=two_stage_policy(return_director_above="1000")
    )
    assert refused.status_code == 403
    assert await version_count(session_factory) == before


# -- the admin page ----------------------------------------------------------------------------


async def post_form(client: httpx.AsyncClient, amount: str) -> httpx.Response:
    page = await client.get("/admin/policy")
    based_on = re.search(r'name="based_on" value="(\d+)"', page.text)
    assert based_on
    data: dict[str, Any] = {
        "csrf_token": csrf_of(page.text),
        "based_on": based_on[1],
        "rows-0-stage": "1",
        "rows-0-code": "sales_manager",
        "rows-0-decider": "department_manager",
        "rows-0-sla_days": "1",
        "return_director_above": amount,
    }
    return await client.post("/admin/policy", data=data)


async def test_the_admin_page_saves_the_return_amount_and_says_it_in_words(browser_session, api):
    admin = await browser_session("admin")
    page = await admin.get("/admin/policy")
    assert 'name="return_director_above"' in page.text
    assert "A return is approved by the owner's department manager." in text_of(page)

    saved = await post_form(admin, "12,000")
    assert saved.status_code == 303, saved.text
    page = await admin.get("/admin/policy")
    assert 'name="return_director_above" class="num" style="width:10rem" value="12000"' in (
        page.text
    )
    assert "then by the director when the goods asked back are worth more than CN¥12,000.00" in (
        text_of(page)
    )
    in_force = (await (await api("admin")).get(URL)).json()
    assert (in_force["return_director_above"], in_force["cancellation_director_above"]) == (
        "12000.00",
        None,
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", f"Returns: {NEGATIVE}"), ("lots", UNREADABLE), ("1.234", UNREADABLE)],
)
async def test_a_bad_return_amount_on_the_page_is_refused_next_to_its_field_and_kept(
    browser_session, session_factory, amount, message
):
    admin = await browser_session("admin")
    before = await version_count(session_factory)
    refused = await post_form(admin, amount)
    assert refused.status_code == 422
    assert next_to_the_field(refused) == message
    assert 'aria-invalid="true" aria-describedby="return-amount-error"' in refused.text
    assert 'id="cancellation-amount-error"' not in refused.text  # said next to its own field
    assert f'value="{amount}"' in refused.text
    assert await version_count(session_factory) == before


@pytest.mark.parametrize("username", ["director", "sales_manager"])
async def test_only_an_administrator_may_post_the_return_amount_on_the_page(
    browser_session, session_factory, username
):
    client = await browser_session(username)
    before = await version_count(session_factory)
    token = csrf_of((await client.get("/profile")).text)
    refused = await client.post(
        "/admin/policy",
        data={
            "csrf_token": token,
            "rows-0-stage": "1",
            "rows-0-code": "sales_manager",
            "rows-0-decider": "department_manager",
            "return_director_above": "1000",
        },
    )
    assert refused.status_code == 403
    assert await version_count(session_factory) == before


@needs_catalog
async def test_the_return_amount_and_its_refusal_are_in_chinese_for_a_chinese_administrator(
    browser_session,
):
    admin = await browser_session("admin")
    await choose_language(admin, "zh_CN")
    page = await admin.get("/admin/policy")
    assert "退回货物价值高于此金额的退货还需总监审批" in text_of(page)
    assert "退货由负责人所在部门的经理审批。" in text_of(page)
    refused = await post_form(admin, "-1")
    assert refused.status_code == 422
    assert next_to_the_field(refused) == f"退货: {NEGATIVE_ZH}"
