"""Who may read the approval, collection and variance policies: those who work with them. Everyone
else is refused with 403 and a message, on the API and on the admin pages."""

from __future__ import annotations

import pytest

from models.domain import Role

APPROVAL_READERS = {Role.admin, Role.director, Role.sales_manager, Role.finance}
# Those who enter orders pick a payment plan by name, so they read the plans too.
COLLECTION_READERS = {
    Role.admin,
    Role.director,
    Role.finance,
    Role.sales_manager,
    Role.sales,
    Role.follower,
}
VARIANCE_READERS = {Role.admin, Role.ops, Role.ops_manager, Role.director, Role.finance}

CASES = [
    (url, role, role in readers)
    for url, readers in (
        ("/api/v1/policy/approval", APPROVAL_READERS),
        ("/api/v1/policy/collection", COLLECTION_READERS),
        ("/api/v1/policy/variance", VARIANCE_READERS),
    )
    for role in Role
]


@pytest.mark.parametrize(
    ("url", "role", "may_read"), CASES, ids=[f"{u.rsplit('/', 1)[1]}-{r}" for u, r, _ in CASES]
)
async def test_a_policy_is_read_only_by_the_roles_that_work_with_it(api, url, role, may_read):
    response = await (await api(role.value)).get(url)
    if may_read:
        assert response.status_code == 200, response.text
        assert response.json()["version"] >= 1
    else:
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith("Only administrators, directors")
        assert url.rsplit("/", 1)[1] in response.json()["detail"]


@pytest.mark.parametrize("page", ["/admin/policy", "/admin/variance-policy"])
@pytest.mark.parametrize("role", [r for r in Role if r != Role.admin])
async def test_the_policy_pages_are_for_administrators_only(browser_session, page, role):
    response = await (await browser_session(role.value)).get(page)
    assert response.status_code == 403
    assert "This page is for administrators." in response.text


@pytest.mark.parametrize("page", ["/admin/policy", "/admin/variance-policy"])
async def test_an_administrator_opens_the_policy_pages(browser_session, page):
    response = await (await browser_session("admin")).get(page)
    assert response.status_code == 200
