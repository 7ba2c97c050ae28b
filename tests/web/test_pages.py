"""The pages through httpx: sign-in, the inbox, order entry, to-do forms, CSRF, scope."""

from __future__ import annotations

import re

from tests.web.conftest import csrf_of
from tests.web.test_orders_api import order_body, submitted_order, todo_of
from tests.web.test_todos_api import estimated, stage_of


def order_form(csrf: str, **fields: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "customer_id": "1",
        "shipping_mode": "domestic",
        "requested_delivery_date": "",
        "adjustment": "none",
        "action": "save",
        "lines-0-product_id": "3",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "",
        "lines-0-discount_percent": "",
        "lines-1-product_id": "4",
        "lines-1-quantity": "10",
        "lines-1-unit_price": "",
        "lines-1-discount_percent": "5",
        "plan-0-percent": "30",
        "plan-0-trigger": "confirmation",
        "plan-0-offset_days": "0",
        "plan-1-percent": "70",
        "plan-1-trigger": "acceptance",
        "plan-1-offset_days": "30",
    }
    form.update(fields)
    return form


async def test_pages_need_sign_in(http):
    for path in ("/", "/orders", "/orders/new", "/profile"):
        response = await http.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_bad_login_form_says_so_without_saying_which_part(http):
    page = await http.get("/login")
    response = await http.post(
        "/login", data={"username": "sales", "password": "wrong", "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


async def test_form_post_without_csrf_token_is_refused(browser_session):
    sales = await browser_session("sales")
    response = await sales.post("/orders/new", data=order_form("forged"))
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "SO-" not in (await sales.get("/orders")).text


async def test_sales_rep_enters_an_order_on_the_form(browser_session):
    sales = await browser_session("sales")
    page = await sales.get("/orders/new")
    assert page.status_code == 200
    response = await sales.post(
        "/orders/new",
        data=order_form(csrf_of(page.text), adjustment="discount", order_discount_percent="10"),
    )
    assert response.status_code == 303, response.text
    detail = await sales.get(response.headers["location"])
    assert "CN¥25,560.00" in detail.text  # 28,400 less 10 %
    assert "is saved" in detail.text
    assert "Expected cost" not in detail.text  # sales reps don't see costs


async def test_sales_rep_picks_a_payment_plan_of_the_policy_by_name(browser_session, api):
    sales = await browser_session("sales")
    page = await sales.get("/orders/new")
    assert '<option value="30/60/10"' in page.text
    response = await sales.post(
        "/orders/new", data=order_form(csrf_of(page.text), plan_name="30/60/10")
    )
    assert response.status_code == 303, response.text
    number = response.headers["location"].rsplit("/", 1)[1]
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    assert [(i["percent"], i["trigger"], i["offset_days"]) for i in order["installments"]] == [
        ("30.000", "confirmation", 0),
        ("60.000", "acceptance", 30),
        ("10.000", "acceptance", 365),
    ]


async def test_order_form_shows_what_is_wrong_and_keeps_the_values(browser_session):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    response = await sales.post(
        "/orders/new",
        data=order_form(
            csrf, **{"lines-0-quantity": "-3", "adjustment": "target", "target_total": "99999999"}
        ),
    )
    assert response.status_code == 422
    assert (
        'role="alert"' in response.text
        and "Line 1: the quantity must be greater than zero." in response.text
    )
    assert 'value="-3"' in response.text and 'value="99999999"' in response.text
    empty = await sales.post(
        "/orders/new",
        data={"csrf_token": csrf, "customer_id": "1", "adjustment": "none", "action": "save"},
    )
    assert empty.status_code == 422 and "An order needs at least one line." in empty.text
    assert "SO-" not in (await sales.get("/orders")).text


async def test_more_lines_adds_empty_rows_without_saving(browser_session):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    response = await sales.post("/orders/new", data=order_form(csrf, action="add_line"))
    assert response.status_code == 200
    assert 'name="lines-6-product_id"' in response.text
    assert "SO-" not in (await sales.get("/orders")).text


async def test_pricing_and_manager_work_from_their_inbox_pages(api, browser_session, worker):
    _, number = await submitted_order(api)
    pricing = await browser_session("pricing")
    todo = await todo_of(await api("pricing"), number, "estimate_cost")
    inbox = await pricing.get("/")
    assert f"/todos/{todo['id']}" in inbox.text and number in inbox.text
    page = await pricing.get(f"/todos/{todo['id']}")
    assert page.status_code == 200 and "Confirm the estimate" in page.text
    unit_costs = dict(re.findall(r'name="(unit_cost-\d+)" value="([^"]*)"', page.text))
    assert unit_costs and all(unit_costs.values())  # prefilled from the standard cost
    done = await pricing.post(
        f"/todos/{todo['id']}/complete",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "estimated",
            "freight": "1,000",
            "installation": "0",
            "other": "0",
            **unit_costs,
        },
    )
    assert done.status_code == 303, done.text
    assert f"/todos/{todo['id']}" not in (await pricing.get("/")).text

    manager = await browser_session("sales_manager")
    approve = await todo_of(await api("sales_manager"), number, "approve")
    page = await manager.get(f"/todos/{approve['id']}")
    refused = await manager.post(
        f"/todos/{approve['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "reject", "comment": ""},
    )
    assert refused.status_code == 422 and "needs a comment" in refused.text
    approved = await manager.post(
        f"/todos/{approve['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "approve"},
    )
    assert approved.status_code == 303
    await stage_of(await api("sales"), number, "confirmed")
    detail = await manager.get(f"/orders/{number}")
    assert "Order confirmed" in detail.text and "Expected margin" in detail.text
    assert "Temporal UI" not in detail.text  # the link is for ops, not sales managers
    ops_view = await (await browser_session("ops")).get(f"/orders/{number}")
    assert f"/workflows/order-{number}" in ops_view.text


async def test_todo_page_of_someone_else_refuses_the_form(api, browser_session, worker):
    _, number = await submitted_order(api)
    await estimated(api, number)
    approve = await todo_of(await api("sales_manager"), number, "approve")
    director = await browser_session("director")
    page = await director.get(f"/todos/{approve['id']}")
    assert page.status_code == 200  # the director sees every order ...
    response = await director.post(
        f"/todos/{approve['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "approve"},
    )
    assert response.status_code == 403  # ... but decides only what is routed to them
    assert "not assigned to you" in response.text


async def test_order_page_outside_scope_is_not_found(api, browser_session):
    number = (await (await api("sales")).post("/api/v1/orders", json=order_body())).json()["number"]
    outsider = await browser_session("sales2")
    response = await outsider.get(f"/orders/{number}")
    assert response.status_code == 404
    assert number not in response.text.replace(f"/orders/{number}", "")


async def test_owner_submits_and_repeats_from_the_order_page(api, browser_session, worker):
    sales = await browser_session("sales")
    number = (await (await api("sales")).post("/api/v1/orders", json=order_body())).json()["number"]
    page = await sales.get(f"/orders/{number}")
    submitted = await sales.post(
        f"/orders/{number}/submit", data={"csrf_token": csrf_of(page.text)}
    )
    assert submitted.status_code == 303
    assert "is submitted" in (await sales.get(f"/orders/{number}")).text
    again = await sales.post(f"/orders/{number}/submit", data={"csrf_token": csrf_of(page.text)})
    assert "already been submitted" in (await sales.get(again.headers["location"])).text
    repeated = await sales.post(f"/orders/{number}/repeat", data={"csrf_token": csrf_of(page.text)})
    assert repeated.status_code == 303 and repeated.headers["location"].endswith("/edit")
    edit = await sales.get(repeated.headers["location"])
    assert edit.status_code == 200 and 'value="10"' in edit.text


async def test_submitted_order_cannot_be_edited_from_the_page(api, browser_session, worker):
    _, number = await submitted_order(api)
    sales = await browser_session("sales")
    assert (await sales.get(f"/orders/{number}/edit")).status_code == 409
