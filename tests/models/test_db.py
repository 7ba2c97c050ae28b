"""One view of the database for a page that only reads: what another session commits meanwhile
shows on the next page, never halfway through this one."""

from __future__ import annotations

from sqlalchemy import select, update

from models.db import SessionFactory, read_one_view
from models.tables import User


async def full_name(session, username: str) -> str:
    return await session.scalar(
        select(User.full_name)
        .where(User.username == username)
        .execution_options(populate_existing=True)
    )


async def a_commit_meanwhile_is_not_seen_until_the_view_ends(factory: SessionFactory) -> None:
    async with factory() as page:
        was = await full_name(page, "sales")  # what the page's dependencies read first
        await read_one_view(page)
        assert await full_name(page, "sales") == was
        async with factory() as step:
            await step.execute(
                update(User).where(User.username == "sales").values(full_name="Renamed Meanwhile")
            )
            await step.commit()
        assert await full_name(page, "sales") == was
        assert await page.scalar(select(User).where(User.username == "sales")) is not None
    async with factory() as next_page:
        await read_one_view(next_page)
        assert await full_name(next_page, "sales") == "Renamed Meanwhile"


async def test_a_page_reads_one_view_though_a_step_commits_meanwhile(session_factory):
    await a_commit_meanwhile_is_not_seen_until_the_view_ends(session_factory)
