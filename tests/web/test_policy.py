"""The approval policy, versioned: read by those who work with it (tests/web/test_policy_access.py),
changed only by an administrator (JSON API and admin page). Each save is a new version; a refusal
names the field and saves nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from models.policy import current_policy
from models.tables import ApprovalPolicyVersion, User
from tests.web.conftest import csrf_of
from tests.web.test_i18n import (  # the fixture needs_catalog names
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)

URL = "/api/v1/policy/approval"


def two_stage_policy(**overrides: Any) -> dict[str, Any]:
    """The department manager first; then the director for a big order or a thin margin, in
    parallel with finance when the customer is over its credit limit."""
    body: dict[str, Any] = {
        "stages": [
            {
                "position": 1,
                "requirements": [
                    {"code": "sales_manager", "decider": {"kind": "department_manager"}}
                ],
            },
            {
                "position": 2,
                "requirements": [
                    {
                        "code": "director",
                        "decider": {"kind": "role", "role": "director"},
                        "when": [
                            {"kind": "total_at_least", "value": "250000.00"},
                            {"kind": "margin_below", "value": "12.5"},
                        ],
                        "sla_days": 2,
                    },
                    {
                        "code": "finance",
                        "decider": {"kind": "role", "role": "finance"},
                        "when": [{"kind": "over_credit_limit"}],
                    },
                ],
            },
        ],
        "notify": [{"kind": "department_manager"}, {"kind": "role", "role": "ops"}],
    }
    body.update(overrides)
    return body


def with_requirement(requirement: dict[str, Any]) -> dict[str, Any]:
    return two_stage_policy(stages=[{"position": 1, "requirements": [requirement]}])


async def saved_versions(session_factory) -> list[tuple[int, dict[str, Any]]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(ApprovalPolicyVersion.version, ApprovalPolicyVersion.body).order_by(
                ApprovalPolicyVersion.version
            )
        )
        return [(version, body) for version, body in rows]


async def version_count(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(ApprovalPolicyVersion)) or 0


async def user_id(session_factory, username: str) -> int:
    async with session_factory() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def text_of(response: httpx.Response) -> str:
    """The page's words without tags, spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words))


# Reading the policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["sales_manager", "director", "admin"])
async def test_approvers_read_the_policy_in_force_with_thresholds_as_decimal_strings(api, username):
    response = await (await api(username)).get(URL)
    assert response.status_code == 200, response.text
    policy = response.json()
    assert policy["version"] == 2
    assert policy["created_by"] is None
    assert policy["created_at"]
    assert [s["position"] for s in policy["stages"]] == [1, 2]
    assert policy["stages"][0]["requirements"] == [
        {
            "code": "sales_manager",
            "decider": {"kind": "department_manager", "role": None, "user_id": None},
            "when": [],
            "sla_days": 1,
        }
    ]
    director = policy["stages"][1]["requirements"][0]
    assert director["decider"] == {"kind": "role", "role": "director", "user_id": None}
    assert director["when"] == [
        {"kind": "total_at_least", "value": "500000"},
        {"kind": "discount_at_least", "value": "20"},
        {"kind": "margin_below", "value": "15"},
    ]
    assert [r["code"] for r in policy["stages"][1]["requirements"]] == [
        "director",
        "finance",
        "warehouse",
    ]
    assert policy["notify"] == [{"kind": "department_manager", "role": None, "user_id": None}]


async def test_the_policy_needs_a_signed_in_user(http):
    response = await http.get(URL)
    assert response.status_code == 401


async def test_an_administrator_lists_every_version_newest_first(api):
    response = await (await api("admin")).get(f"{URL}/versions")
    assert response.status_code == 200, response.text
    versions = response.json()
    assert [v["version"] for v in versions] == [2, 1]
    assert [r["code"] for s in versions[1]["stages"] for r in s["requirements"]] == [
        "sales_manager"
    ]


@pytest.mark.parametrize("username", ["sales", "director", "finance"])
async def test_only_an_administrator_lists_the_versions(api, username):
    response = await (await api(username)).get(f"{URL}/versions")
    assert response.status_code == 403
    assert "administrator" in response.json()["detail"]


# Saving a new version through the API ----------------------------------------------------------


async def test_an_administrators_policy_becomes_version_3_and_is_in_force(api, session_factory):
    before = await saved_versions(session_factory)
    admin = await api("admin")
    response = await admin.put(URL, json=two_stage_policy())
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["version"] == 3
    assert saved["created_by"] == "admin"
    assert saved["stages"][1]["requirements"][0]["when"] == [
        {"kind": "total_at_least", "value": "250000.00"},
        {"kind": "margin_below", "value": "12.5"},
    ]
    assert saved["stages"][1]["requirements"][0]["sla_days"] == 2
    assert saved["notify"][1] == {"kind": "role", "role": "ops", "user_id": None}

    in_force = (await (await api("director")).get(URL)).json()
    assert in_force == saved
    async with session_factory() as session:
        policy = await current_policy(session=session)
    assert policy.version == 3
    assert [r.code for r in policy.stages[1].requirements] == ["director", "finance"]
    # Versions 1 and 2 are as they were: rounds routed by them still read them.
    assert (await saved_versions(session_factory))[:2] == before


async def test_each_save_is_one_more_version(api, session_factory):
    admin = await api("admin")
    first = await admin.put(URL, json=two_stage_policy())
    second = await admin.put(
        URL, json=with_requirement({"code": "ceo", "decider": {"kind": "role", "role": "director"}})
    )
    assert (first.json()["version"], second.json()["version"]) == (3, 4)
    assert [v for v, _ in await saved_versions(session_factory)] == [1, 2, 3, 4]
    versions = (await admin.get(f"{URL}/versions")).json()
    assert [v["version"] for v in versions] == [4, 3, 2, 1]


async def test_a_named_person_may_decide_and_be_told(api, session_factory):
    director = await user_id(session_factory, "director")
    finance = await user_id(session_factory, "finance")
    body = two_stage_policy(notify=[{"kind": "user", "user_id": finance}])
    body["stages"][1]["requirements"][0]["decider"] = {"kind": "user", "user_id": director}
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["stages"][1]["requirements"][0]["decider"]["user_id"] == director
    assert saved["notify"] == [{"kind": "user", "role": None, "user_id": finance}]


@pytest.mark.parametrize("username", ["sales", "sales_manager", "director", "finance"])
async def test_only_an_administrator_may_change_the_policy(api, session_factory, username):
    response = await (await api(username)).put(URL, json=two_stage_policy())
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an administrator may change the approval policy."
    assert await version_count(session_factory) == 2


async def test_a_non_administrator_is_refused_before_the_body_is_read(api, session_factory):
    response = await (await api("sales")).put(URL, json={"stages": "nonsense"})
    assert response.status_code == 403


def requirement(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"code": "director", "decider": {"kind": "role", "role": "director"}}
    base.update(fields)
    return base


REFUSED = [
    pytest.param(
        two_stage_policy(stages=[]), "stages", "Stages: ", "at least one stage", id="no stage"
    ),
    pytest.param(
        with_requirement(requirement(when=[{"kind": "total_at_least", "value": "-1"}])),
        "stages[0].requirements[0].when[0].value",
        "Stage 1, requirement 1, condition 1: ",
        "cannot be negative",
        id="negative threshold",
    ),
    pytest.param(
        with_requirement(requirement(when=[{"kind": "discount_at_least"}])),
        "stages[0].requirements[0].when[0].value",
        "Stage 1, requirement 1, condition 1, threshold: ",
        "needs a number",
        id="threshold without its number",
    ),
    pytest.param(
        with_requirement(requirement(when=[{"kind": "margin_below", "value": "120"}])),
        "stages[0].requirements[0].when[0].value",
        "Stage 1, requirement 1, condition 1, threshold: ",
        "above 100",
        id="percentage above 100",
    ),
    pytest.param(
        two_stage_policy(
            stages=[
                {"position": 1, "requirements": [requirement(code="a")]},
                {"position": 2, "requirements": [requirement(code="b")]},
                {"position": 2, "requirements": [requirement(code="c")]},
            ]
        ),
        "stages[2].position",
        "Stage 3: ",
        "stage order 2 is used twice.",
        id="duplicated stage order",
    ),
    pytest.param(
        with_requirement(requirement(decider={"kind": "role"})),
        "stages[0].requirements[0].decider.role",
        "Stage 1, requirement 1: ",
        "name the role that decides.",
        id="role decider without a role",
    ),
    pytest.param(
        with_requirement(requirement(decider={"kind": "user", "user_id": 9999})),
        "stages[0].requirements[0].decider.user_id",
        "Stage 1, requirement 1, person who decides: ",
        "nobody to decide: there is no active user with id 9999.",
        id="a person who does not exist",
    ),
    pytest.param(
        with_requirement(requirement(decider={"kind": "role", "role": "admin"})),
        "stages[0].requirements[0].decider.role",
        "Stage 1, requirement 1, role that decides: ",
        "no business approvals",
        id="administrators as deciders",
    ),
    pytest.param(
        with_requirement(requirement(sla_days=0)),
        "stages[0].requirements[0].sla_days",
        "Stage 1, requirement 1: ",
        "at least 1 working day",
        id="SLA of zero days",
    ),
    pytest.param(
        with_requirement(requirement(code="")),
        "stages[0].requirements[0].code",
        "Stage 1, requirement 1: ",
        "needs a name",
        id="requirement without a name",
    ),
    pytest.param(
        with_requirement(requirement(code="director/ceo")),
        "stages[0].requirements[0].code",
        "Stage 1, requirement 1: ",
        "one word",
        id="requirement name with a slash",
    ),
    pytest.param(
        two_stage_policy(notify=[{"kind": "user", "user_id": 9999}]),
        "notify[0].user_id",
        "Notification 1, person to notify: ",
        "no active user",
        id="notifying a person who does not exist",
    ),
]


@pytest.mark.parametrize(("body", "field", "where", "message"), REFUSED)
async def test_a_policy_that_breaks_a_rule_is_refused_naming_the_field_and_nothing_is_saved(
    api, session_factory, body, field, where, message
):
    """The sentence says where the field is and names it as people do (unless the reason names
    it already); the error's `field` says where it is in the body."""
    before = await saved_versions(session_factory)
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith(where), detail
    assert message in detail
    assert response.json()["field"] == field
    assert await saved_versions(session_factory) == before


@needs_catalog
async def test_a_refused_policy_names_the_field_in_chinese(api, session_factory):
    before = await saved_versions(session_factory)
    admin = await api("admin")
    nobody = with_requirement(requirement(decider={"kind": "user", "user_id": 9999}))
    response = await admin.put(URL, json=nobody, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": "第 1 阶段，第 1 项审批要求，审批人：无人可以审批：不存在 ID 为 9999 的启用用户"
        "。",
        "field": "stages[0].requirements[0].decider.user_id",
    }
    no_stage = await admin.put(
        URL, json=two_stage_policy(stages=[]), headers={"Accept-Language": "zh-CN"}
    )
    assert no_stage.json()["detail"] == "审批阶段：审批规则至少需要一个阶段。", no_stage.text
    assert await saved_versions(session_factory) == before


async def test_a_threshold_that_is_not_a_number_is_refused_readably(api, session_factory):
    body = with_requirement(requirement(when=[{"kind": "total_at_least", "value": "abc"}]))
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Stage 1, requirement 1, condition 1: the threshold must be a number.",
        "field": "stages[0].requirements[0].when[0].value",
    }
    assert await version_count(session_factory) == 2


async def test_a_role_with_no_active_user_cannot_decide(api, session_factory):
    async with session_factory() as session:
        await session.execute(update(User).where(User.role == "warehouse").values(active=False))
        await session.commit()
    body = with_requirement(
        requirement(code="warehouse", decider={"kind": "role", "role": "warehouse"})
    )
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Stage 1, requirement 1, role that decides: "
        "nobody to decide: no active user has the role warehouse.",
        "field": "stages[0].requirements[0].decider.role",
    }
    assert await version_count(session_factory) == 2


async def test_a_deactivated_person_cannot_decide(api, session_factory):
    director = await user_id(session_factory, "director")
    async with session_factory() as session:
        await session.execute(update(User).where(User.id == director).values(active=False))
        await session.commit()
    body = with_requirement(requirement(decider={"kind": "user", "user_id": director}))
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Stage 1, requirement 1, person who decides: "
        f"nobody to decide: there is no active user with id {director}.",
        "field": "stages[0].requirements[0].decider.user_id",
    }
    assert await version_count(session_factory) == 2


async def test_a_number_sent_with_a_fact_condition_is_not_kept(api):
    body = with_requirement(requirement(when=[{"kind": "over_stock", "value": "5"}]))
    response = await (await api("admin")).put(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["stages"][0]["requirements"][0]["when"] == [
        {"kind": "over_stock", "value": None}
    ]


# The admin page -------------------------------------------------------------------------------


@pytest.fixture
async def admin_page(browser_session) -> httpx.AsyncClient:
    return await browser_session("admin")


async def post_form(client: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    """Submit the policy form as a browser does: with the session's CSRF token and the version
    the page showed."""
    page = await client.get("/admin/policy")
    based_on = re.search(r'name="based_on" value="(\d+)"', page.text)
    assert based_on
    return await client.post(
        "/admin/policy",
        data={"csrf_token": csrf_of(page.text), "based_on": based_on[1], **data},
    )


def row(i: int, **fields: str) -> dict[str, str]:
    return {f"rows-{i}-{name}": value for name, value in fields.items()}


@pytest.mark.parametrize("role", ["sales", "director", "finance"])
async def test_only_an_administrator_may_open_or_post_the_policy_page(
    browser_session, session_factory, role
):
    client = await browser_session(role)
    page = await client.get("/admin/policy")
    assert page.status_code == 403
    assert "This page is for administrators." in page.text
    token = csrf_of((await client.get("/profile")).text)
    response = await client.post(
        "/admin/policy",
        data={"csrf_token": token, **row(0, stage="1", code="x", decider="department_manager")},
    )
    assert response.status_code == 403
    assert await version_count(session_factory) == 2


async def test_the_page_shows_the_policy_in_force_in_words_and_the_earlier_versions(admin_page):
    response = await admin_page.get("/admin/policy")
    assert response.status_code == 200
    words = text_of(response)
    assert "Version 2, in force" in words
    assert (
        "Stage 1: sales_manager — decided by the owner's department manager — always "
        "— SLA: 1 working day(s)" in words
    )
    assert "Stage 2: director — decided by everyone with the role Director — when order total" in (
        words
    )
    assert "any discount ≥ 20 %" in words
    assert "expected margin below 15 %" in words
    assert "Stage 2: warehouse" in words and "a line above available stock" in words
    assert "Earlier versions" in words and "Version 1 ·" in words
    assert 'href="/admin/policy"' in response.text  # the admin navigation links here
    # The form starts from the version in force, with three blank rows to add requirements.
    assert 'name="rows-3-code" value="warehouse"' in response.text
    assert 'name="rows-6-code" value=""' in response.text
    assert 'name="rows-7-code"' not in response.text


async def test_the_form_saves_two_rows_as_two_stages_and_says_which_version(
    admin_page, session_factory
):
    director = await user_id(session_factory, "director")
    response = await post_form(
        admin_page,
        {
            **row(
                0,
                stage="1",
                code="sales_manager",
                decider="department_manager",
                role="finance",  # ignored: the department manager decides
                sla_days="1",
            ),
            **row(
                1,
                stage="2",
                code="director",
                decider="user",
                user_id=str(director),
                total_at_least="300,000",
                discount_at_least="15%",
                over_stock="1",
                export="1",
                sla_days="3",
            ),
            **row(2, stage="3", code="", decider="role", role="finance"),  # blank: left out
            "notify_department_manager": "1",
            "notify_roles": "finance",
        },
    )
    assert response.status_code == 303, text_of(response)
    assert response.headers["location"] == "/admin/policy"
    page = await admin_page.get("/admin/policy")
    assert "Approval policy version 3 saved." in text_of(page)

    async with session_factory() as session:
        policy = await current_policy(session=session)
    assert policy.version == 3
    assert [s.position for s in policy.stages] == [1, 2]
    first, second = policy.stages[0].requirements, policy.stages[1].requirements
    assert [(r.code, r.decider.kind, r.decider.role, r.when) for r in first] == [
        ("sales_manager", "department_manager", None, [])
    ]
    assert [(r.code, r.decider.kind, r.decider.user_id, r.sla_days) for r in second] == [
        ("director", "user", director, 3)
    ]
    assert [(c.kind.value, c.value) for c in second[0].when] == [
        ("total_at_least", 300000),
        ("discount_at_least", 15),
        ("over_stock", None),
        ("export", None),
    ]
    assert [(d.kind, d.role) for d in policy.notify] == [
        ("department_manager", None),
        ("role", "finance"),
    ]
    assert "Stage 2: director — decided by Zhou Wei (director)" in text_of(page)


async def test_rows_with_the_same_stage_number_are_decided_in_parallel(admin_page, session_factory):
    response = await post_form(
        admin_page,
        {
            **row(0, stage="2", code="finance", decider="role", role="finance", sla_days="1"),
            **row(1, stage="1", code="boss", decider="department_manager", sla_days="1"),
            **row(2, stage="2", code="stock", decider="role", role="warehouse", sla_days="2"),
        },
    )
    assert response.status_code == 303, text_of(response)
    async with session_factory() as session:
        policy = await current_policy(session=session)
    assert [(s.position, [r.code for r in s.requirements]) for s in policy.stages] == [
        (1, ["boss"]),
        (2, ["finance", "stock"]),
    ]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        pytest.param(
            row(
                1,
                stage="2",
                code="director",
                decider="role",
                role="director",
                total_at_least="lots",
                sla_days="1",
            ),
            "Row 2, total ≥: Enter a number",
            id="threshold not a number",
        ),
        pytest.param(
            row(
                1,
                stage="2",
                code="director",
                decider="role",
                role="director",
                margin_below="-3",
                sla_days="1",
            ),
            "Row 2 (director), expected margin below: A threshold cannot be negative.",
            id="negative threshold",
        ),
        pytest.param(
            row(1, stage="2", code="director", decider="role", role="", sla_days="1"),
            "Row 2 (director), role: Name the role that decides.",
            id="role decider without a role",
        ),
        pytest.param(
            row(1, stage="two", code="director", decider="department_manager", sla_days="1"),
            "Row 2, stage: Enter the stage as a whole number",
            id="stage not a number",
        ),
        pytest.param(
            row(1, stage="2", code="director", decider="department_manager", sla_days="0"),
            "Row 2 (director), SLA: The SLA must be at least 1 working day.",
            id="SLA of zero days",
        ),
    ],
)
async def test_a_bad_row_shows_the_form_again_with_the_error_and_the_input_kept(
    admin_page, session_factory, bad_row, message
):
    before = await saved_versions(session_factory)
    response = await post_form(
        admin_page,
        {
            **row(0, stage="1", code="sales_manager", decider="department_manager", sla_days="1"),
            **bad_row,
            "notify_roles": "ops",
        },
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert message in text_of(response)
    # What was typed is still there, to be corrected.
    for name, value in bad_row.items():
        if name.endswith("-decider") or name.endswith("-role"):
            if value:
                assert f'<option value="{value}" selected>' in response.text
        else:
            assert f'name="{name}" value="{html.escape(value)}"' in response.text
    assert 'name="notify_roles" value="ops" checked' in response.text
    assert await saved_versions(session_factory) == before


async def test_a_role_nobody_active_holds_is_refused_on_the_page(admin_page, session_factory):
    async with session_factory() as session:
        await session.execute(update(User).where(User.role == "service").values(active=False))
        await session.commit()
    response = await post_form(
        admin_page,
        row(0, stage="1", code="install", decider="role", role="service", sla_days="1"),
    )
    assert response.status_code == 422
    assert (
        "Row 1 (install), role: Nobody to decide: no active user has the role service."
        in text_of(response)
    )
    assert await version_count(session_factory) == 2


async def test_a_form_with_no_requirement_is_refused(admin_page, session_factory):
    response = await post_form(admin_page, row(0, stage="1", code="  ", sla_days="1"))
    assert response.status_code == 422
    assert "The policy needs at least one stage." in text_of(response)
    assert await version_count(session_factory) == 2


async def test_a_version_saved_meanwhile_is_not_overwritten_unseen(
    admin_page, api, session_factory
):
    page = await admin_page.get("/admin/policy")
    token = csrf_of(page.text)
    # Another administrator saves version 3 while this form (based on version 2) is open.
    assert (await (await api("admin")).put(URL, json=two_stage_policy())).status_code == 200
    form = {
        "csrf_token": token,
        "based_on": "2",
        **row(0, stage="1", code="boss", decider="department_manager", sla_days="1"),
    }
    response = await admin_page.post("/admin/policy", data=form)
    assert response.status_code == 422
    assert "Version 3 of the approval policy was saved while you were editing." in text_of(response)
    assert 'name="rows-0-code" value="boss"' in response.text
    assert 'name="based_on" value="3"' in response.text
    assert await version_count(session_factory) == 3
    # Saving again, having seen it, replaces it with version 4.
    again = await admin_page.post("/admin/policy", data={**form, "based_on": "3"})
    assert again.status_code == 303
    assert await version_count(session_factory) == 4


async def test_a_policy_form_without_the_csrf_token_saves_nothing(admin_page, session_factory):
    response = await admin_page.post(
        "/admin/policy",
        data={"based_on": "2", **row(0, stage="1", code="boss", decider="department_manager")},
    )
    assert response.status_code == 403
    assert await version_count(session_factory) == 2
