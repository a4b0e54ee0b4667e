"""The console's ASGI application: routes, the login gate, roles, CSRF, rendering.

Every route goes through ``page``: no session, no page (GETs go to the login form,
anything else is refused); a POST without the session's CSRF token is refused; a
role that may not take an action is refused, and the refusal is recorded.
Database work runs in the thread pool; pages read through an engine that never
takes SQLite's write lock, so the console cannot slow the daemon's writers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daemon import operator_actions as ops
from daemon import settlement as stl
from daemon.web import auth, queries
from daemon.web.svg import settlement_chart, timeline
from store.calendars import calendar
from store.config import Settings
from store.db import Database, make_engine
from store.models.ach import AuditOp, CheckStatus
from store.models.console import Role

log = logging.getLogger("spoolgate.web")

READERS = (Role.VIEWER, Role.OPERATOR, Role.AUDITOR)
AUDIT_ROLES = (Role.OPERATOR, Role.AUDITOR)
ACTORS = (Role.OPERATOR,)
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def read_engine(url: str) -> Engine:
    """Pages only read. On SQLite, statements run in autocommit (no BEGIN IMMEDIATE), so a page
    never holds the single writer lock the daemon's workers need."""
    if not url.startswith("sqlite"):
        return make_engine(url)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")
        cur.close()

    return engine


@dataclass
class Ctx:
    request: Request
    user: auth.User
    console: Console
    form: dict[str, str] = field(default_factory=dict)

    def reader(self) -> Session:
        return Session(self.console.reader)

    @property
    def actor(self) -> ops.Actor:
        return ops.Actor(self.user.name, "web")


def _fmt_ts(v: dt.datetime | None) -> str:
    return "" if v is None else v.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _fmt_isots(v: str | None) -> str:
    """History rows come as ISO strings (the seed 004 query's own form)."""
    try:
        return _fmt_ts(dt.datetime.fromisoformat(v)) if v else ""
    except ValueError:
        return str(v)


def _fmt_code(enum: Any) -> Callable[[Any], str]:
    """``7`` -> ``7 processed``: the number operators know from the reports, with its name."""
    def fmt(v: Any) -> str:
        try:
            return f"{v} {enum(int(v)).name.lower().replace('_', ' ')}"
        except (TypeError, ValueError):
            return "" if v is None else str(v)
    return fmt


def _fmt_age(v: float | None) -> str:
    if v is None:
        return "-"
    v = int(v)
    if v < 120:
        return f"{v} s"
    if v < 7200:
        return f"{v // 60} min"
    if v < 172800:
        return f"{v // 3600} h {v % 3600 // 60} min"
    return f"{v // 86400} d"


def _fmt_money(v: int | None) -> str:
    if v is None:
        return ""
    sign = "-" if v < 0 else ""
    return f"{sign}{abs(v) // 100:,}.{abs(v) % 100:02d}"


class Console:
    def __init__(self, settings: Settings, db: Database, reader: Engine | None = None) -> None:
        self.settings = settings
        self.db = db
        self.reader = reader or read_engine(settings.database_url)
        self.limiter = auth.LoginLimiter()
        self.env = Environment(loader=PackageLoader("daemon.web", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.filters.update(ts=_fmt_ts, isots=_fmt_isots, age=_fmt_age, money=_fmt_money,
                                masktext=queries.masked_text, maskname=queries.mask_name,
                                checkstatus=_fmt_code(CheckStatus), auditop=_fmt_code(AuditOp))
        self.css = resources.files("daemon.web").joinpath("templates/console.css").read_text()

    def user_for(self, token: str | None) -> auth.User | None:
        with Session(self.reader) as s:
            return auth.session_user(s, token)

    def render(self, request: Request, name: str, user: auth.User | None, status: int = 200,
               **data: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(request=request, user=user, path=request.url.path,
                                                  msg=request.query_params.get("msg", ""),
                                                  can_act=bool(user and user.can(*ACTORS)),
                                                  can_audit=bool(user and user.can(*AUDIT_ROLES)), **data)
        return HTMLResponse(html, status_code=status)

    def refuse(self, request: Request, user: auth.User | None, status: int, why: str) -> HTMLResponse:
        return self.render(request, "refused.html.j2", user, status=status, why=why)


def page(roles: tuple[Role, ...] = READERS) -> Callable[[Callable[[Ctx], Response]],
                                                        Callable[[Request], Awaitable[Response]]]:
    def deco(fn: Callable[[Ctx], Response]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            console: Console = request.app.state.console
            user = await run_in_threadpool(console.user_for, request.cookies.get(auth.SESSION_COOKIE))
            if user is None:
                if request.method == "GET":
                    return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
                return console.refuse(request, None, 401, "log in first")
            form: dict[str, str] = {}
            if request.method == "POST":
                form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
                if not auth.same_token(user.csrf, form.get("csrf")):
                    return console.refuse(request, user, 403, "the form's security token is missing or stale; "
                                                              "reload the page and try again")
            if not user.can(*roles):
                if request.method == "POST":
                    await run_in_threadpool(ops.record_alone, console.db, ops.Actor(user.name, "web"),
                                            "refused", request.url.path, form.get("reason", ""),
                                            outcome="refused", detail=f"role {user.role}")
                return console.refuse(request, user, 403, f"your role ({user.role}) may not do this; "
                                                          f"it needs {' or '.join(r.value for r in roles)}")
            return await run_in_threadpool(fn, Ctx(request, user, console, form))
        endpoint.__name__ = fn.__name__
        return endpoint
    return deco


def _back(url: str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?{urlencode({'msg': msg})}", 303)


# -- login --------------------------------------------------------------------------------------
def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def login_form(request: Request) -> Response:
    console: Console = request.app.state.console
    return _login_page(console, request, "", 200)


def _login_page(console: Console, request: Request, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    resp = console.render(request, "login.html.j2", None, status=status, csrf=token, error=error,
                          next=_safe_next(request.query_params.get("next", "/")))
    resp.set_cookie(auth.LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                    path="/login")
    return resp


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    form = await request.form()
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    if not auth.same_token(request.cookies.get(auth.LOGIN_COOKIE, ""), str(form.get("csrf", ""))):
        return console.refuse(request, None, 403, "the login form's security token is missing or stale; reload it")
    keys = (f"user:{name.lower()}", f"addr:{request.client.host if request.client else '-'}")
    wait = console.limiter.retry_after(*keys)
    if wait:
        return _login_page(console, request, f"Too many failed logins; try again in {wait} s.", 429)

    def check() -> str | None:
        with console.db.transaction() as s:
            uid = auth.verify(s, name, password)
            return auth.open_session(s, uid) if uid is not None else None

    token = await run_in_threadpool(check)
    if token is None:
        console.limiter.failed(*keys)
        log.warning("failed console login for %r from %s", name[:64], keys[1])
        return _login_page(console, request, "Wrong user name or password.", 401)
    console.limiter.succeeded(keys[0])
    resp = RedirectResponse(_safe_next(str(form.get("next", "/"))), 303)
    resp.set_cookie(auth.SESSION_COOKIE, token, max_age=int(auth.SESSION_LIFETIME.total_seconds()), httponly=True,
                    samesite="strict", secure=_secure(request), path="/")
    resp.delete_cookie(auth.LOGIN_COOKIE, path="/login")
    return resp


@page()
def logout(ctx: Ctx) -> Response:
    token = ctx.request.cookies.get(auth.SESSION_COOKIE, "")
    with ctx.console.db.transaction() as s:
        auth.close_session(s, token)
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(auth.SESSION_COOKIE, path="/")
    return resp


async def css(request: Request) -> Response:
    return Response(request.app.state.console.css, media_type="text/css")


# -- pages --------------------------------------------------------------------------------------
@page()
def overview(ctx: Ctx) -> Response:
    with ctx.reader() as s:
        data = queries.overview(s, ctx.console.settings)
    return ctx.console.render(ctx.request, "overview.html.j2", ctx.user, **data)


def _date(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v) if v else None
    except ValueError:
        return None


@page()
def files(ctx: Ctx) -> Response:
    p = ctx.request.query_params
    payment = p.get("payment", "").strip()
    q = queries.FileQuery(name=p.get("name", "").strip(), sha256=p.get("sha256", "").strip(),
                          state=p.get("state", ""), channel=p.get("channel", ""), start=_date(p.get("from")),
                          end=_date(p.get("to")), payment=int(payment) if payment.isdigit() else None)
    with ctx.reader() as s:
        story = queries.payment_story(s, q.payment) if q.payment is not None else None
        rows = queries.search_files(s, ctx.console.settings, q) if q.payment is None else []
    return ctx.console.render(ctx.request, "files.html.j2", ctx.user, q=q, rows=rows, story=story,
                              channels=list(ctx.console.settings.channels),
                              states=["claimed", "processing", "done", "error", "duplicate", "retried"])


@page()
def file_page(ctx: Ctx) -> Response:
    with ctx.reader() as s:
        story = queries.file_story(s, int(ctx.request.path_params["file_id"]))
    if story is None:
        return ctx.console.refuse(ctx.request, ctx.user, 404, "no such file in the ledger")
    return ctx.console.render(ctx.request, "file.html.j2", ctx.user, **story)


@page()
def errors(ctx: Ctx) -> Response:
    with ctx.reader() as s:
        rows = queries.errors(s)
    return ctx.console.render(ctx.request, "errors.html.j2", ctx.user, rows=rows,
                              reports={r.id: queries.error_report(r.error) for r in rows})


@page(ACTORS)
def retry(ctx: Ctx) -> Response:
    file_id = str(ctx.request.path_params["file_id"])
    try:
        res = ops.retry_file(ctx.console.settings, ctx.console.db, file_id, ctx.actor, ctx.form.get("reason", ""))
    except ops.ReasonRequired:
        return _back("/errors", f"File #{file_id} not retried: a reason is required.")
    return _back("/errors", f"File #{file_id}: {res.message}." if res.ok else f"File #{file_id} not retried: "
                 f"{res.message}.")


@page()
def batches(ctx: Ctx) -> Response:
    with ctx.reader() as s:
        rows = queries.batches(s)
    return ctx.console.render(ctx.request, "batches.html.j2", ctx.user, rows=rows)


@page(ACTORS)
def release(ctx: Ctx) -> Response:
    batch_id = int(ctx.request.path_params["batch_id"])
    try:
        res = ops.release_batch(ctx.console.db, batch_id, ctx.actor, ctx.form.get("reason", ""))
    except ops.ReasonRequired:
        return _back("/batches", f"Batch {batch_id} not released: a reason is required.")
    return _back("/batches", res.message[0].upper() + res.message[1:] + ".")


@page()
def jobs(ctx: Ctx) -> Response:
    hours = ctx.request.query_params.get("hours", "24")
    span = int(hours) if hours.isdigit() and 1 <= int(hours) <= 24 * 14 else 24
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(hours=span)
    with ctx.reader() as s:
        data = queries.jobs(s, ctx.console.settings, start)
    return ctx.console.render(ctx.request, "jobs.html.j2", ctx.user, hours=span, table=data["table"],
                              svg=timeline(data["runs"], start, end))


@page(ACTORS)
def run_job(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    try:
        res = ops.request_job_run(ctx.console.settings, ctx.console.db, name, ctx.actor, ctx.form.get("reason", ""))
    except ops.ReasonRequired:
        return _back("/jobs", f"Job {name} not started: a reason is required.")
    return _back("/jobs", res.message + ".")


#: previous/next links step over the Federal Reserve's business days, the ACH settlement calendar
SETTLEMENT_CALENDAR = "us-fed"


def _settlement_day(ctx: Ctx) -> dt.date | None:
    """The asked day, today (settlement time zone) when none is asked, None when it is no date."""
    given = ctx.request.query_params.get("date", "").strip()
    if not given:
        return queries.settlement_day(ctx.console.settings)
    day = _date(given)
    return day if day is not None and 1900 <= day.year <= 2999 else None


def _no_day(ctx: Ctx) -> Response:
    return ctx.console.refuse(ctx.request, ctx.user, 400, "the date is not a day between 1900 and 2999 "
                                                          "(give it as YYYY-MM-DD)")


@page()
def settlement(ctx: Ctx) -> Response:
    day = _settlement_day(ctx)
    if day is None:
        return _no_day(ctx)
    with ctx.reader() as s:
        rows = queries.settlement(s, ctx.console.settings, day)
    cal = calendar(SETTLEMENT_CALENDAR)
    return ctx.console.render(ctx.request, "settlement.html.j2", ctx.user, day=day, rows=rows,
                              prev_day=cal.add_business_days(day, -1), next_day=cal.add_business_days(day, 1),
                              business_day=cal.is_business_day(day), tz=ctx.console.settings.settlement.timezone,
                              svg=settlement_chart(rows, _fmt_money))


@page()
def settlement_csv(ctx: Ctx) -> Response:
    day = _settlement_day(ctx)
    if day is None:
        return _no_day(ctx)
    with ctx.reader() as s:
        rows = queries.settlement(s, ctx.console.settings, day)
    return Response(stl.to_csv(rows), media_type="text/csv",
                    headers={"content-disposition": f"attachment; filename=\"settlement-{day.isoformat()}.csv\""})


def _audit_query(ctx: Ctx) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]] | None, str]:
    f = ctx.form
    kind, value = f.get("by", "payment_id"), f.get("value", "").strip()
    start, end = _date(f.get("from")), _date(f.get("to"))
    shown = {"by": kind, "from": f.get("from", ""), "to": f.get("to", ""),
             "value": queries.mask(value) if kind == "account" and value else value}
    if ctx.request.method != "POST" or f.get("what") == "actions":
        return shown, None, ""
    if not value or start is None or end is None:
        return shown, None, "Give a value and both dates."
    if kind == "payment_id" and not value.isdigit():
        return shown, None, "A payment id is a number."
    with ctx.reader() as s:
        result = queries.audit(s, payment_id=int(value) if kind == "payment_id" else None,
                               account=value if kind == "account" else None, pid=value if kind == "pid" else None,
                               start=start, end=end)
    return shown, result, ""


@page(AUDIT_ROLES)
def audit(ctx: Ctx) -> Response:
    shown, result, problem = _audit_query(ctx)
    with ctx.reader() as s:
        recent = queries.actions(s, ctx.request.query_params.get("target", ""))
    return ctx.console.render(ctx.request, "audit.html.j2", ctx.user, shown=shown, result=result, problem=problem,
                              actions=recent, csrf=ctx.user.csrf)


@page(AUDIT_ROLES)
def audit_csv(ctx: Ctx) -> Response:
    buf = io.StringIO()
    w = csv.writer(buf)
    if ctx.form.get("what") == "actions":
        with ctx.reader() as s:
            done = queries.actions(s, limit=100000)
        w.writerow(["id", "at", "actor", "via", "action", "target", "reason", "outcome", "detail"])
        for a in done:
            w.writerow([a.id, a.at.isoformat(), a.actor, a.via, a.action, a.target, queries.masked_text(a.reason),
                        a.outcome, queries.masked_text(a.detail)])
        name = "operator-actions.csv"
    else:
        shown, result, problem = _audit_query(ctx)
        if result is None:
            return ctx.console.refuse(ctx.request, ctx.user, 400, problem or "nothing to export")
        w.writerow(["table", *sorted({k for rows in result.values() for r in rows for k in r})])
        cols = sorted({k for rows in result.values() for r in rows for k in r})
        for table, rows in result.items():
            for r in rows:
                w.writerow([table, *[r.get(c, "") for c in cols]])
        name = f"audit-{shown['by']}-{shown['from']}-{shown['to']}.csv"
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"content-disposition": f"attachment; filename=\"{quote(name)}\""})


class SecurityHeaders:
    """Adds the security headers to every response, refusals and 404s included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings, db: Database, reader: Engine | None = None) -> Starlette:
    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/static/console.css", css, methods=["GET"]),
        Route("/", overview, methods=["GET"]),
        Route("/files", files, methods=["GET"]),
        Route("/files/{file_id:int}", file_page, methods=["GET"]),
        Route("/errors", errors, methods=["GET"]),
        Route("/errors/{file_id:int}/retry", retry, methods=["POST"]),
        Route("/batches", batches, methods=["GET"]),
        Route("/batches/{batch_id:int}/release", release, methods=["POST"]),
        Route("/jobs", jobs, methods=["GET"]),
        Route("/jobs/{name}/run", run_job, methods=["POST"]),
        Route("/settlement", settlement, methods=["GET"]),
        Route("/settlement.csv", settlement_csv, methods=["GET"]),
        Route("/audit", audit, methods=["GET", "POST"]),
        Route("/audit.csv", audit_csv, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.console = Console(settings, db, reader)
    app.add_middleware(SecurityHeaders)
    return app
