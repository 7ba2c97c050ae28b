"""Approval routing cost: times rules.approval_route under the standard policy, and
rules.decision_facts, over a varied set of in-memory orders; prints µs per order and how many
orders needed each stage-2 requirement.

    .venv/bin/python bench/approval_routing.py [--orders 100000] [--seed 7] [--warmup 1000]

No database, no Temporal, no I/O besides printing. The orders are built first and kept in
memory (about 1.7 GB at 100,000 orders of 1–20 lines; building them takes longer than timing).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.domain import (  # noqa: E402 - after the path set-up above
    ApprovalPolicy,
    DepartmentLink,
    LineFacts,
    OrderFacts,
    Role,
    RouteStage,
    ShippingMode,
)
from workflows import rules  # noqa: E402

CENT = Decimal("0.01")
PRODUCTS = 2_000
DEPARTMENTS = 60
FIRST_MANAGER_ID = 10_000  # managers' user ids; reps are numbered below this
STAGE_TWO = ("director", "finance", "warehouse")
QUANTITIES = [Decimal(q) for q in (1, 1, 1, 2, 2, 3, 5, 8, 10, 20)]


def say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - a command's output


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def cents(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(CENT)


# -- the orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    product_id: int
    code: str
    available: Decimal
    standard_cost: Decimal


def catalogue(rng: random.Random) -> list[Product]:
    """Products mostly well stocked, some scarce, a few sold out or oversold (more reserved
    than on hand)."""
    products = []
    for n in range(1, PRODUCTS + 1):
        pick = rng.random()
        if pick < 0.80:
            available = rng.randint(200, 5000)
        elif pick < 0.95:
            available = rng.randint(10, 60)
        elif pick < 0.99:
            available = rng.randint(0, 5)
        else:
            available = -rng.randint(1, 5)
        products.append(
            Product(
                product_id=n,
                code=f"P-{n:05d}",
                available=Decimal(available),
                standard_cost=cents(rng.uniform(5, 5000)),
            )
        )
    return products


def department_chain(rng: random.Random, owner_id: int, owner_manages: int) -> list[DepartmentLink]:
    """A chain of 1–4 departments from the owner's up to the root. The owner manages the first
    `owner_manages` of them; one department in twenty above those has no manager, and one
    managing owner in twenty is at the top (nobody above: unroutable)."""
    if owner_manages and rng.random() < 0.05:
        depth = owner_manages
    else:
        depth = rng.randint(owner_manages + 1, 4)
    departments = rng.sample(range(1, DEPARTMENTS + 1), depth)
    chain = []
    for level, department_id in enumerate(departments):
        if level < owner_manages:
            manager_id: int | None = owner_id
        elif rng.random() < 0.05:
            manager_id = None
        else:
            manager_id = FIRST_MANAGER_ID + department_id
        chain.append(DepartmentLink(department_id=department_id, manager_id=manager_id))
    return chain


def total_of(rng: random.Random) -> Decimal:
    """Mostly small orders, a tail of large ones, and some right at the director's threshold."""
    pick = rng.random()
    if pick < 0.02:
        return Decimal("500000.00")
    if pick < 0.04:
        return Decimal("499999.99")
    return cents(10 ** rng.uniform(2.5, 6.0))


def one_order(rng: random.Random, order_id: int, products: Sequence[Product]) -> OrderFacts:
    pick = rng.random()
    if pick < 0.15:  # a manager's own order, sometimes of a manager of two levels
        owner_id = FIRST_MANAGER_ID + 900 + order_id % 50
        owner_manages, owner_role = (1 if rng.random() < 0.8 else 2), Role.sales_manager
    elif pick < 0.18:  # a director selling
        owner_id = FIRST_MANAGER_ID + 950 + order_id % 5
        owner_manages, owner_role = 0, Role.director
    else:
        owner_id = 1 + order_id % 400
        owner_manages, owner_role = 0, Role.sales
    chain = department_chain(rng, owner_id, owner_manages)

    stock_known = rng.random() < 0.95
    lines = []
    for line_id in range(1, rng.randint(1, 20) + 1):
        # One line in ten repeats a product already on the order (summed against its stock).
        if lines and rng.random() < 0.1:
            product = products[rng.choice(lines).product_id - 1]
        else:
            product = rng.choice(products)
        quantity = rng.choice(QUANTITIES)
        lines.append(
            LineFacts(
                line_id=order_id * 100 + line_id,
                product_id=product.product_id,
                quantity=quantity,
                amount=cents(float(product.standard_cost) * float(quantity) * 1.3),
                standard_cost=product.standard_cost,
                unit_cost=product.standard_cost,
                product_code=product.code,
                available=product.available if stock_known else None,
            )
        )

    total = total_of(rng)
    margin = None if rng.random() < 0.05 else cents(rng.uniform(8, 45))
    credit_limit = cents(rng.choice([50_000, 100_000, 250_000, 1_000_000]))
    exposure_pick = rng.random()
    if exposure_pick < 0.03:
        exposure: Decimal | None = credit_limit  # exactly at the limit: not over
    elif exposure_pick < 0.06:
        exposure = None
    else:
        exposure = cents(float(credit_limit) * rng.uniform(0, 1.2))
    return OrderFacts(
        order_id=order_id,
        number=f"SO-2026-{order_id:05d}",
        owner_id=owner_id,
        department_id=chain[0].department_id,
        customer_id=1 + order_id % 3_000,
        total=total,
        max_discount_percent=cents(rng.choice([0] * 8 + [5, 10] * 3 + [15, 19.99, 20, 30])),
        shipping_mode=ShippingMode.export if rng.random() < 0.1 else ShippingMode.domestic,
        lines=lines,
        department_chain=chain,
        owner_role=owner_role,
        expected_margin=None if margin is None else cents(float(total * margin) / 100),
        expected_margin_percent=margin,
        credit_limit=credit_limit,
        exposure=exposure,
    )


def build_orders(count: int, seed: int) -> list[OrderFacts]:
    rng = random.Random(seed)
    products = catalogue(rng)
    return [one_order(rng, order_id, products) for order_id in range(1, count + 1)]


# -- the timing ------------------------------------------------------------------------------


@dataclass
class Timing:
    """Per-call wall time (perf_counter_ns) and this thread's CPU time (thread_time_ns): on a
    busy machine the wall time's tail has preemption in it, the CPU time does not."""

    name: str
    wall_ns: list[int] = field(default_factory=list)
    cpu_ns: int = 0

    def report(self) -> str:
        micro = [ns / 1000 for ns in self.wall_ns]
        mean = sum(micro) / len(micro)
        cpu_mean = self.cpu_ns / 1000 / len(micro)
        return (
            f"{self.name:<16} mean {mean:6.1f} µs   p50 {percentile(micro, 50):6.1f} µs   "
            f"p95 {percentile(micro, 95):6.1f} µs   p99 {percentile(micro, 99):6.1f} µs   "
            f"(CPU mean {cpu_mean:6.1f} µs)"
        )


@dataclass
class Tally:
    """What the routes asked for, counted outside the clock; the routes themselves are not
    kept, so the heap does not grow while timing."""

    routed: int = 0
    manager_alone: int = 0
    rerouted: int = 0
    stage_two: Counter[str] = field(default_factory=Counter)
    unroutable: Counter[str] = field(default_factory=Counter)

    def add(self, route: list[RouteStage]) -> None:
        self.routed += 1
        self.manager_alone += len(route) == 1
        for stage in route:
            for requirement in stage.requirements:
                if stage.position == 2:
                    self.stage_two[requirement.code] += 1
                self.rerouted += requirement.rerouted


def time_routing(policy: ApprovalPolicy, orders: Sequence[OrderFacts], tally: Tally) -> Timing:
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    timing = Timing("approval_route")
    for facts in orders:
        cpu_started = cpu()
        started = wall()
        try:
            route = rules.approval_route(policy, facts)
        except rules.UnroutableError as refusal:
            timing.wall_ns.append(wall() - started)
            timing.cpu_ns += cpu() - cpu_started
            tally.unroutable[str(refusal)] += 1
            continue
        timing.wall_ns.append(wall() - started)
        timing.cpu_ns += cpu() - cpu_started
        tally.add(route)
    return timing


def time_each(
    name: str, orders: Sequence[OrderFacts], call: Callable[[OrderFacts], object]
) -> Timing:
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    timing = Timing(name)
    for facts in orders:
        cpu_started = cpu()
        started = wall()
        call(facts)
        timing.wall_ns.append(wall() - started)
        timing.cpu_ns += cpu() - cpu_started
    return timing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders to route (100000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--warmup", type=int, default=1_000, help="untimed calls first (1000)")
    args = parser.parse_args(argv)

    policy = rules.standard_policy(2)
    started = time.perf_counter()
    orders = build_orders(args.orders, args.seed)
    lines = sum(len(o.lines) for o in orders)
    elapsed = time.perf_counter() - started
    say(f"built {len(orders):,} orders ({lines:,} lines) in {elapsed:.1f} s")
    # The orders stay alive for the whole run: freezing them keeps the collector from walking
    # them again and again, as it would not in a worker holding a few orders at a time.
    gc.collect()
    gc.freeze()

    for facts in orders[: args.warmup]:
        with contextlib.suppress(rules.UnroutableError):
            rules.approval_route(policy, facts)
        rules.decision_facts(facts)

    tally = Tally()
    routing = time_routing(policy, orders, tally)
    showing = time_each("decision_facts", orders, rules.decision_facts)

    say()
    say(routing.report())
    say(showing.report())
    seconds = sum(routing.wall_ns) / 1e9
    say(f"approval_route, all orders: {seconds:.2f} s ({len(orders) / seconds:,.0f} orders/s)")

    say()
    say(f"routed {tally.routed:,} orders; {tally.manager_alone:,} needed the manager alone")
    for code in STAGE_TWO:
        count = tally.stage_two[code]
        share = count / tally.routed * 100 if tally.routed else 0.0
        say(f"  stage 2 {code:<10} {count:>8,} orders ({share:4.1f} %)")
    say(f"  rerouted requirements (would have landed on the owner): {tally.rerouted:,}")
    say(f"unroutable: {sum(tally.unroutable.values()):,} orders")
    for reason, count in tally.unroutable.most_common():
        say(f"  {count:>8,}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
