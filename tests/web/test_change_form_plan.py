"""The payment plan in the order page's change form (issue 16, item 1): it starts from the plan of
what is not yet paid (the installments money went to shown, not editable), a new plan is
previewed with the installments it leaves and sent with the request, and every refusal is said
next to the plan, in English and Chinese, changing nothing. The change form stacks its lines
and installments as cards on a phone; the diffs show money, quantities and dates in the
reader's locale while the API keeps the raw values."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from models.tables import OrderChangeRequest, OutboxMail
from tests.web.conftest import csrf_of
from tests.web.test_collection_api import (
    OWNER_MAIL,
    TODAY,
    collecting_order,
    complete,
    payment,
    register,
)
from tests.web.test_i18n import chinese_session, needs_catalog, text_of, zh_catalog_compiled
from tests.web.test_orders_api import order_body, todo_of

__all__ = ["zh_catalog_compiled"]  # the fixture, used by name

# 28,400.00: 30 % (8,520.00) on confirmation, 70 % (19,880.00) 30 days after acceptance.
DEPOSIT_PLAN = [
    {"percent": "30", "trigger": "confirmation", "offset_days": 0},
    {"percent": "70", "trigger": "acceptance", "offset_days": 30},
]
NEW_PLAN = {
    "plan-0-percent": "50",
    "plan-0-trigger": "dispatch",
    "plan-0-offset_days": "0",
    "plan-0-fixed_date": "",
    "plan-1-percent": "50",
    "plan-1-trigger": "acceptance",
    "plan-1-offset_days": "30",
    "plan-1-fixed_date": "",
}


async def requests_of(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(OrderChangeRequest)) or 0


async def deposit_paid(api) -> str:
    """A confirmed order whose deposit (installment 1, 8,520.00) finance confirmed as paid."""
    number = await collecting_order(api, DEPOSIT_PLAN)
    await register(await api("sales"), number, payment("8520.00", "TT-DEP"))
    finance = await api("finance")
    await complete(
        finance, await todo_of(finance, number, "confirm_payment"), {"outcome": "confirm"}
    )
    return number


def form_fields(page: str) -> dict[str, str]:
    """The change form's fields as the page fills them in (inputs, the selected options)."""
    form = page[page.index('id="request-change"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*?name="([^"]+)" value="([^"]*)"', form))
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields.pop("csrf_token", None)
    return {k: v for k, v in fields.items() if not k.endswith("-remove")}


async def posted(page, number: str, url: str, form: dict[str, str]):
    csrf = csrf_of((await page.get(f"/orders/{number}")).text)
    return await page.post(f"/orders/{number}{url}", data={"csrf_token": csrf, **form})


def plan_section(page: str) -> str:
    return page[
        page.index('id="change-plan"') : page.index("</fieldset>", page.index('id="change-plan"'))
    ]


async def test_the_form_starts_from_the_plan_of_what_is_not_paid_and_shows_paid_money_read_only(
    api, browser_session, worker
):
    number = await deposit_paid(api)
    owner = await browser_session("sales")
    page = text_of(await owner.get(f"/orders/{number}"))

    plan = plan_section(page)
    assert "Payment plan of what is not yet paid" in plan
    assert 'class="plan-paid stacking"' in plan and "CN¥8,520.00" in plan  # paid: shown
    assert 'name="plan-0-percent" value="100"' in plan  # the 19,880.00 left, all of it
    assert 'name="plan-0-offset_days" value="30"' in plan
    assert '<option value="acceptance" selected>on acceptance</option>' in plan
    assert "CN¥19,880.00 on the order as it is" in plan
    assert 'name="plan-1-percent" value=""' in plan  # a blank row to add an installment
    assert 'name="plan-2-' not in plan
    paid = plan[plan.index('class="plan-paid') : plan.index("</table>")]
    assert "<input" not in paid and "<select" not in paid  # paid money cannot be changed here


async def test_a_new_plan_of_what_is_left_is_previewed_with_its_installments_and_sent(
    api, browser_session, worker, session_factory
):
    number = await deposit_paid(api)
    owner = await browser_session("sales")
    form = form_fields(text_of(await owner.get(f"/orders/{number}")))
    form |= {**NEW_PLAN, "reason": "The customer pays half on dispatch"}

    preview = await posted(owner, number, "/change-requests/preview", form)

    assert preview.status_code == 200, text_of(preview)
    page = text_of(preview)
    row = re.search(r'<tr data-field="payment_plan">(.*?)</tr>', page, re.S).group(1)
    assert "30 % on confirmation; 70 % on acceptance + 30 days" in row  # the order's plan
    assert "50 % on dispatch; 50 % on acceptance + 30 days" in row  # of what is left
    after = page[page.index("Payments after the change") :]
    amounts = re.findall(r'data-label="Amount">([^<]+)<', after)
    assert amounts == ["CN¥8,520.00", "CN¥9,940.00", "CN¥9,940.00"]  # the deposit stays
    assert await requests_of(session_factory) == 0  # a preview writes nothing

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    sent = await posted(owner, number, "/change-requests", {**hidden, "action": "send"})
    assert sent.status_code == 303, text_of(sent)
    manager = await api("sales_manager")
    await complete(
        manager, await todo_of(manager, number, "approve_change"), {"outcome": "approve"}
    )
    sales = await api("sales")
    for _ in range(200):
        order = (await sales.get(f"/api/v1/orders/{number}")).json()
        if order["revision"] == 2 and len(order["installments"]) == 3:
            break
    [revision] = order["revisions"]
    changed = {c["field"]: c for c in revision["changes"]}
    assert changed["payment_plan"]["after"] == "50 % dispatch, 50 % acceptance +30 d"  # raw
    assert [(i["amount"], i["paid"]) for i in order["installments"]] == [
        ("8520.00", "8520.00"),
        ("9940.00", "0.00"),
        ("9940.00", "0.00"),
    ]
    # the owner is told what changed in their language, the plan in words, not its raw text
    async with session_factory() as session:
        bodies = list(
            await session.scalars(
                select(OutboxMail.body).where(OutboxMail.to_address == OWNER_MAIL)
            )
        )
    [told] = [b for b in bodies if "Revision 2:" in b]
    assert (
        "Revision 2: Payment plan: 30 % on confirmation; 70 % on acceptance + 30 days → "
        "50 % on dispatch; 50 % on acceptance + 30 days"
    ) in told


async def test_a_plan_left_as_it_started_is_not_part_of_the_change(api, browser_session, worker):
    number = await deposit_paid(api)
    owner = await browser_session("sales")
    form = form_fields(text_of(await owner.get(f"/orders/{number}")))
    pumps = next(k for k, v in form.items() if k.endswith("-quantity") and v == "2")
    form |= {pumps: "3", "reason": "One more pump"}

    preview = text_of(await posted(owner, number, "/change-requests/preview", form))

    assert 'data-field="lines[PUMP-10].quantity"' in preview
    assert 'data-field="payment_plan"' not in preview
    # 36,900.00 − 8,520.00 paid: the rest stays on the open installment
    after = preview[preview.index("Payments after the change") :]
    assert re.findall(r'data-label="Amount">([^<]+)<', after) == ["CN¥8,520.00", "CN¥28,380.00"]


async def test_plan_refusals_are_said_next_to_the_plan_and_change_nothing(
    api, browser_session, worker, session_factory
):
    number = await deposit_paid(api)
    owner = await browser_session("sales")
    form = form_fields(text_of(await owner.get(f"/orders/{number}")))
    form["reason"] = "New terms"
    far = (TODAY + timedelta(days=365 * 11)).isoformat()
    cases = [
        ({"plan-0-percent": "60"}, "The payment plan's percentages must add up to exactly 100."),
        ({"plan-0-percent": "abc"}, "Installment 1: the percentage must be a number above 0"),
        ({"plan-0-percent": "0"}, "Installment 1: the percentage must be a number above 0"),
        ({"plan-0-offset_days": "-3"}, "Installment 1: the days after must be a whole number"),
        ({"plan-0-trigger": "fixed_date"}, "Installment 1 is due on a fixed date but has no date."),
        (
            {"plan-0-trigger": "fixed_date", "plan-0-fixed_date": far},
            f"Installment 1: the fixed date {far} is not between",
        ),
        ({"plan-0-percent": ""}, "The payment plan of what is not yet paid needs at least one"),
    ]
    for change, message in cases:
        for url in ("/change-requests/preview", "/change-requests"):
            refused = await posted(owner, number, url, {**form, **change, "action": "send"})
            assert refused.status_code == 422, (change, url, refused.status_code)
            page = text_of(refused)
            plan = plan_section(page)
            assert 'id="change-error"' in plan and message in plan, (change, url)
            assert 'aria-describedby="change-error"' in page
            assert 'id="form-error"' not in page
            typed = change.get("plan-0-percent")
            if typed:  # what was typed stays
                assert f'name="plan-0-percent" value="{typed}"' in plan
    assert await requests_of(session_factory) == 0
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    assert order["change_requests"] == [] and len(order["installments"]) == 2


async def test_an_order_paid_in_full_has_no_plan_to_change_on_the_page_or_the_api(
    api, browser_session, worker, session_factory
):
    number = await deposit_paid(api)
    sales, finance = await api("sales"), await api("finance")
    await register(sales, number, payment("19880.00", "TT-REST"))
    await complete(
        finance, await todo_of(finance, number, "confirm_payment"), {"outcome": "confirm"}
    )
    owner = await browser_session("sales")
    page = text_of(await owner.get(f"/orders/{number}"))
    plan = plan_section(page)
    assert "Everything is paid: no payment plan is left to change." in plan
    assert 'name="plan-0-percent"' not in plan

    form = form_fields(page) | {**NEW_PLAN, "reason": "New terms"}
    refused = await posted(owner, number, "/change-requests/preview", form)
    assert refused.status_code == 422
    message = f"Everything on order {number} is paid: no payment plan is left to change."
    assert message in plan_section(text_of(refused))

    body = {
        "reason": "New terms",
        "payment_plan": [{"percent": "100", "trigger": "acceptance", "offset_days": 0}],
    }
    answer = await sales.post(f"/api/v1/orders/{number}/change-requests", json=body)
    assert answer.status_code == 422 and answer.json()["detail"] == message
    assert await requests_of(session_factory) == 0


async def test_the_api_refuses_a_plan_date_outside_the_window_an_order_takes(
    api, worker, session_factory
):
    number = await collecting_order(api, DEPOSIT_PLAN)
    far = (TODAY + timedelta(days=365 * 11)).isoformat()
    body = {
        "reason": "Pay later",
        "payment_plan": [{"percent": "100", "trigger": "fixed_date", "fixed_date": far}],
    }
    sales = await api("sales")
    answer = await sales.post(f"/api/v1/orders/{number}/change-requests", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"Installment 1: the fixed date {far} is not between")
    assert await requests_of(session_factory) == 0


async def test_before_confirmation_the_plan_is_the_orders_own_and_stacks_on_a_phone(
    api, browser_session, worker
):
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(payment_plan=DEPOSIT_PLAN))
    number = created.json()["number"]
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await todo_of(await api("pricing"), number, "estimate_cost")  # submitted: in costing
    owner = await browser_session("sales")
    page = text_of(await owner.get(f"/orders/{number}"))
    plan = plan_section(page)
    assert "Nothing is paid yet: the plan's percentages are of the order's total" in plan
    assert 'name="plan-0-percent" value="30"' in plan and 'name="plan-1-percent" value="70"' in plan
    assert "plan-paid" not in plan
    # each line and installment is a card on a phone: its cells say what they hold
    assert '<table class="change-lines stacking">' in page
    assert '<table class="change-plan stacking">' in plan
    assert 'data-label="Unit price"' in page and 'data-label="Days after"' in plan


@needs_catalog
async def test_the_plan_and_its_refusal_in_chinese(api, browser_session, worker, session_factory):
    number = await deposit_paid(api)
    owner = await chinese_session(browser_session, "sales")
    page = text_of(await owner.get(f"/orders/{number}"))
    plan = plan_section(page)
    assert "未回款部分的回款计划" in plan and "已回款的金额保持不变" in plan and "¥8,520.00" in plan

    form = form_fields(page) | {"plan-0-percent": "abc", "reason": "调整回款"}
    refused = await posted(owner, number, "/change-requests/preview", form)
    assert refused.status_code == 422
    assert "第 1 期回款：比例必须是大于 0、不超过 100 的数字。" in plan_section(text_of(refused))

    form |= {**NEW_PLAN}
    preview = text_of(await posted(owner, number, "/change-requests/preview", form))
    assert "变更后的回款" in preview
    assert "30 % 订单确认时；70 % 验收时 + 30 天" in preview
    assert await requests_of(session_factory) == 0
