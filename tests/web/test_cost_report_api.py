"""The cost variance report through the JSON API: closed orders of a period ranked by the size
of their variance, the figures per order and per category, each filter, the period's edges,
totals over every page, paging, the roles refused and bad filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.domain import CostCategory
from models.reports import cost_report as cost_report_module
from models.tables import Customer, Department, Order, OrderCostVariance, User
from web.api.reports import report_today

# The report's default period ends on a day of the tests' own, not the clock's.
TODAY = date(2026, 6, 15)
FIRST_DAY = TODAY - timedelta(days=89)  # the default period: 90 days, today included

SHANGHAI = "Shanghai Precision Machinery Co."
HANGZHOU = "Hangzhou Green Foods Ltd."
BEIJING = "Beijing Northern Logistics"
TIANJIN = "Tianjin Port Equipment"

# The closed orders: key -> owner, customer, when it closed, total, {category: (expected,
# actual)} (the other categories expected and spent nothing), ops' explanation.
BOOK: dict[str, tuple[str, str, datetime | None, str, dict[str, tuple[str, str]], str | None]] = {
    "A": ("sales", SHANGHAI, datetime.combine(TODAY - timedelta(days=1), time(10), UTC), "2000.00",
          {"goods": ("1000.00", "1100.00"), "freight": ("200.00", "150.00")}, None),
    "B": ("sales2", BEIJING, datetime.combine(TODAY - timedelta(days=10), time(9), UTC),
          "8000.00", {"goods": ("5000.00", "4400.00"), "freight": ("300.00", "300.00")},
          "The supplier gave a volume discount."),
    "C": ("follower", SHANGHAI, datetime.combine(TODAY - timedelta(days=30), time(16), UTC),
          "4000.00", {"goods": ("2000.00", "2000.00"), "freight": ("100.00", "400.00"),
                      "installation": ("500.00", "500.00")},
          "Reshipped by air after the damage."),
    # Closed at the first moment of the default period.
    "D": ("sales", HANGZHOU, datetime.combine(FIRST_DAY, time.min, UTC), "1500.00",
          {"goods": ("800.00", "1600.00")}, "Steel prices rose."),
    # Closed at the last moment before it: outside.
    "E": ("sales2", TIANJIN, datetime.combine(FIRST_DAY, time.min, UTC) - timedelta(seconds=1),
          "5000.00", {"goods": ("1000.00", "3000.00")}, "Wrong estimate."),
    # Closed at the last moment of today.
    "F": ("sales", BEIJING, datetime.combine(TODAY, time(23, 59, 59), UTC), "300.00",
          {"goods": ("100.00", "90.00")}, None),
    "G": ("sales_manager2", HANGZHOU, datetime.combine(TODAY - timedelta(days=5), time(12), UTC),
          "6000.00", {"goods": ("3000.00", "3000.00"), "customs": ("200.00", "50.00")},
          "Customs waived the inspection fee."),
    # Not closed yet (in cost review): never in the report.
    "H": ("sales", SHANGHAI, None, "900.00", {"goods": ("500.00", "900.00")}, None),
    # The same size of variance as A, the other way: A was entered first.
    "I": ("sales2", TIANJIN, datetime.combine(TODAY - timedelta(days=2), time(8), UTC), "700.00",
          {"goods": ("400.00", "350.00")}, None),
}  # fmt: skip
# The default period, largest variance first (either way), by order id on a tie.
BY_VARIANCE = ["D", "B", "C", "G", "A", "I", "F"]


def figures_of(key: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Every category's expected and actual cost, as the closing step writes them."""
    given = BOOK[key][4]
    return {
        c.value: tuple(Decimal(v) for v in given.get(c.value, ("0.00", "0.00")))
        for c in CostCategory
    }


def expected_cost_of(key: str) -> Decimal:
    return sum((e for e, _ in figures_of(key).values()), Decimal("0.00"))


def actual_cost_of(key: str) -> Decimal:
    return sum((a for _, a in figures_of(key).values()), Decimal("0.00"))


def percent(difference: Decimal, base: Decimal) -> Decimal | None:
    return None if not base else (difference / base * 100).quantize(Decimal("0.01"))


@dataclass
class Book:
    numbers: dict[str, str]  # key -> order number
    users: dict[str, int]  # username -> id
    customers: dict[str, int]  # name -> id
    departments: dict[str, int]  # name -> id

    def keys(self, items: list[dict]) -> list[str]:
        by_number = {number: key for key, number in self.numbers.items()}
        return [by_number[item["order_number"]] for item in items]


async def write_book(session_factory) -> Book:
    """The orders of BOOK as the closing step leaves them: the variance and explanation on
    the order, and its figures per category."""
    now = datetime.now(UTC)
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        customers = {c.name: c.id for c in await session.scalars(select(Customer))}
        departments = {d.name: d.id for d in await session.scalars(select(Department))}
        numbers = {}
        for n, (key, (owner, customer, closed_at, total, _, explanation)) in enumerate(
            BOOK.items(), start=1
        ):
            expected, actual = expected_cost_of(key), actual_cost_of(key)
            closed = closed_at is not None
            order = Order(
                number=f"SO-2026-V{n:04d}",
                customer_id=customers[customer],
                owner_id=users[owner].id,
                department_id=users[owner].department_id,
                shipping_mode="domestic",
                list_total=Decimal(total),
                total=Decimal(total),
                paid=Decimal(total),
                stage="closed" if closed else "cost_review",
                collection_status="paid",
                expected_cost=expected,
                expected_margin=Decimal(total) - expected,
                actual_cost=actual,
                variance=actual - expected if closed else None,
                variance_percent=percent(actual - expected, expected) if closed else None,
                variance_explanation=explanation,
                closed_at=closed_at,
                created_at=now,
                submitted_at=now,
                confirmed_at=now,
                updated_at=now,
            )
            session.add(order)
            await session.flush()
            if closed:
                for category, (planned, spent) in figures_of(key).items():
                    session.add(
                        OrderCostVariance(
                            order_id=order.id,
                            category=category,
                            expected=planned,
                            actual=spent,
                            difference=spent - planned,
                        )
                    )
            numbers[key] = order.number
        await session.commit()
    return Book(
        numbers=numbers,
        users={name: u.id for name, u in users.items()},
        customers=customers,
        departments=departments,
    )


@pytest.fixture
async def book(app, session_factory) -> Book:
    app.dependency_overrides[report_today] = lambda: TODAY
    return await write_book(session_factory)


def totals_of(keys: list[str]) -> dict:
    expected = sum((expected_cost_of(k) for k in keys), Decimal("0.00"))
    actual = sum((actual_cost_of(k) for k in keys), Decimal("0.00"))
    variance = actual - expected
    return {
        "count": len(keys),
        "expected_cost": f"{expected:.2f}",
        "actual_cost": f"{actual:.2f}",
        "variance": f"{variance:.2f}",
        "variance_percent": None if not expected else f"{percent(variance, expected):.2f}",
        "category": None,
    }


async def report(client, **params) -> dict:
    response = await client.get("/api/v1/reports/cost-variance", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- who may look ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ops", "ops_manager", "director"])
async def test_operations_and_directors_see_every_closed_order_by_the_size_of_its_variance(
    api, book, username
):
    body = await report(await api(username))
    assert book.keys(body["items"]) == BY_VARIANCE
    assert body["totals"] == totals_of(BY_VARIANCE)
    assert body["period"] == {"closed_from": str(FIRST_DAY), "closed_to": str(TODAY)}
    assert (body["page"], body["per_page"], body["pages"]) == (1, 25, 1)
    assert (body["category"], body["currency"]) == (None, "CNY")


@pytest.mark.parametrize(
    "username",
    ["sales", "sales2", "sales_manager", "follower", "finance", "pricing", "warehouse", "service",
     "admin"],
)  # fmt: skip
async def test_everyone_else_is_refused_with_403(api, book, username):
    client = await api(username)
    # Refused before the query is read: a bad filter does not turn it into a 422.
    response = await client.get("/api/v1/reports/cost-variance", params={"category": "labour"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "The cost variance report is for business operations and directors."
    }
    assert response.json()["detail"] == cost_report_module.NOT_FOR_YOUR_ROLE


async def test_the_report_needs_a_token(http, book):
    response = await http.get("/api/v1/reports/cost-variance")
    assert response.status_code == 401


# --- the figures ----------------------------------------------------------------------------


async def test_each_order_shows_its_revenue_costs_variance_and_explanation(api, book):
    body = await report(await api("ops"))
    rows = dict(zip(book.keys(body["items"]), body["items"], strict=True))
    d = rows["D"]
    assert d["customer"] == {"id": book.customers[HANGZHOU], "name": HANGZHOU}
    assert d["owner"] == {
        "id": book.users["sales"],
        "username": "sales",
        "full_name": "Wang Fang",
    }
    assert d["department"] == {
        "id": book.departments["East China office"],
        "name": "East China office",
    }
    assert d["closed_at"].startswith(f"{FIRST_DAY}T00:00:00")
    assert (d["total"], d["expected_cost"], d["actual_cost"]) == ("1500.00", "800.00", "1600.00")
    assert (d["variance"], d["variance_percent"]) == ("800.00", "100.00")
    assert d["explanation"] == "Steel prices rose."
    assert d["category"] is None  # no category asked for
    b = rows["B"]  # cost less than expected: a negative variance
    assert (b["expected_cost"], b["actual_cost"], b["variance"]) == (
        "5300.00",
        "4700.00",
        "-600.00",
    )
    assert b["variance_percent"] == "-11.32"
    assert b["explanation"] == "The supplier gave a volume discount."
    assert b["department"]["name"] == "North China office"
    a = rows["A"]
    assert (a["variance"], a["variance_percent"], a["explanation"]) == ("50.00", "4.17", None)
    assert rows["G"]["owner"]["username"] == "sales_manager2"
    assert body["totals"] == {
        "count": 7,
        "expected_cost": "13600.00",
        "actual_cost": "13940.00",
        "variance": "340.00",
        "variance_percent": "2.50",
        "category": None,
    }


async def test_a_category_ranks_by_its_own_variance_and_shows_its_figures(api, book):
    ops = await api("ops")
    body = await report(ops, category="freight")
    # C's freight cost 300 more, A's 50 less; the rest spent what was expected (by id).
    assert book.keys(body["items"]) == ["C", "A", "B", "D", "F", "G", "I"]
    assert body["category"] == "freight"
    rows = dict(zip(book.keys(body["items"]), body["items"], strict=True))
    assert rows["C"]["category"] == {
        "category": "freight",
        "expected": "100.00",
        "actual": "400.00",
        "difference": "300.00",
        "percent": "300.00",
    }
    assert rows["A"]["category"] == {
        "category": "freight",
        "expected": "200.00",
        "actual": "150.00",
        "difference": "-50.00",
        "percent": "-25.00",
    }
    # Nothing expected: no percentage.
    assert rows["D"]["category"]["percent"] is None
    # The order's own figures stay the whole order's.
    assert (rows["C"]["variance"], rows["C"]["expected_cost"]) == ("300.00", "2600.00")
    assert body["totals"] == {
        **totals_of(BY_VARIANCE),
        "category": {
            "category": "freight",
            "expected": "600.00",
            "actual": "850.00",
            "difference": "250.00",
            "percent": "41.67",
        },
    }
    customs = await report(ops, category="customs")
    assert book.keys(customs["items"]) == ["G", "A", "B", "C", "D", "F", "I"]
    assert customs["totals"]["category"]["difference"] == "-150.00"


# --- filters --------------------------------------------------------------------------------


async def test_filters_keep_a_customer_an_owner_or_a_department_with_those_below_it(api, book):
    ops = await api("ops_manager")

    async def keys(**params) -> list[str]:
        return book.keys((await report(ops, **params))["items"])

    assert await keys(customer_id=book.customers[SHANGHAI]) == ["C", "A"]
    assert await keys(owner_id=book.users["sales"]) == ["D", "A", "F"]
    assert await keys(department_id=book.departments["East China office"]) == ["D", "C", "A", "F"]
    assert await keys(department_id=book.departments["North China office"]) == ["B", "G", "I"]
    # Sales has both offices below it.
    assert await keys(department_id=book.departments["Sales"]) == BY_VARIANCE
    assert await keys(department_id=book.departments["Finance"]) == []
    # Filters together, with a category.
    together = await report(
        ops,
        category="goods",
        department_id=book.departments["Sales"],
        owner_id=book.users["sales"],
        customer_id=book.customers[HANGZHOU],
    )
    assert book.keys(together["items"]) == ["D"]
    assert together["totals"] == {
        **totals_of(["D"]),
        "category": {
            "category": "goods",
            "expected": "800.00",
            "actual": "1600.00",
            "difference": "800.00",
            "percent": "100.00",
        },
    }
    # Someone nobody has: nothing, with zero totals.
    none = await report(ops, customer_id=99999)
    assert none["items"] == []
    assert none["totals"] == {
        "count": 0,
        "expected_cost": "0.00",
        "actual_cost": "0.00",
        "variance": "0.00",
        "variance_percent": None,
        "category": None,
    }
    assert none["pages"] == 1


async def test_the_period_includes_both_of_its_days_whole(api, book):
    director = await api("director")
    # One day earlier: E, closed the last second before the default period, comes in first.
    wider = await report(director, closed_from=str(FIRST_DAY - timedelta(days=1)))
    assert book.keys(wider["items"]) == ["E", *BY_VARIANCE]
    assert wider["period"] == {
        "closed_from": str(FIRST_DAY - timedelta(days=1)),
        "closed_to": str(TODAY),
    }
    # Today alone: F closed a second before midnight.
    today = await report(director, closed_from=str(TODAY), closed_to=str(TODAY))
    assert book.keys(today["items"]) == ["F"]
    # Up to yesterday, from 90 days before it by default: E's day comes in, F's goes out.
    until_yesterday = await report(director, closed_to=str(TODAY - timedelta(days=1)))
    assert until_yesterday["period"] == {
        "closed_from": str(FIRST_DAY - timedelta(days=1)),
        "closed_to": str(TODAY - timedelta(days=1)),
    }
    assert book.keys(until_yesterday["items"]) == ["E", "D", "B", "C", "G", "A", "I"]
    # A month in the middle.
    month = await report(
        director,
        closed_from=str(TODAY - timedelta(days=30)),
        closed_to=str(TODAY - timedelta(days=5)),
    )
    assert book.keys(month["items"]) == ["B", "C", "G"]
    assert month["totals"] == totals_of(["B", "C", "G"])


@pytest.mark.parametrize("category", [None, "goods"])
async def test_a_period_when_nothing_closed_has_no_rows_and_zero_totals(api, book, category):
    params = {"closed_from": "2020-01-01", "closed_to": "2020-12-31"}
    if category:
        params["category"] = category
    body = await report(await api("ops"), **params)
    assert (body["items"], body["pages"], body["category"]) == ([], 1, category)
    zero = {"expected": "0.00", "actual": "0.00", "difference": "0.00", "percent": None}
    assert body["totals"] == {
        "count": 0,
        "expected_cost": "0.00",
        "actual_cost": "0.00",
        "variance": "0.00",
        "variance_percent": None,
        "category": {"category": category, **zero} if category else None,
    }


async def test_an_order_not_yet_closed_is_never_in_the_report(api, book):
    director = await api("director")
    body = await report(director, closed_from="2000-01-01", closed_to="2099-12-31")
    assert "H" not in book.keys(body["items"])
    assert body["totals"]["count"] == 8


# --- paging ---------------------------------------------------------------------------------


async def test_pages_follow_each_other_with_totals_over_every_page(api, book):
    ops = await api("ops")
    for per_page in range(1, 9):
        seen: list[str] = []
        pages = -(-len(BY_VARIANCE) // per_page)
        for page in range(1, pages + 2):
            body = await report(ops, page=page, per_page=per_page)
            assert (body["page"], body["per_page"], body["pages"]) == (page, per_page, pages)
            assert body["totals"] == totals_of(BY_VARIANCE)
            seen += book.keys(body["items"])
        assert seen == BY_VARIANCE, f"per_page={per_page}"
    freight = await report(ops, category="freight", page=2, per_page=3)
    assert book.keys(freight["items"]) == ["D", "F", "G"]
    assert freight["totals"]["category"]["difference"] == "250.00"


# --- bad filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "category=labour",
            "The category must be one of: 'goods', 'freight', 'installation', 'customs', "
            "'other' or 'return_freight'.",
        ),
        (
            "closed_from=2026-06-10&closed_to=2026-06-01",
            "The period cannot end on 2026-06-01, before it begins on 2026-06-10.",
        ),
        # Only the start, after today: the period would end (today) before it begins.
        (
            "closed_from=2026-07-01",
            "The period cannot end on 2026-06-15, before it begins on 2026-07-01.",
        ),
        # A day no report could mean (year 1 once overflowed the default period: a 500).
        (
            "closed_to=0001-01-01",
            "The report's days must lie between 1926-06-15 and 2126-06-15; 0001-01-01 does not.",
        ),
        (
            "closed_from=9999-12-31",
            "The report's days must lie between 1926-06-15 and 2126-06-15; 9999-12-31 does not.",
        ),
        ("closed_from=last-week", "The start of the period must be a date (year-month-day)."),
        ("closed_to=2026-02-30", "The end of the period must be a date (year-month-day)."),
        ("customer_id=abc", "The customer must be a whole number."),
        ("owner_id=0", "The owner must be at least 1."),
        ("department_id=-1", "The department must be at least 1."),
        ("page=0", "The page must be at least 1."),
        ("per_page=1000", "The number per page must be at most 200."),
    ],
)
async def test_a_bad_filter_is_refused_with_422_and_says_what_is_wrong(api, book, query, message):
    ops = await api("ops")
    response = await ops.get(f"/api/v1/reports/cost-variance?{query}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)


def test_a_filter_whose_period_ends_before_it_begins_cannot_be_made():
    with pytest.raises(cost_report_module.CostReportFilterRefusal):
        cost_report_module.CostReportFilter(closed_from=TODAY, closed_to=FIRST_DAY)
