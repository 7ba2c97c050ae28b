"""The pages in Simplified Chinese: the language chosen in the profile or sent by the browser,
money in the user's locale, refusals translated, and a zh_CN catalog with nothing left out.

The pages use the compiled catalog (messages.mo, built from messages.po by `make catalogs`, not
kept in git); without it, the tests that render pages are skipped and say so."""

from __future__ import annotations

import ast
import html
import re
from decimal import Decimal

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from i18n import LOCALES_DIR, Formatter, translations
from notifications.mail import render as render_mail
from settings import ROOT
from tests.web.conftest import csrf_of
from tests.web.test_orders_api import PUMP, submitted_order, todo_of
from tests.web.test_todos_api import estimated

PO = LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


@pytest.fixture
def zh_catalog_compiled() -> None:
    if not MO.exists():
        pytest.skip(f"{MO.relative_to(ROOT)} is missing: run `make catalogs` before the tests")
    if MO.stat().st_mtime < PO.stat().st_mtime:
        pytest.skip(f"{MO.relative_to(ROOT)} is older than messages.po: run `make catalogs`")


needs_catalog = pytest.mark.usefixtures("zh_catalog_compiled")


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def choose_language(client: httpx.AsyncClient, locale: str) -> httpx.Response:
    """Pick the language on the profile page, as a person does."""
    csrf = csrf_of((await client.get("/profile")).text)
    response = await client.post("/profile", data={"csrf_token": csrf, "locale": locale})
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"])


async def chinese_session(browser_session, username: str) -> httpx.AsyncClient:
    client = await browser_session(username)
    profile = await choose_language(client, "zh_CN")
    assert "语言设置已保存。" in text_of(profile)
    return client


# --- the language a person chose, and the one their browser asks for ---------------------------


@needs_catalog
async def test_a_user_who_picks_chinese_sees_the_inbox_in_chinese_with_yuan_amounts(
    api, browser_session, worker
):
    _, number = await submitted_order(api)  # 28,400.00, waiting for pricing's estimate
    pricing = await browser_session("pricing")
    await todo_of(await api("pricing"), number, "estimate_cost")

    english = text_of(await pricing.get("/"))
    assert "My to-dos" in english and "CN¥28,400.00" in english

    assert "语言设置已保存。" in text_of(await choose_language(pricing, "zh_CN"))
    inbox = await pricing.get("/")
    page = text_of(inbox)
    assert inbox.status_code == 200
    assert '<html lang="zh-CN">' in page
    assert "我的待办" in page and "My to-dos" not in page
    assert "填写预估成本" in page  # the to-do's kind, from i18n/labels.py
    assert number in page
    assert "¥28,400.00" in page and "CN¥" not in page  # yuan sign and thousands separators
    assert "价格管理专员" in page  # the role next to the user's name


@needs_catalog
async def test_the_chosen_language_stays_after_signing_in_again(browser_session):
    await chinese_session(browser_session, "sales")
    again = await browser_session("sales")  # a new browser: the language is the user's own
    assert "我的待办" in text_of(await again.get("/"))


@needs_catalog
async def test_the_login_page_follows_the_browsers_accept_language(http):
    chinese = text_of(await http.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert "登录" in chinese and "用户名" in chinese and "Sign in" not in chinese

    english = text_of(await http.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}))
    assert "Sign in" in english and "登录" not in english

    prefers_chinese = text_of(
        await http.get("/login", headers={"Accept-Language": "fr;q=1.0, zh-TW;q=0.8, en;q=0.5"})
    )
    assert "登录" in prefers_chinese


@needs_catalog
async def test_a_wrong_password_is_refused_in_the_browsers_language(http):
    headers = {"Accept-Language": "zh-CN"}
    page = await http.get("/login", headers=headers)
    response = await http.post(
        "/login",
        headers=headers,
        data={"username": "sales", "password": "wrong", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "用户名或密码错误。" in text_of(response)


# --- refusals on Chinese pages -------------------------------------------------------------------


@needs_catalog
async def test_a_role_that_does_not_enter_orders_is_told_so_in_chinese(browser_session):
    pricing = await chinese_session(browser_session, "pricing")
    response = await pricing.get("/orders/new")
    page = text_of(response)
    assert response.status_code == 403
    assert "无权操作" in page and "您的角色不能录入销售订单。" in page


@needs_catalog
async def test_editing_someone_elses_order_is_refused_in_chinese(api, browser_session):
    sales = await api("sales")
    number = (
        await sales.post(
            "/api/v1/orders",
            json={
                "customer_id": 1,
                "lines": [{"product_id": PUMP, "quantity": "1"}],
            },
        )
    ).json()["number"]
    manager = await chinese_session(browser_session, "sales_manager")  # sees the rep's orders
    csrf = csrf_of((await manager.get("/profile")).text)
    response = await manager.post(
        f"/orders/{number}/edit",
        data={
            "csrf_token": csrf,
            "customer_id": "1",
            "adjustment": "none",
            "action": "save",
            "lines-0-product_id": str(PUMP),
            "lines-0-quantity": "3",
        },
    )
    assert response.status_code == 403
    assert "只有销售订单的负责人才能修改。" in text_of(response)


@needs_catalog
async def test_a_rejection_without_a_comment_is_refused_in_chinese(api, browser_session, worker):
    _, number = await submitted_order(api)
    await estimated(api, number)
    approve = await todo_of(await api("sales_manager"), number, "approve")

    manager = await chinese_session(browser_session, "sales_manager")
    todo_page = await manager.get(f"/todos/{approve['id']}")
    assert "审批销售订单" in text_of(todo_page) and "驳回" in text_of(todo_page)
    response = await manager.post(
        f"/todos/{approve['id']}/complete",
        data={"csrf_token": csrf_of(todo_page.text), "outcome": "reject", "comment": ""},
    )
    assert response.status_code == 422
    assert "驳回时必须填写驳回意见，说明原因。" in text_of(response)


@needs_catalog
async def test_an_empty_order_is_refused_in_chinese(browser_session):
    sales = await chinese_session(browser_session, "sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    response = await sales.post(
        "/orders/new",
        data={"csrf_token": csrf, "customer_id": "1", "adjustment": "none", "action": "save"},
    )
    assert response.status_code == 422
    assert "销售订单至少需要一行明细。" in text_of(response)


# --- every page renders in Chinese -------------------------------------------------------------


@needs_catalog
async def test_the_order_pages_render_in_chinese(browser_session):
    sales = await chinese_session(browser_session, "sales")
    form = await sales.get("/orders/new")
    assert form.status_code == 200, form.text
    assert "新建销售订单" in text_of(form) and "折扣 %" in text_of(form)
    created = await sales.post(
        "/orders/new",
        data={
            "csrf_token": csrf_of(form.text),
            "customer_id": "1",
            "shipping_mode": "domestic",
            "adjustment": "none",
            "action": "save",
            "lines-0-product_id": str(PUMP),
            "lines-0-quantity": "2",
            "plan-0-percent": "100",
            "plan-0-trigger": "confirmation",
            "plan-0-offset_days": "0",
        },
    )
    assert created.status_code == 303, text_of(created)
    detail = await sales.get(created.headers["location"])
    page = text_of(detail)
    assert detail.status_code == 200
    assert "已保存" in page and "草稿" in page and "回款计划" in page
    assert "¥17,000.00" in page  # 2 × 8,500.00
    listing = text_of(await sales.get("/orders"))
    assert "销售订单" in listing and "全部阶段" in listing


@needs_catalog
@pytest.mark.parametrize(
    "path",
    [
        "/admin/users",
        "/admin/users/new",
        "/admin/departments",
        "/admin/departments/new",
        "/admin/customers",
        "/admin/customers/new",
        "/admin/products",
        "/admin/products/new",
        "/admin/mail",
    ],
)
async def test_the_admin_pages_render_in_chinese(browser_session, path):
    admin = await chinese_session(browser_session, "admin")
    response = await admin.get(path)
    assert response.status_code == 200, response.text
    assert "系统管理" in text_of(response)


# --- the catalog -------------------------------------------------------------------------------


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def test_every_message_in_the_zh_cn_catalog_is_translated():
    missing = [m.id for m in _catalog() if m.id and not m.string]
    assert not missing, f"untranslated in {PO.name}: {missing}"


def test_no_translation_in_the_zh_cn_catalog_is_left_fuzzy():
    fuzzy = [m.id for m in _catalog() if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy in {PO.name} (check, then drop the fuzzy flag): {fuzzy}"


def test_translations_keep_every_placeholder():
    wrong = [
        (m.id, m.string)
        for m in _catalog()
        if m.id and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def test_every_marked_message_in_the_code_is_in_the_zh_cn_catalog():
    """A text wrapped in _() or N_() since the last `make extract-messages` fails here."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    marked = {
        (message if isinstance(message, str) else message[0])
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
        )
    }
    in_catalog = {m.id for m in _catalog() if m.id}
    assert not marked - in_catalog, (
        f"run `make extract-messages` and translate: {sorted(marked - in_catalog)}"
    )


@needs_catalog
def test_the_mails_are_written_in_the_recipients_language():
    t = translations("zh_CN")
    subject, body = render_mail(
        "todo_opened",
        locale="zh_CN",
        recipient_name="Sun Li",
        order_number="SO-2026-00042",
        customer="Shanghai Precision Machinery Co.",
        total=Formatter("zh_CN").money(Decimal("28400")),
        what=t.gettext("Estimate the cost"),
        due_at="2026-12-01 17:00",
        link="http://o2c.example.com/todos/7",
    )
    assert subject == "销售订单 SO-2026-00042 的待办：填写预估成本"
    assert "Sun Li，您好：" in body and "总额 ¥28,400.00" in body
    assert "请在 2026-12-01 17:00 前处理。" in body

    subject, body = render_mail(
        "order_event",
        locale="zh_CN",
        recipient_name="Wang Fang",
        order_number="SO-2026-00042",
        customer="Shanghai Precision Machinery Co.",
        what=t.gettext("Rejected"),
        comment="Discount too deep",
        link="http://o2c.example.com/orders/SO-2026-00042",
    )
    assert subject == "销售订单 SO-2026-00042：已驳回"
    assert "意见：Discount too deep" in body


REFUSALS = {"Refused", "Refusal", "HTTPException", "ApplicationError", "PricingError", "DraftError",
            "UnroutableError", "ValueError", "AdminRefusal"}  # fmt: skip
API_ONLY = {"Not signed in or the token has expired."}  # the bearer-token API answers in English


def test_every_fixed_refusal_raised_in_the_code_is_in_the_zh_cn_catalog():
    """A refusal raised as a plain string reaches people through gettext(message) in the page
    layer: it must be in the catalog (list new ones in i18n/messages_extra.py). Refusals with an
    f-string cannot be matched and are not checked here."""
    raised = set()
    for folder in ("web", "workflows", "models", "activities"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts or (ROOT / "web" / "api") in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in REFUSALS:
                    raised |= {
                        arg.value
                        for arg in node.args
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    }
    in_catalog = {m.id for m in _catalog() if m.id}
    missing = sorted(raised - in_catalog - API_ONLY)
    assert not missing, f"add to i18n/messages_extra.py, extract and translate: {missing}"
