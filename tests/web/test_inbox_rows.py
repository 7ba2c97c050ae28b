"""Every inbox row says what sets it apart from the order's other to-dos (issue 18, defect 7):
two payments of one order are two rows with their own amount, method and reference; a
milestone, a cost batch, an invoice, a refund, a credit note, a return or a change request is
named on its row, on the page and in the API's `about`, with no query per row. The inbox
filters by kind, order, customer and due time and sorts by its columns (issue 18, items 10 and
14); an unknown column or filter gives the usual inbox, never an error."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from models.tables import Customer, Order, Todo, TodoAssignee, User
from tests.web.test_collection_api import collecting_order, payment, register
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import order_body, todo_of

NOW = datetime.now(UTC)


async def new_draft(api, customer_id: int = 1) -> str:
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(customer_id=customer_id))
    assert created.status_code == 201, created.text
    return str(created.json()["number"])


async def seed(
    session_factory,
    number: str,
    kind: str,
    facts: dict[str, Any] | None = None,
    *,
    username: str = "finance",
    workflow: str = "",
    created_at: datetime | None = None,
    due_at: datetime | None = None,
    requested_by: str | None = None,
) -> int:
    """An open to-do of the order for one person, stored as the workflow's activities store
    it (the facts of its kind, the id of the workflow that opened it)."""
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        person = await session.scalar(select(User).where(User.username == username))
        asker = None
        if requested_by:
            asker = await session.scalar(select(User.id).where(User.username == requested_by))
        count = len(list(await session.scalars(select(Todo.id))))
        created = created_at or NOW - timedelta(minutes=60 - count % 60)
        todo = Todo(
            key=f"order-{number}/seeded/{kind}/{count}",
            order_id=order.id,
            workflow_id=workflow or f"order-{number}",
            kind=kind,
            status="open",
            requested_by_id=asker,
            created_at=created,
            due_at=due_at,
            facts=facts,
            assignees=[
                TodoAssignee(user_id=person.id, status="open", created_at=created),
            ],
        )
        session.add(todo)
        await session.commit()
        return todo.id


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-todo="\d+" data-kind="[a-z_]+">.*?</tr>', page, re.S)


def text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def about_of(row: str) -> str:
    found = re.search(r'<div class="facts about"[^>]*>(.*?)</div>', row, re.S)
    assert found, f"the row says nothing that sets it apart: {text(row)}"
    return text(found.group(1))


def ids_of(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-todo="(\d+)"', page)]


# -- two payments of one order ----------------------------------------------------------------


async def test_two_payments_of_one_order_are_two_rows_each_with_its_amount_method_and_reference(
    api, browser_session, worker
):
    number = await collecting_order(api)
    sales = await api("sales")
    await register(sales, number, payment("5000.00", "TT-001"))
    await register(sales, number, payment("3000.00", "CHQ-77", method="cheque"))
    finance = await api("finance")
    await todo_of(finance, number, "confirm_payment")
    listed = [
        t
        for t in (await finance.get("/api/v1/todos", params={"kind": "confirm_payment"})).json()
        if t["order_number"] == number
    ]
    assert [
        (t["about"]["amount"], t["about"]["method"], t["about"]["reference"]) for t in listed
    ] == [
        ("5000.00", "bank_transfer", "TT-001"),
        ("3000.00", "cheque", "CHQ-77"),
    ]
    assert [t["about"]["payment"] for t in listed] == [1, 2]
    assert listed[0]["title"] == listed[1]["title"]  # the kind alone would not tell them apart

    page = (await (await browser_session("finance")).get("/", params={"order": number})).text
    rows = [about_of(r) for r in rows_of(page) if 'data-kind="confirm_payment"' in r]
    assert len(rows) == 2
    assert rows[0].startswith("Payment 1: CN¥5,000.00 Bank transfer ref. TT-001 received")
    assert rows[1].startswith("Payment 2: CN¥3,000.00 Cheque ref. CHQ-77 received")


@needs_catalog
async def test_the_two_payment_rows_are_told_apart_in_chinese_too(
    api, browser_session, session_factory
):
    number = await new_draft(api)
    facts = {"received_on": NOW.date().isoformat()}
    await seed(session_factory, number, "confirm_payment", {"payment": 1, "amount": "5000.00",
               "method": "bank_transfer", "reference": "TT-001", **facts})  # fmt: skip
    await seed(session_factory, number, "confirm_payment", {"payment": 2, "amount": "3000.00",
               "method": "cheque", "reference": "CHQ-77", **facts})  # fmt: skip
    finance = await chinese_session(browser_session, "finance")
    rows = [about_of(r) for r in rows_of((await finance.get("/")).text)]
    assert rows[0].startswith("付款 1：¥5,000.00 银行转账 参考号 TT-001")
    assert rows[1].startswith("付款 2：¥3,000.00 支票 参考号 CHQ-77")


# -- each kind's distinguishing fact ------------------------------------------------------------

KINDS: list[tuple[str, dict[str, Any] | None, str, str, dict[str, Any]]] = [
    # kind, facts as stored, the opening workflow's id after the order's, the row says, API about
    ("collect", {"installment": 2, "due": "2026-03-01", "amount": "19880.00"}, "/collection",
     "Installment 2: CN¥19,880.00 due on Mar 1, 2026",
     {"installment": 2, "amount": "19880.00", "due_on": "2026-03-01"}),
    ("confirm_milestone", {"code": "customs_declaration", "planned_date": "2026-02-10"},
     "/shipment", "Customs declaration planned for Feb 10, 2026",
     {"milestone": "customs_declaration", "planned_on": "2026-02-10"}),
    ("approve_actual_costs", {"batch": 2, "total": "1200.50", "items": [], "final": False}, "",
     "Batch 2: CN¥1,200.50", {"batch": 2, "amount": "1200.50"}),
    ("issue_invoice", {"request": 3, "amount": "8520.00", "title": "T", "tax_number": "X",
                       "address": "A"}, "",
     "Invoice application 3: CN¥8,520.00", {"invoice_request": 3, "amount": "8520.00"}),
    ("confirm_refund", {"refund": 1, "amount": "400.00", "return": 2}, "",
     "Refund 1: CN¥400.00 for return 2", {"refund": 1, "amount": "400.00", "return_number": 2}),
    ("issue_credit_note", {"invoice_number": "INV-9", "amount": "700.00"}, "",
     "Credit note of CN¥700.00 for invoice INV-9",
     {"invoice_number": "INV-9", "amount": "700.00"}),
    ("receive_return", {"return": 2, "lines": []}, "", "Return 2", {"return_number": 2}),
    ("approve_return", {"total": "1", "max_discount_percent": "0"}, "/return/3/approval",
     "Return 3", {"return_number": 3}),
    ("approve_change", {"total": "1", "max_discount_percent": "0"}, "/change/4/approval",
     "Change request 4", {"change_request": 4}),
]  # fmt: skip


async def test_each_kind_of_todo_names_its_payment_milestone_batch_invoice_return_or_change(
    api, browser_session, session_factory
):
    number = await new_draft(api)
    for kind, facts, workflow, _, _ in KINDS:
        await seed(session_factory, number, kind, facts, workflow=f"order-{number}{workflow}")
    page = (await (await browser_session("finance")).get("/")).text
    said = {re.search(r'data-kind="([a-z_]+)"', r).group(1): about_of(r) for r in rows_of(page)}
    listed = (await (await api("finance")).get("/api/v1/todos")).json()
    about = {t["kind"]: t["about"] for t in listed}
    for kind, _, _, words, fields in KINDS:
        assert said[kind] == words, kind
        assert about[kind] == fields, kind


async def test_a_cost_batch_amount_stays_hidden_from_someone_who_does_not_see_costs(
    api, browser_session, session_factory
):
    number = await new_draft(api)
    facts = {"batch": 1, "total": "999.00", "items": [], "final": True}
    await seed(session_factory, number, "approve_actual_costs", facts, username="sales")
    [listed] = (await (await api("sales")).get("/api/v1/todos")).json()
    assert listed["about"] is None
    page = (await (await browser_session("sales")).get("/")).text
    assert "999" not in text(page)


async def test_an_inbox_of_200_todos_is_read_in_as_few_queries_as_one_of_2(
    api, browser_session, session_factory
):
    number = await new_draft(api)
    finance = await browser_session("finance")
    engine = session_factory.kw["bind"].sync_engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    async def queries_of_inbox() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = await finance.get("/")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    for n in range(2):
        await seed(session_factory, number, "confirm_payment", {"payment": n + 1,
                   "amount": "10.00", "method": "cash", "reference": f"R{n}"})  # fmt: skip
    few = await queries_of_inbox()
    for n in range(2, 200):
        await seed(session_factory, number, "confirm_payment", {"payment": n + 1,
                   "amount": "10.00", "method": "cash", "reference": f"R{n}"})  # fmt: skip
    many = await queries_of_inbox()
    page = (await finance.get("/")).text
    assert len(rows_of(page)) == 200
    assert "ref. R199" in text(page)
    assert many == few <= 6, statements


# -- filters and sorting ------------------------------------------------------------------------


async def two_customers_todos(api, session_factory) -> dict[str, int]:
    """Four to-dos for finance on two orders of two customers, with due times late, within a
    day, next week and none."""
    first, second = await new_draft(api, customer_id=1), await new_draft(api, customer_id=2)
    ids = {
        "late": await seed(session_factory, first, "confirm_payment",
                           {"payment": 1, "amount": "10.00"},
                           created_at=NOW - timedelta(hours=4), due_at=NOW - timedelta(hours=1),
                           requested_by="sales2"),
        "day": await seed(session_factory, second, "issue_invoice",
                          {"request": 1, "amount": "20.00"},
                          created_at=NOW - timedelta(hours=3), due_at=NOW + timedelta(hours=5),
                          requested_by="sales"),
        "week": await seed(session_factory, first, "issue_invoice",
                           {"request": 2, "amount": "30.00"},
                           created_at=NOW - timedelta(hours=2), due_at=NOW + timedelta(days=4)),
        "none": await seed(session_factory, second, "confirm_payment",
                           {"payment": 2, "amount": "40.00"},
                           created_at=NOW - timedelta(hours=1)),
    }  # fmt: skip
    return ids


async def test_the_inbox_filters_by_kind_order_customer_and_due_time(
    api, browser_session, session_factory
):
    ids = await two_customers_todos(api, session_factory)
    finance = await browser_session("finance")
    async with session_factory() as session:
        second_customer = await session.scalar(select(Customer.name).where(Customer.id == 2))
        first_number = await session.scalar(
            select(Order.number).join(Todo, Todo.order_id == Order.id).where(Todo.id == ids["late"])
        )

    async def shown(**params: str) -> list[int]:
        response = await finance.get("/", params=params)
        assert response.status_code == 200
        return ids_of(response.text)

    assert await shown() == [ids["late"], ids["day"], ids["week"], ids["none"]]
    assert await shown(kind="issue_invoice") == [ids["day"], ids["week"]]
    assert await shown(order=first_number[-5:]) == [ids["late"], ids["week"]]
    assert await shown(customer=second_customer[:8].lower()) == [ids["day"], ids["none"]]
    assert await shown(due="late") == [ids["late"]]
    assert await shown(due="day") == [ids["day"]]
    assert await shown(due="week") == [ids["day"], ids["week"]]
    assert await shown(due="none") == [ids["none"]]
    assert await shown(kind="confirm_payment", due="none") == [ids["none"]]
    # what the inbox does not know is left out, never an error
    assert await shown(kind="no_such_kind", due="someday") == await shown()
    page = (await finance.get("/", params={"order": "SO-1999"})).text
    assert "No to-do matches these filters." in page
    # the API narrows the same way
    listed = (await (await api("finance")).get("/api/v1/todos", params={"due": "late"})).json()
    assert [t["id"] for t in listed] == [ids["late"]]


async def test_the_inbox_sorts_by_each_column_and_its_headers_keep_the_filters(
    api, browser_session, session_factory
):
    ids = await two_customers_todos(api, session_factory)
    finance = await browser_session("finance")
    late, day, week, none = ids["late"], ids["day"], ids["week"], ids["none"]

    async def order_of(sort: str, direction: str = "asc", **params: str) -> list[int]:
        response = await finance.get("/", params={"sort": sort, "dir": direction, **params})
        assert response.status_code == 200
        return ids_of(response.text)

    assert await order_of("due") == [late, day, week, none]  # no due time last
    assert await order_of("due", "desc") == [week, day, late, none]  # ... either way
    assert await order_of("since", "desc") == [none, week, day, late]
    assert await order_of("kind") == [late, none, day, week]  # confirm_payment, issue_invoice
    assert await order_of("order") == [late, week, day, none]
    assert await order_of("order", "desc") == [day, none, late, week]
    assert await order_of("total") == [late, day, week, none]  # equal totals: oldest first
    assert await order_of("asked_by") == [late, day, week, none]  # Chen Jie, Wang Fang, nobody
    assert await order_of("asked_by", "desc") == [day, late, week, none]
    page = (await finance.get("/", params={"kind": "issue_invoice", "sort": "due"})).text
    header = re.search(r'<th aria-sort="ascending" data-sort="due"><a class="sort-link" '
                       r'href="([^"]+)"', page)  # fmt: skip
    assert header, "the Due header says the inbox is sorted by it"
    assert html.unescape(header.group(1)) == "/?kind=issue_invoice&sort=due&dir=desc"
    assert 'href="/?kind=issue_invoice&amp;sort=customer&amp;dir=asc"' in page
    api_sorted = (
        await (await api("finance")).get("/api/v1/todos", params={"sort": "due", "dir": "desc"})
    ).json()
    assert [t["id"] for t in api_sorted] == [week, day, late, none]


async def test_a_bad_sort_value_gives_the_usual_inbox_oldest_first(
    api, browser_session, session_factory
):
    ids = await two_customers_todos(api, session_factory)
    usual = [ids["late"], ids["day"], ids["week"], ids["none"]]
    finance = await browser_session("finance")
    for params in (
        {"sort": "password"},
        {"sort": "due; DROP TABLE todos", "dir": "desc"},
        {"sort": "", "dir": "sideways"},
        {"sort": "due", "dir": "sideways"},  # a bad direction: ascending
    ):
        response = await finance.get("/", params=params)
        assert response.status_code == 200, params
        assert ids_of(response.text) == usual, params  # due ascending is the usual order here
        header = "due" if params["sort"] == "due" else "since"  # else the usual: oldest first
        assert f'aria-sort="ascending" data-sort="{header}"' in response.text, params
    listed = await (await api("finance")).get("/api/v1/todos", params={"sort": "nope"})
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == usual


async def test_a_rep_filtering_the_inbox_by_another_reps_order_finds_nothing(
    api, browser_session, session_factory
):
    number = await new_draft(api)
    await seed(session_factory, number, "collect", {"installment": 1, "amount": "5.00",
               "due": "2026-01-01"}, username="sales")  # fmt: skip
    other = await browser_session("sales2")
    page = (await other.get("/", params={"order": number})).text
    assert ids_of(page) == []
    mine = (await (await browser_session("sales")).get("/", params={"order": number})).text
    assert len(ids_of(mine)) == 1
