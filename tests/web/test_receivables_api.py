"""Receivables through the JSON API: who sees which orders' open money, the outstanding and
overdue figures and their order, the aging buckets at their edges and their totals, filters
and paging, the roles refused, and bad query input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.reports import receivables as receivables_module
from models.tables import Customer, Installment, Order, User
from web.api.receivables import receivables_today
from workflows.rules import AGING_BUCKETS, aging_bucket

# The receivables are counted on a day of the tests' own, not the clock's.
TODAY = date(2026, 6, 15)

SHANGHAI = "Shanghai Precision Machinery Co."
HANGZHOU = "Hangzhou Green Foods Ltd."
BEIJING = "Beijing Northern Logistics"
TIANJIN = "Tianjin Port Equipment"

# The book: order -> owner, customer, installments (amount, paid, due: days from TODAY or None
# while the event it hangs on has not happened). An installment paid in full is settled.
BOOK: dict[str, tuple[str, str, list[tuple[str, str, int | None]]]] = {
    # 200 of the first installment open 40 days past due; 700 due in 20 days.
    "A": ("sales", SHANGHAI, [("300.00", "100.00", -40), ("700.00", "0.00", 20)]),
    # Nothing has a due date yet.
    "B": ("sales", HANGZHOU, [("250.00", "0.00", None), ("250.00", "0.00", None)]),
    # One day overdue; the older installment is paid.
    "C": ("sales2", BEIJING, [("1000.00", "1000.00", -91), ("1000.00", "0.00", -1)]),
    # The follower's order (East China office, like the sales rep): 30 days and due today.
    "D": ("follower", SHANGHAI, [("400.00", "0.00", -30), ("400.00", "0.00", 0)]),
    # One installment on each side of every aging edge.
    "E": (
        "sales2",
        BEIJING,
        [
            ("100.00", "0.00", -31),
            ("100.00", "0.00", -60),
            ("100.00", "0.00", -61),
            ("100.00", "0.00", -90),
            ("100.00", "0.00", -91),
            ("100.00", "0.00", 1),
        ],
    ),
    # Paid in full: no receivable.
    "F": ("sales", SHANGHAI, [("1000.00", "1000.00", -10)]),
    # Due in 5 days, both (H twice on that day); H was entered first.
    "H": ("sales2", HANGZHOU, [("150.00", "0.00", 5), ("150.00", "0.00", 5)]),
    "I": ("sales", TIANJIN, [("250.00", "0.00", 5)]),
}
# Most overdue first, then by next due date (order id on a tie), no due date last.
EVERYONE = ["E", "A", "D", "C", "H", "I", "B"]


@dataclass
class Book:
    numbers: dict[str, str]  # key -> order number
    users: dict[str, int]  # username -> id
    customers: dict[str, int]  # name -> id

    def keys(self, items: list[dict]) -> list[str]:
        by_number = {number: key for key, number in self.numbers.items()}
        return [by_number[item["order_number"]] for item in items]


async def write_book(session_factory) -> Book:
    """The orders of BOOK, confirmed and collecting, with their installments, as the collection
    steps would have written them."""
    now = datetime.now(UTC)
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        customers = {c.name: c.id for c in await session.scalars(select(Customer))}
        numbers = {}
        for n, (key, (owner, customer, plan)) in enumerate(BOOK.items(), start=1):
            total = sum(Decimal(amount) for amount, _, _ in plan)
            paid = sum(Decimal(p) for _, p, _ in plan)
            order = Order(
                number=f"SO-2026-R{n:04d}",
                customer_id=customers[customer],
                owner_id=users[owner].id,
                department_id=users[owner].department_id,
                shipping_mode="domestic",
                list_total=total,
                total=total,
                paid=paid,
                stage="closed" if paid == total else "collection",
                collection_status="paid" if paid == total else "due",
                created_at=now,
                submitted_at=now,
                confirmed_at=now,
                updated_at=now,
            )
            session.add(order)
            await session.flush()
            for position, (amount, paid_amount, due_in) in enumerate(plan, start=1):
                session.add(
                    Installment(
                        order_id=order.id,
                        position=position,
                        percent=Decimal(amount) / total * 100,
                        trigger="confirmation",
                        offset_days=0,
                        amount=Decimal(amount),
                        paid=Decimal(paid_amount),
                        settled=paid_amount == amount,
                        due_on=None if due_in is None else TODAY + timedelta(days=due_in),
                    )
                )
            numbers[key] = order.number
        await session.commit()
    return Book(
        numbers=numbers, users={name: u.id for name, u in users.items()}, customers=customers
    )


@pytest.fixture
async def book(app, session_factory) -> Book:
    app.dependency_overrides[receivables_today] = lambda: TODAY
    return await write_book(session_factory)


def outstanding_of(keys: list[str]) -> Decimal:
    return sum(
        (
            Decimal(amount) - Decimal(paid)
            for key in keys
            for amount, paid, _ in BOOK[key][2]
            if amount != paid
        ),
        Decimal("0"),
    )


def overdue_of(keys: list[str]) -> Decimal:
    return sum(
        (
            Decimal(amount) - Decimal(paid)
            for key in keys
            for amount, paid, due_in in BOOK[key][2]
            if amount != paid and due_in is not None and due_in < 0
        ),
        Decimal("0"),
    )


# --- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("sales", ["A", "I", "B"]),  # their own
        ("sales2", ["E", "C", "H"]),
        ("sales_manager", ["A", "D", "I", "B"]),  # East China office: the rep and the follower
        ("sales_manager2", ["E", "C", "H"]),  # North China office
        ("finance", EVERYONE),
        ("director", EVERYONE),
        ("admin", EVERYONE),
    ],
)
async def test_each_role_sees_exactly_the_receivables_of_its_scope(api, book, username, expected):
    client = await api(username)
    response = await client.get("/api/v1/receivables", params={"per_page": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    assert book.keys(body["items"]) == expected
    assert body["totals"] == {
        "count": len(expected),
        "outstanding": f"{outstanding_of(expected):.2f}",
        "overdue_amount": f"{overdue_of(expected):.2f}",
        "returned": "0.00",  # nothing came back
    }
    aging = (await client.get("/api/v1/receivables/aging")).json()
    assert aging["total"]["total"] == f"{outstanding_of(expected):.2f}"


@pytest.mark.parametrize(
    "username", ["warehouse", "pricing", "ops", "ops_manager", "service", "follower"]
)
@pytest.mark.parametrize("path", ["/api/v1/receivables", "/api/v1/receivables/aging"])
async def test_roles_without_receivables_are_refused_with_403(api, book, username, path):
    client = await api(username)
    response = await client.get(path, params={"page": 0})  # refused before the query is read
    assert response.status_code == 403
    assert response.json() == {"detail": receivables_module.NOT_FOR_YOUR_ROLE}


async def test_receivables_need_a_token(http, book):
    response = await http.get("/api/v1/receivables")
    assert response.status_code == 401
    assert "detail" in response.json()


# --- the figures ----------------------------------------------------------------------------


async def test_each_order_shows_what_is_open_when_it_is_due_and_how_late(api, book):
    finance = await api("finance")
    body = (await finance.get("/api/v1/receivables")).json()
    rows = dict(zip(book.keys(body["items"]), body["items"], strict=True))
    a = rows["A"]
    assert a["customer"] == {"id": book.customers[SHANGHAI], "name": SHANGHAI}
    assert a["owner"]["username"] == "sales"
    assert a["owner"]["id"] == book.users["sales"]
    assert (a["total"], a["paid"], a["outstanding"]) == ("1000.00", "100.00", "900.00")
    assert a["next_due_date"] == str(TODAY - timedelta(days=40))
    assert (a["overdue_days"], a["overdue_amount"]) == (40, "200.00")
    # Overdue since the oldest open installment; paid ones don't count.
    c = rows["C"]
    assert (c["outstanding"], c["overdue_days"], c["overdue_amount"]) == ("1000.00", 1, "1000.00")
    assert c["next_due_date"] == str(TODAY - timedelta(days=1))
    # Due today is not overdue yet.
    d = rows["D"]
    assert (d["overdue_days"], d["overdue_amount"], d["outstanding"]) == (30, "400.00", "800.00")
    e = rows["E"]
    assert (e["overdue_days"], e["overdue_amount"], e["outstanding"]) == (91, "500.00", "600.00")
    h = rows["H"]
    assert (h["overdue_days"], h["overdue_amount"]) == (0, "0.00")
    assert h["next_due_date"] == str(TODAY + timedelta(days=5))
    b = rows["B"]
    assert (b["next_due_date"], b["overdue_days"], b["overdue_amount"]) == (None, 0, "0.00")
    assert "F" not in rows  # paid in full
    assert body["as_of"] == str(TODAY)
    assert body["currency"] == "CNY"
    assert body["totals"] == {
        "count": 7,
        "outstanding": "4350.00",
        "overdue_amount": "2100.00",
        "returned": "0.00",
    }


async def test_a_part_payment_lowers_the_outstanding_and_overdue_amounts(
    api, book, session_factory
):
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == book.numbers["E"]))
        oldest = await session.scalar(
            select(Installment).where(Installment.order_id == order.id, Installment.position == 5)
        )
        oldest.paid, oldest.settled = Decimal("100.00"), True  # the 91-day one is paid
        second = await session.scalar(
            select(Installment).where(Installment.order_id == order.id, Installment.position == 4)
        )
        second.paid = Decimal("40.00")  # the 90-day one partly
        await session.commit()
    finance = await api("finance")
    body = (await finance.get("/api/v1/receivables")).json()
    e = body["items"][0]
    assert book.keys([e]) == ["E"]  # still the most overdue: 90 days now
    assert (e["overdue_days"], e["outstanding"], e["overdue_amount"]) == (90, "460.00", "360.00")
    assert body["totals"]["outstanding"] == "4210.00"


# --- aging ----------------------------------------------------------------------------------


def expected_aging() -> dict[str, dict[str, Decimal]]:
    """The book's open money by customer and rules.aging_bucket, worked out in Python."""
    found: dict[str, dict[str, Decimal]] = {}
    for owner_customer_plan in BOOK.values():
        _, customer, plan = owner_customer_plan
        for amount, paid, due_in in plan:
            if amount == paid:
                continue
            due = None if due_in is None else TODAY + timedelta(days=due_in)
            buckets = found.setdefault(customer, dict.fromkeys(AGING_BUCKETS, Decimal("0")))
            buckets[aging_bucket(due, TODAY)] += Decimal(amount) - Decimal(paid)
    return found


async def test_aging_puts_each_open_amount_in_its_bucket_per_customer_with_a_total_row(api, book):
    finance = await api("finance")
    response = await finance.get("/api/v1/receivables/aging")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["buckets"] == ["not_due", "1-30", "31-60", "61-90", "over_90"]
    assert body["as_of"] == str(TODAY)
    by_customer = {row["customer"]["name"]: row for row in body["customers"]}
    assert list(by_customer) == [BEIJING, HANGZHOU, SHANGHAI, TIANJIN]  # by name
    # The edges: 1 and 30 days late are 1-30, 31 and 60 are 31-60, 61 and 90 are 61-90,
    # 91 is over 90; due today, due later and no due date yet are not due.
    assert by_customer[BEIJING]["buckets"] == {
        "not_due": "100.00",  # E, due tomorrow
        "1-30": "1000.00",  # C, 1 day
        "31-60": "200.00",  # E, 31 and 60 days
        "61-90": "200.00",  # E, 61 and 90 days
        "over_90": "100.00",  # E, 91 days
    }
    assert by_customer[SHANGHAI]["buckets"] == {
        "not_due": "1100.00",  # A in 20 days, D due today
        "1-30": "400.00",  # D, 30 days
        "31-60": "200.00",  # A, 40 days, 100 of 300 paid
        "61-90": "0.00",
        "over_90": "0.00",
    }
    assert by_customer[HANGZHOU]["buckets"]["not_due"] == "800.00"  # B without a date, H
    assert by_customer[TIANJIN]["total"] == "250.00"
    # The same as rules.aging_bucket says, installment by installment.
    expected = expected_aging()
    for name, row in by_customer.items():
        assert {k: Decimal(v) for k, v in row["buckets"].items()} == expected[name]
        assert Decimal(row["total"]) == sum(expected[name].values())
    assert body["total"] == {
        "customer": None,
        "buckets": {
            "not_due": "2250.00",
            "1-30": "1400.00",
            "31-60": "400.00",
            "61-90": "200.00",
            "over_90": "100.00",
        },
        "total": "4350.00",
        "returned": "0.00",
    }


async def test_aging_follows_the_day_it_is_counted_on(app, api, book):
    app.dependency_overrides[receivables_today] = lambda: TODAY + timedelta(days=1)
    finance = await api("finance")
    body = (await finance.get("/api/v1/receivables/aging")).json()
    beijing = next(r for r in body["customers"] if r["customer"]["name"] == BEIJING)
    # A day later: C is 2 days late; E's 31-day one is 32 (still 31-60), 60 -> 61 (with 61 ->
    # 62: 61-90), 90 -> 91 (with 91 -> 92: over 90), and the one due "tomorrow" is due today.
    assert beijing["buckets"] == {
        "not_due": "100.00",
        "1-30": "1000.00",
        "31-60": "100.00",
        "61-90": "200.00",
        "over_90": "200.00",
    }


async def test_aging_filters_by_customer_and_owner(api, book):
    finance = await api("finance")
    only_shanghai = (
        await finance.get(
            "/api/v1/receivables/aging", params={"customer_id": book.customers[SHANGHAI]}
        )
    ).json()
    assert [r["customer"]["name"] for r in only_shanghai["customers"]] == [SHANGHAI]
    assert only_shanghai["total"]["total"] == "1700.00"
    followers = (
        await finance.get("/api/v1/receivables/aging", params={"owner_id": book.users["follower"]})
    ).json()
    assert followers["total"]["buckets"]["1-30"] == "400.00"
    assert followers["total"]["total"] == "800.00"


# --- filters and paging ---------------------------------------------------------------------


async def test_filters_keep_overdue_orders_a_customer_or_an_owner(api, book):
    finance = await api("finance")

    async def keys(**params) -> tuple[list[str], dict]:
        body = (await finance.get("/api/v1/receivables", params=params)).json()
        return book.keys(body["items"]), body["totals"]

    overdue, totals = await keys(overdue="true")
    assert overdue == ["E", "A", "D", "C"]
    # The outstanding of the overdue orders includes their installments not yet due.
    assert totals == {
        "count": 4,
        "outstanding": "3300.00",
        "overdue_amount": "2100.00",
        "returned": "0.00",
    }
    assert (await keys(customer_id=book.customers[BEIJING]))[0] == ["E", "C"]
    assert (await keys(owner_id=book.users["sales2"]))[0] == ["E", "C", "H"]
    assert (await keys(overdue="true", customer_id=book.customers[SHANGHAI]))[0] == ["A", "D"]
    assert (await keys(overdue="false"))[0] == EVERYONE
    # A filter never widens the scope: the rep asking for someone else's orders gets none.
    sales = await api("sales")
    body = (
        await sales.get("/api/v1/receivables", params={"owner_id": book.users["sales2"]})
    ).json()
    assert body["items"] == [] and body["totals"]["count"] == 0
    assert body["totals"]["outstanding"] == "0.00"


@pytest.mark.parametrize("walk_at_most", [5000, 0, 3], ids=["walked", "sorted", "both"])
async def test_pages_follow_each_other_with_totals_over_every_page(
    api, book, monkeypatch, walk_at_most
):
    """A page near the top is found by walking due dates, one further down by sorting every
    order (WALK_AT_MOST); either way the pages add up to the whole list, through the turn
    from orders with a due date to those without."""
    monkeypatch.setattr(receivables_module, "WALK_AT_MOST", walk_at_most)
    finance = await api("finance")
    for per_page in range(1, 9):
        seen: list[str] = []
        pages = -(-len(EVERYONE) // per_page)
        for page in range(1, pages + 2):
            response = await finance.get(
                "/api/v1/receivables", params={"page": page, "per_page": per_page}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["page"], body["per_page"], body["pages"]) == (page, per_page, pages)
            assert body["totals"]["count"] == len(EVERYONE)
            assert body["totals"]["outstanding"] == "4350.00"
            seen += book.keys(body["items"])
        assert seen == EVERYONE, f"per_page={per_page}"
    overdue = await finance.get(
        "/api/v1/receivables", params={"overdue": "true", "page": 2, "per_page": 3}
    )
    assert book.keys(overdue.json()["items"]) == ["C"]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "The page must be at least 1."),
        ("per_page=1000", "The number per page must be at most 200."),
        ("per_page=0", "The number per page must be at least 1."),
        ("customer_id=abc", "The customer must be a whole number."),
        ("owner_id=-3", "The owner must be at least 1."),
        ("overdue=perhaps", "The overdue filter must be yes or no."),
    ],
)
async def test_bad_query_input_is_refused_with_a_clear_message(api, book, query, message):
    finance = await api("finance")
    response = await finance.get(f"/api/v1/receivables?{query}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)


async def test_bad_aging_query_input_is_refused_with_a_clear_message(api, book):
    finance = await api("finance")
    response = await finance.get("/api/v1/receivables/aging?customer_id=abc")
    assert response.status_code == 422
    assert response.json()["detail"] == "The customer must be a whole number."
