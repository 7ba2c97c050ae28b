"""Lists sort by their columns (issue 18, item 14): the orders list, receivables, the shipment
queue and the admin's lists take `?sort=<column>&dir=asc|desc` from their column headers,
whose links keep the filters; a column a list does not have gives its usual order, never an
error. The admin's mail outbox is searched by recipient and by order number. Sorting never
widens what a person sees: a rep's sorted list holds their own orders, the outbox stays the
administrator's."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from models.tables import Installment, Order, OutboxMail, Product, User
from tests.web.test_orders_api import order_body

TODAY = datetime.now(UTC).date()


async def orders_of(api, session_factory) -> dict[str, str]:
    """Three orders: sales's for customer 1 (small) and customer 2 (large), sales2's for
    customer 1 (middle), with their numbers."""
    numbers = {}
    for name, owner, customer, quantity in (
        ("small", "sales", 1, "1"),
        ("large", "sales", 2, "9"),
        ("middle", "sales2", 1, "4"),
    ):
        client = await api(owner)
        lines = [{"product_id": 3, "quantity": quantity}]
        created = await client.post(
            "/api/v1/orders", json=order_body(customer_id=customer, lines=lines)
        )
        assert created.status_code == 201, created.text
        numbers[name] = created.json()["number"]
    return numbers


def numbers_in(page: str, numbers: dict[str, str]) -> list[str]:
    """The names of the given orders in the order the page lists them. A number has at least
    five digits after the year: the test databases' counters start each test 1,000 numbers on,
    so past a worker's 100th test they have six (SO-2026-150001)."""
    by_number = {number: name for name, number in numbers.items()}
    listed = re.findall(r'data-order="(SO-\d{4}-\d{5,})"', page)
    return [by_number[n] for n in listed if n in by_number]


async def test_the_orders_list_sorts_by_its_columns_and_keeps_the_filters(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    director = await browser_session("director")

    async def listed(**params: str) -> list[str]:
        response = await director.get("/orders", params=params)
        assert response.status_code == 200, params
        return numbers_in(response.text, numbers)

    assert await listed() == ["middle", "large", "small"]  # the usual: the newest first
    assert await listed(sort="total") == ["small", "middle", "large"]
    assert await listed(sort="total", dir="desc") == ["large", "middle", "small"]
    assert await listed(sort="number") == ["small", "large", "middle"]
    owners = await listed(sort="owner")  # Chen Jie (sales2) before Wang Fang (sales)
    assert owners[0] == "middle"
    customers = await listed(sort="customer", dir="desc")  # Shanghai ... before Hangzhou ...
    assert customers[-1] == "large"
    page = (await director.get("/orders", params={"q": "SO-", "sort": "total"})).text
    assert 'aria-sort="ascending" data-sort="total"' in page
    assert 'href="/orders?q=SO-&amp;sort=total&amp;dir=desc"' in page
    assert 'href="/orders?q=SO-&amp;sort=customer&amp;dir=asc"' in page


async def test_a_bad_sort_on_the_orders_list_gives_the_newest_first(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    director = await browser_session("director")
    for params in ({"sort": "password_hash"}, {"sort": "total)--", "dir": "up"}, {"dir": "desc"}):
        response = await director.get("/orders", params=params)
        assert response.status_code == 200, params
        assert numbers_in(response.text, numbers) == ["middle", "large", "small"], params


async def test_a_reps_sorted_order_list_shows_only_their_own_orders(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    rep = await browser_session("sales")
    for sort in ("owner", "customer", "total", "department"):
        for direction in ("asc", "desc"):
            page = (await rep.get("/orders", params={"sort": sort, "dir": direction})).text
            assert sorted(numbers_in(page, numbers)) == ["large", "small"], (sort, direction)


async def open_money(session_factory, numbers: dict[str, str]) -> None:
    """The three orders collecting: one installment each, open as their totals, due last
    month (small), in two weeks (large) and yesterday (middle)."""
    due = {"small": -31, "large": 14, "middle": -1}
    async with session_factory() as session:
        for name, number in numbers.items():
            order = await session.scalar(select(Order).where(Order.number == number))
            order.stage = "collection"
            session.add(
                Installment(
                    order_id=order.id, position=1, percent=Decimal("100"),
                    trigger="confirmation", offset_days=0, amount=order.total,
                    paid=Decimal("0.00"), settled=False,
                    due_on=TODAY + timedelta(days=due[name]),
                )
            )  # fmt: skip
        await session.commit()


async def test_receivables_sort_by_outstanding_customer_and_days_overdue(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    await open_money(session_factory, numbers)
    finance = await browser_session("finance")

    async def listed(**params: str) -> list[str]:
        response = await finance.get("/receivables", params=params)
        assert response.status_code == 200, params
        return numbers_in(response.text, numbers)

    assert await listed() == ["small", "middle", "large"]  # the usual: most overdue first
    assert await listed(sort="outstanding") == ["small", "middle", "large"]
    assert await listed(sort="outstanding", dir="desc") == ["large", "middle", "small"]
    assert await listed(sort="overdue_days", dir="desc") == ["small", "middle", "large"]
    assert await listed(sort="overdue_days") == ["middle", "small", "large"]  # none overdue last
    assert await listed(sort="next_due", dir="desc") == ["large", "middle", "small"]
    assert (await listed(sort="customer"))[0] == "large"  # Hangzhou ... first
    assert await listed(sort="nonsense", dir="desc") == await listed()
    overdue_only = await listed(overdue="1", sort="outstanding", dir="desc")
    assert overdue_only == ["middle", "small"]
    page = (await finance.get("/receivables", params={"overdue": "1", "sort": "total"})).text
    assert 'href="/receivables?overdue=1&amp;per_page=25&amp;sort=total&amp;dir=desc"' in page


async def test_a_reps_sorted_receivables_show_only_their_own_orders(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    await open_money(session_factory, numbers)
    rep = await browser_session("sales")
    page = (await rep.get("/receivables", params={"sort": "owner", "dir": "desc"})).text
    assert sorted(numbers_in(page, numbers)) == ["large", "small"]


async def test_the_shipment_queue_sorts_by_order_customer_and_dispatch_date(
    api, browser_session, session_factory
):
    numbers = await orders_of(api, session_factory)
    async with session_factory() as session:
        await session.execute(
            update(Order)
            .where(Order.number.in_(numbers.values()))
            .values(stage="fulfilment", shipment_status="awaiting_dispatch")
        )
        await session.commit()
    warehouse = await browser_session("warehouse")

    async def listed(**params: str) -> list[str]:
        response = await warehouse.get("/shipments", params=params)
        assert response.status_code == 200, params
        return numbers_in(response.text, numbers)

    assert await listed(sort="order") == ["small", "large", "middle"]
    assert await listed(sort="order", dir="desc") == ["middle", "large", "small"]
    assert (await listed(sort="customer"))[0] == "large"
    assert await listed(sort="weight") == await listed()


async def test_the_admin_lists_sort_by_their_columns(browser_session, session_factory):
    admin = await browser_session("admin")
    users = (await admin.get("/admin/users", params={"sort": "name", "dir": "desc"})).text
    row = r'<td><a href="/admin/users/\d+">[^<]+</a></td>\s*<td>([^<]+)</td>'
    names = [html.unescape(n) for n in re.findall(row, users)]  # every user's full name
    assert names == sorted(names, reverse=True) and len(names) >= 12
    async with session_factory() as session:
        prices = sorted(await session.scalars(select(Product.list_price)), reverse=True)
    products = await admin.get("/admin/products", params={"sort": "list_price", "dir": "desc"})
    assert products.status_code == 200
    shown = [
        Decimal(p.replace(",", ""))
        for p in re.findall(r'<td class="num">CN¥([\d,]+\.\d\d)</td>\s*<td class="num">CN¥',
                            products.text)
    ]  # fmt: skip
    assert shown == prices
    customers = (await admin.get("/admin/customers", params={"sort": "credit_limit"})).text
    assert 'aria-sort="ascending" data-sort="credit_limit"' in customers
    for path in ("/admin/users", "/admin/products", "/admin/customers"):
        assert (await admin.get(path, params={"sort": "../etc", "dir": "x"})).status_code == 200


async def outbox_with_mail(session_factory) -> None:
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    async with session_factory() as session:
        for n, (to, number) in enumerate(
            (
                ("li.na@o2c.example.com", "SO-2026-00041"),
                ("wang.fang@o2c.example.com", "SO-2026-00042"),
                ("li.na@o2c.example.com", "SO-2026-00042"),
                ("xu.ming@shpm.example.com", "SO-2026-00043"),
            )
        ):
            session.add(
                OutboxMail(
                    key=f"test/search/{n}",
                    to_address=to,
                    subject=f"To-do for order {number}: Approve the order",
                    body="…",
                    created_at=start + timedelta(minutes=n),
                )
            )
        await session.commit()


def mails_in(page: str) -> list[tuple[str, str]]:
    rows = re.findall(r'<tr data-mail="\d+">(.*?)</tr>', page, re.S)
    found = []
    for row in rows:
        to = re.search(r'data-label="To">([^<]+)<', row)
        number = re.search(r"(SO-\d{4}-\d{5})", row)
        found.append((to.group(1) if to else "", number.group(1) if number else ""))
    return found


async def test_the_outbox_is_searched_by_recipient_and_order_and_sorted(
    browser_session, session_factory
):
    await outbox_with_mail(session_factory)
    admin = await browser_session("admin")

    async def found(**params: str) -> list[tuple[str, str]]:
        response = await admin.get("/admin/mail", params=params)
        assert response.status_code == 200, params
        return mails_in(response.text)

    assert await found(to="li.na") == [
        ("li.na@o2c.example.com", "SO-2026-00042"),
        ("li.na@o2c.example.com", "SO-2026-00041"),
    ]
    assert await found(order="SO-2026-00042") == [
        ("li.na@o2c.example.com", "SO-2026-00042"),
        ("wang.fang@o2c.example.com", "SO-2026-00042"),
    ]
    assert await found(to="LI.NA", order="00041") == [("li.na@o2c.example.com", "SO-2026-00041")]
    assert await found(to="%") == []  # a % is a % here
    page = (await admin.get("/admin/mail", params={"to": "nobody@"})).text
    assert "No mail matches." in page
    by_recipient = await found(sort="to")
    assert [to for to, _ in by_recipient] == sorted(to for to, _ in by_recipient)
    assert (await found(sort="to", dir="desc"))[0][0] == "xu.ming@shpm.example.com"
    assert await found(sort="body", dir="desc") == await found()  # not a column: newest first
    page = (await admin.get("/admin/mail", params={"order": "00042", "sort": "sent"})).text
    assert 'href="/admin/mail?order=00042&amp;sort=to&amp;dir=asc"' in page


async def test_the_outbox_and_its_search_stay_the_administrators(browser_session, session_factory):
    await outbox_with_mail(session_factory)
    for username in ("director", "finance", "sales"):
        client = await browser_session(username)
        response = await client.get("/admin/mail", params={"to": "li.na", "sort": "to"})
        assert response.status_code == 403, username
        assert "li.na@o2c.example.com" not in response.text
    async with session_factory() as session:
        assert await session.scalar(select(User.id).where(User.username == "admin"))
