"""Pages for people in a browser: log in with a token (cookie), list one's classes.

A teacher opens ``/``, pastes the token once, and lands on their classes; each links to
the class dashboard. The cookie is HttpOnly and SameSite=Strict and is accepted on GET
pages only (write routes need the Authorization header), so it cannot be used
cross-site. These routes are not part of the OpenAPI schema (they are not an API).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.deps import COOKIE_NAME, get_principal
from api.errors import ApiError

router = APIRouter(include_in_schema=False)

PREFIX = "/api/v1"
_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

TEXT = {
    "zh": {
        "login": {
            "title": "教师登录",
            "token": "访问令牌",
            "submit": "登录",
            "hint": "令牌由学校管理员发放（edu-recsys token create）。",
            "bad": "令牌无效、已撤销或已过期。",
            "role": "此令牌不能登录教师页面。",
        },
        "home": {
            "title": "我的班级",
            "students": "{n} 名学生",
            "none": "此令牌没有可查看的班级。",
            "logout": "退出",
        },
    },
    "en": {
        "login": {
            "title": "Teacher sign-in",
            "token": "Access token",
            "submit": "Sign in",
            "hint": "Tokens are issued by the school's administrator (edu-recsys token create).",
            "bad": "Unknown, revoked or expired token.",
            "role": "This token cannot sign in to the teacher pages.",
        },
        "home": {
            "title": "My classes",
            "students": "{n} students",
            "none": "This token covers no class.",
            "logout": "Sign out",
        },
    },
}


def _lang(request: Request, value: str | None = None) -> str:
    v = value or request.query_params.get("lang") or request.app.state.settings.lang
    return v if v in TEXT else "zh"


def _safe_next(value: str | None) -> str:
    # only local paths: never redirect off-site
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/home"


def _page(name: str, status: int = 200, **ctx) -> HTMLResponse:
    html = _env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    lang = _lang(request)
    t = TEXT[lang]["login"]
    return _page(
        "login.html",
        lang=lang,
        t=t,
        title=t["title"],
        next=_safe_next(request.query_params.get("next")),
        action=f"{PREFIX}/login",
        error=None,
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request):
    try:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:
        raise ApiError(400, "bad_request", "malformed login form") from None
    token = (form.get("token") or [""])[0].strip()
    lang = _lang(request, (form.get("lang") or [None])[0])
    nxt = _safe_next((form.get("next") or [None])[0])
    t = TEXT[lang]["login"]
    info = request.app.state.store.verify_token(token)
    if info is None or info.role not in ("admin", "teacher"):
        return _page(
            "login.html",
            status=401,
            lang=lang,
            t=t,
            title=t["title"],
            next=nxt,
            action=f"{PREFIX}/login",
            error=t["bad"] if info is None else t["role"],
        )
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        max_age=12 * 3600,
        path="/",
    )
    return resp


@router.post("/logout")
def logout() -> RedirectResponse:
    resp = RedirectResponse(f"{PREFIX}/login", status_code=303)
    resp.delete_cookie(COOKIE_NAME, path="/")
    return resp


@router.get("/home", response_class=HTMLResponse)
async def home(request: Request):
    store = request.app.state.store
    try:
        principal = await get_principal(request, store, None)
    except ApiError:
        return RedirectResponse(f"{PREFIX}/login?next={PREFIX}/home", status_code=303)
    if principal.role not in ("admin", "teacher"):
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    classes, _ = await run_in_threadpool(
        store.list_classes, class_ids=principal.class_ids, limit=500
    )
    lang = _lang(request)
    t = TEXT[lang]["home"]
    return _page("home.html", lang=lang, t=t, title=t["title"], classes=classes, prefix=PREFIX)
