"""Every visibility query the README shows works as written in the Temporal CLI (and so the UI)
against the real dev server, and finds the orders it says it finds."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from settings import ROOT, venv_binary
from web.temporal import SEARCH_ATTRIBUTES

TEMPORAL = venv_binary("temporal")
pytestmark = pytest.mark.skipif(TEMPORAL is None, reason="the temporal CLI is not installed")


def attribute_key(name: str, kind: str) -> SearchAttributeKey[Any]:
    if kind == "Keyword":
        return SearchAttributeKey.for_keyword(name)
    if kind == "Double":
        return SearchAttributeKey.for_float(name)
    return SearchAttributeKey.for_bool(name)


EVERY_ATTRIBUTE = [attribute_key(name, kind) for name, kind in SEARCH_ATTRIBUTES.items()]
ORDER_NO = SearchAttributeKey.for_keyword("OrderNo")
STAGE = SearchAttributeKey.for_keyword("Stage")
DELAYED = SearchAttributeKey.for_bool("Delayed")
SHIPMENT_DELAYED = SearchAttributeKey.for_bool("ShipmentDelayed")


def readme_queries(*, refused: bool = False) -> list[str]:
    """The queries in the README's "Finding orders in the Temporal UI" section: each backticked
    text that compares something (`=`, `>`, `STARTS_WITH`); with refused, those it shows as
    refused ("`...` is refused")."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Finding orders in the Temporal UI", 1)[1].split("\n## ", 1)[0]
    section = " ".join(section.split())
    found = []
    for quoted in re.finditer(r"``\s(.+?)\s``|`([^`]+)`", section):
        query = quoted.group(1) or quoted.group(2)
        shown_refused = section[quoted.end() :].startswith(" is refused")
        is_query = re.search(r"=|>|STARTS_WITH", query) and "--query" not in query
        if is_query and shown_refused == refused:
            found.append(query)
    return found


@pytest.fixture(scope="module")
async def dev_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    assert TEMPORAL is not None
    async with await WorkflowEnvironment.start_local(
        search_attributes=EVERY_ATTRIBUTE,
        dev_server_existing_path=str(TEMPORAL),
        dev_server_extra_args=["--db-filename", str(tmp_path_factory.mktemp("dev") / "t.db")],
    ) as env:
        yield env.client


async def order_in_fulfilment(client: Client, number: str, *, delayed: bool, old: bool) -> None:
    """An order workflow as the worker leaves it in fulfilment (no worker needed to list it):
    an order confirmed before the rename carries only the old `Delayed`."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(ORDER_NO, number),
        SearchAttributePair(STAGE, "fulfilment"),
        SearchAttributePair(DELAYED, delayed),
    ]
    if not old:
        pairs.append(SearchAttributePair(SHIPMENT_DELAYED, delayed))
    await client.start_workflow(
        "OrderWorkflow",
        id=f"order-{number}",
        task_queue="no-worker",
        search_attributes=TypedSearchAttributes(pairs),
    )


def cli_list(client: Client, query: str) -> subprocess.CompletedProcess[str]:
    address = client.service_client.config.target_host
    return subprocess.run(
        [str(TEMPORAL), "workflow", "list", "--address", address, "--query", query, "-o", "json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def listed_ids(client: Client, query: str, expected: set[str]) -> set[str]:
    """The workflow ids the query lists, waiting (up to 10 s) for visibility to catch up."""
    deadline = time.monotonic() + 10
    while True:
        done = cli_list(client, query)
        assert done.returncode == 0, f"{query!r} refused: {done.stderr}"
        ids = {json.loads(line)["execution"]["workflowId"] for line in rows(done.stdout)}
        if ids == expected or time.monotonic() > deadline:
            return ids
        time.sleep(0.2)


def rows(out: str) -> list[str]:
    """The CLI prints a JSON array, or one JSON object per line (depending on its version)."""
    out = out.strip()
    if not out:
        return []
    if out.startswith("["):
        return [json.dumps(item) for item in json.loads(out)]
    return [line for line in out.splitlines() if line.strip()]


def test_the_readme_shows_the_late_shipment_query_under_a_name_the_parser_accepts() -> None:
    queries = readme_queries()
    assert 'Stage="fulfilment" AND ShipmentDelayed=true' in queries
    assert "`Delayed`=true" in queries  # how orders confirmed before the rename are found
    assert not [q for q in queries if re.search(r"(?<![`\w])Delayed\s*=", q)]
    assert readme_queries(refused=True) == ["Delayed=true"]
    assert len(queries) >= 9


async def test_every_query_in_the_readme_runs_in_the_cli_against_the_dev_server(
    dev_server: Client,
) -> None:
    for query in readme_queries():
        done = cli_list(dev_server, query)
        assert done.returncode == 0, f"the README's {query!r} fails: {done.stderr}"


async def test_late_shipments_are_found_by_the_new_name_and_older_orders_by_the_old_one(
    dev_server: Client,
) -> None:
    await order_in_fulfilment(dev_server, "RQ-LATE", delayed=True, old=False)
    await order_in_fulfilment(dev_server, "RQ-ON-TIME", delayed=False, old=False)
    await order_in_fulfilment(dev_server, "RQ-OLD-LATE", delayed=True, old=True)
    late = {"order-RQ-LATE"}
    both = {"order-RQ-LATE", "order-RQ-OLD-LATE"}

    assert listed_ids(dev_server, 'Stage="fulfilment" AND ShipmentDelayed=true', late) == late
    assert listed_ids(dev_server, "`Delayed`=true", both) == both
    for query in readme_queries(refused=True):  # why the attribute was renamed
        refused = cli_list(dev_server, query)
        assert refused.returncode != 0 and "invalid search attribute" in refused.stderr
