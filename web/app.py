"""The web application: JSON API under /api/v1 and server-rendered pages, one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from i18n import translations
from models.db import SessionFactory, create_engine, create_session_factory
from models.links import DecisionLinks
from settings import Settings, get_settings
from web.api import RefusedHTTP
from web.api.policy import router as policy_api_router
from web.api.receivables import router as receivables_api_router
from web.api.reports import router as reports_api_router
from web.api.routes import router as api_router
from web.commands.actions import Refused
from web.company_zone import CompanyZoneMiddleware
from web.deps import PageLogin, TemporalGateway
from web.exports.access import ExportRolesMiddleware
from web.forms.errors import InvalidInput, invalid_input
from web.limits import RequestSizeLimit
from web.pages import (
    admin,
    arrival,
    auth,
    links,
    milestones_due,
    orders,
    performance,
    policy,
    receivables,
    reports,
    shipment_planning,
    shipments,
    statistics,
    targets,
    todos,
    unroutable,
    variance_policy,
)
from web.security import (
    SecurityHeaders,
    SessionCookie,
    SessionStamps,
    SignInThrottle,
    TokenSigner,
)
from web.templating import locale_of, render

STATIC = Path(__file__).resolve().parent / "static"
PAGES = (
    auth,
    todos,
    orders,
    shipments,
    milestones_due,
    shipment_planning,
    receivables,
    reports,
    statistics,
    targets,
    performance,
    admin,
    policy,
    variance_policy,
    unroutable,
    links,
    arrival,
)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: SessionFactory | None = None,
    temporal_client: Client | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    engine = None
    if session_factory is None:
        engine = create_engine(settings.database_url)
        session_factory = create_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is not None:
            await engine.dispose()

    app = FastAPI(
        title="Order-to-cash",
        description="Every sales order is a long-lived Temporal workflow.",
        version="0.1.0",
        lifespan=lifespan,
    )
    _set_state(app, settings, session_factory, temporal_client)
    _add_middleware(app, settings)
    _include_routers(app)
    _add_exception_handlers(app)
    return app


def _set_state(
    app: FastAPI,
    settings: Settings,
    session_factory: SessionFactory,
    temporal_client: Client | None,
) -> None:
    """What the dependencies find on app.state: settings, sessions, Temporal, signers, throttle."""
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.temporal = TemporalGateway(settings, temporal_client)
    app.state.token_signer = TokenSigner(
        settings.resolved_secret_key(), settings.token_lifetime_minutes
    )
    app.state.decision_links = DecisionLinks(
        settings.resolved_secret_key(), timedelta(days=settings.decision_link_days)
    )
    app.state.session_stamps = SessionStamps(settings.resolved_secret_key())
    app.state.sign_in_throttle = SignInThrottle(
        settings.rate_limit_storage,
        per_user=settings.sign_in_failures_per_user,
        per_address=settings.sign_in_failures_per_address,
    )


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The session cookie, the request size limit and the security headers (each added one
    wraps the ones before), and the proxy headers outermost when proxies are trusted."""
    app.add_middleware(
        SessionCookie,
        always_secure=settings.secure_cookies,
        secret_key=settings.resolved_secret_key(),
        session_cookie="o2c_session",
        same_site="lax",
        max_age=12 * 3600,
    )
    app.add_middleware(CompanyZoneMiddleware)  # the time zone pages show times in
    app.add_middleware(ExportRolesMiddleware)  # whether pages show their export links
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    docs_paths = (app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url)
    app.add_middleware(SecurityHeaders, docs_paths=[path for path in docs_paths if path])
    if settings.trusted_proxies:
        # outermost, so that the session cookie and the sign-in throttle see the client's
        # scheme and address rather than the proxy's
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=[host.strip() for host in settings.trusted_proxies.split(",")],
        )


def _include_routers(app: FastAPI) -> None:
    """The static files, the API's routers, then the pages' (in this order: routes match first
    come, first served)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for api in (api_router, policy_api_router, receivables_api_router, reports_api_router):
        app.include_router(api)
    for pages in PAGES:
        app.include_router(pages.router)


def _error_body(request: Request, refusal: Refused) -> dict[str, Any]:
    """A refusal as the API's error (ErrorOut): the sentence in the caller's language and, for
    a field that does not validate, where the field is."""
    body: dict[str, Any] = {"detail": refusal.translated(translations(locale_of(request)).gettext)}
    if isinstance(refusal, InvalidInput) and refusal.field_path:
        body["field"] = refusal.field_path
    return body


def _add_exception_handlers(app: FastAPI) -> None:
    """A request's bad field as one problem (422), a page's PageLogin as the login page, and an
    HTTPException as JSON for the API and the docs or as the error page for the pages."""

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problem = invalid_input(error.errors())
        return JSONResponse(_error_body(request, problem), status_code=422)

    @app.exception_handler(PageLogin)
    async def login_first(request: Request, _error: PageLogin) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/docs"):
            body: dict[str, Any] = {"detail": error.detail}
            if isinstance(error, RefusedHTTP):  # a refusal, in the caller's language
                body = _error_body(request, error.refusal)
            return JSONResponse(body, status_code=error.status_code, headers=error.headers)
        return render(
            request,
            "error.html",
            status_code=error.status_code,
            message=error.detail,
            status=error.status_code,
        )
