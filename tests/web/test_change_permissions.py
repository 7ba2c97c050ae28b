"""Who may ask to change an order, and when: its owner or a manager above them, after
submission and before the cost review, one open request at a time; a rep of another team does
not even see the order; followers, the warehouse and pricing are refused; whoever asked may
withdraw it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from i18n import translations
from models import queries
from models.tables import Order, OrderChangeRequest, User
from tests import helpers
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled
from web.commands.changes import change_request_refusal, withdrawal_refusal

__all__ = ["zh_catalog_compiled"]  # the fixture, used by name


@pytest.fixture
async def confirmed(session_factory) -> Order:
    """Order of the sales rep in the East China office, confirmed."""
    order = await helpers.draft(session_factory)
    await set_stage(session_factory, order, "fulfilment")
    return order


async def set_stage(session_factory, order: Order, stage: str) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(stage=stage, submitted_at=datetime(2026, 3, 1, tzinfo=UTC))
        )
        await session.commit()


async def refusal(session_factory, username: str, order: Order):
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
        fresh = await session.get_one(Order, order.id)
        return await change_request_refusal(session=session, user=user, order=fresh)


async def open_a_request(session_factory, order: Order, by: str = "sales") -> OrderChangeRequest:
    requester = await helpers.user(session_factory, by)
    async with session_factory() as session:
        request = OrderChangeRequest(
            order_id=order.id,
            number=1,
            status="open",
            reason="More pumps",
            body={},
            requested_by_id=requester.id,
            requested_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        session.add(request)
        await session.commit()
        return request


@pytest.mark.parametrize("username", ["sales", "sales_manager", "director"])
async def test_the_owner_and_the_managers_above_them_may_ask_for_a_change(
    session_factory, confirmed, username
):
    assert await refusal(session_factory, username, confirmed) is None


@pytest.mark.parametrize("username", ["follower", "warehouse", "pricing", "finance", "ops"])
async def test_who_sees_the_order_but_is_not_its_owner_or_their_manager_is_refused_403(
    session_factory, confirmed, username
):
    refused = await refusal(session_factory, username, confirmed)
    assert refused is not None and refused.status == 403
    assert refused.message == "Only the order's owner or a manager above them can ask for a change."


@pytest.mark.parametrize("username", ["sales2", "sales_manager2"])
async def test_a_rep_or_manager_of_another_team_does_not_see_the_order(
    session_factory, confirmed, username
):
    """Their request is answered 404 by the order's scope before any change rule is asked."""
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
        assert await queries.get_order(session=session, user=user, number=confirmed.number) is None


@pytest.mark.parametrize(
    ("stage", "says"),
    [
        ("draft", "is a draft: edit it instead of asking for a change."),
        ("revising", "is back with its owner: edit it and resubmit instead."),
        ("cost_review", "is in its cost review or closed: it can no longer be changed."),
        ("closed", "is in its cost review or closed: it can no longer be changed."),
        ("cancelled", "is cancelled: it can no longer be changed."),
    ],
)
async def test_no_change_on_a_draft_a_revised_a_closed_or_a_cancelled_order(
    session_factory, confirmed, stage, says
):
    await set_stage(session_factory, confirmed, stage)
    refused = await refusal(session_factory, "sales", confirmed)
    assert refused is not None and refused.status == 409
    assert refused.message == f"Order {confirmed.number} {says}"


@pytest.mark.parametrize("stage", ["costing", "approval", "confirmed", "acceptance", "collection"])
async def test_a_change_may_be_asked_from_submission_until_the_cost_review(
    session_factory, confirmed, stage
):
    await set_stage(session_factory, confirmed, stage)
    assert await refusal(session_factory, "sales", confirmed) is None


async def test_a_second_change_request_while_one_is_open_is_refused_409(session_factory, confirmed):
    await open_a_request(session_factory, confirmed)
    refused = await refusal(session_factory, "sales_manager", confirmed)
    assert refused is not None and refused.status == 409
    assert refused.message == "Change request 1 is still open: decide or withdraw it first."


async def test_only_whoever_asked_may_withdraw_an_open_change_request(session_factory, confirmed):
    request = await open_a_request(session_factory, confirmed, by="sales_manager")
    manager = await helpers.user(session_factory, "sales_manager")
    owner = await helpers.user(session_factory, "sales")

    assert withdrawal_refusal(user=manager, request=request) is None
    refused = withdrawal_refusal(user=owner, request=request)
    assert refused is not None and refused.status == 403
    request.status = "approved"
    refused = withdrawal_refusal(user=manager, request=request)
    assert refused is not None and refused.status == 409
    assert refused.message == "Change request 1 is decided already."


@needs_catalog
async def test_the_refusals_are_said_in_chinese_too(session_factory, confirmed):
    refused = await refusal(session_factory, "follower", confirmed)
    assert refused.translated(translations("zh_CN").gettext) == (
        "只有订单负责人或其上级经理才能申请变更。"
    )
    await set_stage(session_factory, confirmed, "closed")
    refused = await refusal(session_factory, "sales", confirmed)
    assert refused.translated(translations("zh_CN").gettext) == (
        f"订单 {confirmed.number} 已进入成本复核或已关闭：不能再变更。"
    )
