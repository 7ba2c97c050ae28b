"""The language a customer's contact reads their mail in: set by the administrator on the
customer's page or through the API, English unless chosen, an unknown one refused (422, said
next to the field, in the admin's language) and changed by nobody but an administrator."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy import select

from models.tables import Contact, Customer
from tests.web.conftest import csrf_of
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401

SHANGHAI = "Shanghai Precision Machinery Co."
HANGZHOU = "Hangzhou Green Foods Ltd."


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def post(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of((await client.get("/profile")).text)
    return await client.post(url, data={"csrf_token": token, **data})


async def customer_named(session_factory, name: str) -> Customer:
    async with session_factory() as session:
        return await session.scalar(select(Customer).where(Customer.name == name))


async def contacts(session_factory) -> list[tuple]:
    """Every contact as stored: id, customer, name, e-mail, phone, language."""
    async with session_factory() as session:
        rows = await session.scalars(select(Contact).order_by(Contact.id))
        return [(c.id, c.customer_id, c.name, c.email, c.phone, c.language) for c in rows]


async def contact_of(session_factory, customer: Customer) -> Contact:
    async with session_factory() as session:
        return await session.scalar(select(Contact).where(Contact.customer_id == customer.id))


async def customer_form(session_factory, name: str, **overrides: str) -> dict[str, str]:
    """The customer's form as the page fills it in, with some fields changed."""
    customer = await customer_named(session_factory, name)
    contact = await contact_of(session_factory, customer)
    form = {
        "name": customer.name,
        "level": customer.level,
        "region": customer.region,
        "industry": customer.industry,
        "credit_limit": f"{customer.credit_limit:f}",
        "tax_number": customer.tax_number,
        "invoice_title": customer.invoice_title,
        "address": customer.address,
        "contacts-0-id": str(contact.id),
        "contacts-0-name": contact.name,
        "contacts-0-email": contact.email,
        "contacts-0-phone": contact.phone,
        "contacts-0-language": contact.language,
        "action": "save",
    }
    form.update(overrides)
    return form


@pytest.fixture
async def admin(browser_session) -> httpx.AsyncClient:
    return await browser_session("admin")


# --- the customer's page -------------------------------------------------------------------------


async def test_the_customer_page_shows_the_contacts_mail_language_and_saves_a_new_one(
    admin, session_factory
):
    hangzhou = await customer_named(session_factory, HANGZHOU)
    page = (await admin.get(f"/admin/customers/{hangzhou.id}")).text
    assert '<select name="contacts-0-language"' in page
    assert '<option value="zh_CN" selected>' in page  # the seeded Chinese-speaking contact

    shanghai = await customer_named(session_factory, SHANGHAI)
    before = await contacts(session_factory)
    saved = await post(
        admin,
        f"/admin/customers/{shanghai.id}",
        await customer_form(session_factory, SHANGHAI, **{"contacts-0-language": "zh_CN"}),
    )
    assert saved.status_code == 303, saved.text
    after = await contacts(session_factory)
    assert [c for c in after if c[5] != "en"] == [
        (c[0], c[1], c[2], c[3], c[4], "zh_CN") for c in before if c[2] in ("Xu Ming", "Yang Ling")
    ]
    listing = (await admin.get("/admin/customers")).text
    language = '<span class="muted" data-language="{}">{}</span>'
    assert (
        f"Xu Ming &lt;xu.ming@shpm.example.com&gt; {language.format('zh_CN', '简体中文')}"
        in listing
    )
    assert (
        f"Qian Hao &lt;qian.hao@bjnl.example.com&gt; {language.format('en', 'English')}" in listing
    )


async def test_a_new_contact_reads_english_unless_chosen_and_a_form_without_it_keeps_it(
    admin, session_factory
):
    form = {
        "name": "Suzhou Textile Works",
        "level": "A",
        "credit_limit": "0",
        "contacts-0-name": "Gao Yan",
        "contacts-0-email": "gao.yan@stw.example.com",
        "contacts-1-name": "Fan Bo",
        "contacts-1-email": "fan.bo@stw.example.com",
        "contacts-1-language": "zh_CN",
        "action": "save",
    }
    assert (await post(admin, "/admin/customers/new", form)).status_code == 303
    suzhou = await customer_named(session_factory, "Suzhou Textile Works")
    rows = [c for c in await contacts(session_factory) if c[1] == suzhou.id]
    assert [(c[2], c[5]) for c in rows] == [("Gao Yan", "en"), ("Fan Bo", "zh_CN")]

    # A form that does not send the language (an older page, a script) changes only the rest.
    hangzhou = await customer_named(session_factory, HANGZHOU)
    edit = await customer_form(session_factory, HANGZHOU, **{"contacts-0-phone": "+86 571 1"})
    del edit["contacts-0-language"]
    assert (await post(admin, f"/admin/customers/{hangzhou.id}", edit)).status_code == 303
    yang = await contact_of(session_factory, hangzhou)
    assert (yang.phone, yang.language) == ("+86 571 1", "zh_CN")


@pytest.mark.parametrize("language", ["fr", "zh", "EN", "zh-CN", "<b>de</b>"])
async def test_an_unknown_language_is_refused_next_to_the_field_and_changes_nothing(
    admin, session_factory, language
):
    shanghai = await customer_named(session_factory, SHANGHAI)
    before = await contacts(session_factory)
    response = await post(
        admin,
        f"/admin/customers/{shanghai.id}",
        await customer_form(session_factory, SHANGHAI, **{"contacts-0-language": language}),
    )
    assert response.status_code == 422, response.text
    message = (
        "Mail to Xu Ming can be written in English (en) or Simplified Chinese (zh_CN), "
        f"not in “{language}”."
    )
    page = text_of(response)
    assert message in page
    # Beside the language select of that contact's row, which is marked invalid.
    assert 'aria-invalid="true" aria-describedby="contacts-0-language-error"' in response.text
    error = page.split('id="contacts-0-language-error">', 1)[1]
    assert error.startswith(message)
    assert "<b>" not in response.text  # what was typed is shown as text
    assert await contacts(session_factory) == before


@needs_catalog
async def test_an_admin_who_reads_chinese_is_told_in_chinese(browser_session, session_factory):
    admin = await chinese_session(browser_session, "admin")
    shanghai = await customer_named(session_factory, SHANGHAI)
    before = await contacts(session_factory)
    response = await post(
        admin,
        f"/admin/customers/{shanghai.id}",
        await customer_form(session_factory, SHANGHAI, **{"contacts-0-language": "fr"}),
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "发给 Xu Ming 的邮件只能使用英语（en）或简体中文（zh_CN），不能使用“fr”。" in page
    assert "邮件语言" in page  # the column's heading
    assert await contacts(session_factory) == before


@pytest.mark.parametrize("role", ["sales", "sales_manager", "director", "finance"])
async def test_only_an_administrator_may_change_a_contacts_language_on_the_page(
    browser_session, session_factory, role
):
    client = await browser_session(role)
    shanghai = await customer_named(session_factory, SHANGHAI)
    before = await contacts(session_factory)
    response = await post(
        client,
        f"/admin/customers/{shanghai.id}",
        await customer_form(session_factory, SHANGHAI, **{"contacts-0-language": "zh_CN"}),
    )
    assert response.status_code == 403
    assert "This page is for administrators." in response.text
    assert await contacts(session_factory) == before


# --- the API -------------------------------------------------------------------------------------


async def contact_url(session_factory, name: str) -> str:
    customer = await customer_named(session_factory, name)
    contact = await contact_of(session_factory, customer)
    return f"/api/v1/customers/{customer.id}/contacts/{contact.id}"


async def test_an_admin_sets_a_contacts_language_through_the_api_and_the_rest_stays(
    api, session_factory
):
    admin = await api("admin")
    url = await contact_url(session_factory, SHANGHAI)
    changed = await admin.patch(url, json={"language": "zh_CN"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "id": changed.json()["id"],
        "name": "Xu Ming",
        "email": "xu.ming@shpm.example.com",
        "phone": "",
        "language": "zh_CN",
    }
    listed = (await (await api("sales")).get("/api/v1/customers")).json()
    shanghai = next(c for c in listed if c["name"] == SHANGHAI)
    assert [c["language"] for c in shanghai["contacts"]] == ["zh_CN"]

    back = await admin.patch(url, json={"language": "en", "phone": "+86 21 5555 0101"})
    assert back.status_code == 200, back.text
    assert (back.json()["language"], back.json()["phone"]) == ("en", "+86 21 5555 0101")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"language": "fr"},
            "Mail to Xu Ming can be written in English (en) or Simplified Chinese (zh_CN), "
            "not in “fr”.",
        ),
        (
            {"language": ""},
            "Mail to Xu Ming can be written in English (en) or Simplified Chinese (zh_CN), "
            "not in “”.",
        ),
        (
            {"language": "zh-CN", "phone": "+86 21 1"},
            "Mail to Xu Ming can be written in English (en) or Simplified Chinese (zh_CN), "
            "not in “zh-CN”.",
        ),
        ({"language": "x" * 21}, "The language is too long: at most 20 characters."),
        ({"language": 7}, "The language must be text."),
        ({"email": "xu.ming at shpm"}, "Enter a valid e-mail address for Xu Ming"),
    ],
)
async def test_the_api_refuses_a_bad_contact_field_with_422_and_changes_nothing(
    api, session_factory, body, message
):
    admin = await api("admin")
    before = await contacts(session_factory)
    response = await admin.patch(await contact_url(session_factory, SHANGHAI), json=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert await contacts(session_factory) == before


async def test_a_contact_of_another_customer_is_not_found(api, session_factory):
    admin = await api("admin")
    shanghai = await customer_named(session_factory, SHANGHAI)
    yang = await contact_of(session_factory, await customer_named(session_factory, HANGZHOU))
    before = await contacts(session_factory)
    for url in (
        f"/api/v1/customers/{shanghai.id}/contacts/{yang.id}",
        f"/api/v1/customers/{shanghai.id}/contacts/999999",
    ):
        response = await admin.patch(url, json={"language": "en"})
        assert response.status_code == 404, url
        assert response.json() == {"detail": "The customer has no such contact."}
    assert await contacts(session_factory) == before


@pytest.mark.parametrize("role", ["sales", "sales_manager", "director", "finance", "warehouse"])
async def test_only_an_administrator_may_change_a_contact_through_the_api(
    api, session_factory, role
):
    client = await api(role)
    before = await contacts(session_factory)
    url = await contact_url(session_factory, SHANGHAI)
    for body in ({"language": "zh_CN"}, {"language": "fr"}):  # refused before it is checked
        response = await client.patch(url, json=body)
        assert response.status_code == 403, response.text
        assert response.json() == {"detail": "This is for administrators."}
    assert await contacts(session_factory) == before
