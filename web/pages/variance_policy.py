"""The admin page that edits the variance policy; each save is a new version."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, translations
from models import policy
from models.policy import PolicyRefusal
from models.tables import User
from web.deps import PageAdmin, SessionDep
from web.forms.variance_policy import VarianceFields, body_of
from web.pages.common import page_router
from web.templating import flash, locale_of, render

router = page_router()


async def _variance_policy_page(
    request: Request,
    me: User,
    session: AsyncSession,
    values: VarianceFields | None = None,
    refusal: PolicyRefusal | None = None,
) -> HTMLResponse:
    current = await policy.current_variance_policy(session=session)
    gettext = translations(locale_of(request, me)).gettext
    return render(
        request,
        "admin/variance_policy.html",
        user=me,
        current=current,
        values=values or VarianceFields.of(current),
        error=refusal.reason(gettext) if refusal else None,
        error_field=refusal.field if refusal else None,
        status_code=422 if refusal else 200,
    )


@router.get("/admin/variance-policy")
async def variance_policy_page(
    request: Request, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    return await _variance_policy_page(request, me, session)


@router.post("/admin/variance-policy")
async def save_variance_policy(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    form = await request.form()
    values = VarianceFields(
        threshold_percent=str(form.get("threshold_percent") or ""),
        threshold_amount=str(form.get("threshold_amount") or ""),
    )
    try:
        saved = await policy.save_variance_policy(session=session, user=me, body=body_of(values))
    except PolicyRefusal as refusal:
        if not refusal.field:
            # Another version took the number: saving rolled back, which expired the user.
            await session.refresh(me)
        return await _variance_policy_page(request, me, session, values, refusal)
    t = translations(locale_of(request, me)).gettext
    flash(request, t(N_("Saved as version %(version)s.")) % {"version": saved.version})
    return RedirectResponse("/admin/variance-policy", status_code=303)
