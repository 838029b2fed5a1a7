"""``edu-recsys serve [--db URL] [--host H] [--port P]``: the web service on uvicorn.

Each server process keeps its own fitted model, online mastery state and caches of
class results; they are keyed by the store's version (newest answer, erasure
generation, active model, configuration counter), read from the database on every
request, so answers, refits and edits made through any process are seen by all of
them. ``--workers N`` therefore runs N processes on one store (a SQLite file in WAL
mode or PostgreSQL; not an in-memory database). Bind to 127.0.0.1 (the default)
unless a reverse proxy with TLS sits in front.
"""

from __future__ import annotations

import os
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the web service (FastAPI on uvicorn)",
        description="Run the edu_recsys API (docs at /docs, teacher pages at /).",
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="store URL or SQLite file (default: $EDU_RECSYS_DB_URL, else ./edu_recsys.sqlite)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1; each keeps its own caches, see above)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
    )
    p.add_argument(
        "--refit",
        action="store_true",
        help="fit the mastery model on every stored answer before serving",
    )
    p.add_argument(
        "--refit-only",
        action="store_true",
        help="fit the mastery model on every stored answer, store it, and exit",
    )
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    from sqlalchemy.engine import make_url

    from api.main import create_app
    from api.settings import Settings
    from edu_recsys.store.engine import DB_URL_ENV, normalise_url, redact_url

    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    settings = Settings(**({"db_url": args.db} if args.db else {}))
    app = create_app(settings)
    store = app.state.store
    url = store.url
    print(f"store: {redact_url(url)}", file=sys.stderr)
    u = make_url(url)
    if (
        args.workers > 1
        and u.get_backend_name() == "sqlite"
        and u.database in (None, "", ":memory:")
    ):
        print("--workers > 1 needs a database file or server, not memory", file=sys.stderr)
        return 2
    if args.refit or args.refit_only:
        info = app.state.serving.refit(settings.default_model)
        print(
            f"fitted model {info['model_id']} ({info['name']}) on {info['n_interactions']} "
            f"answers of {info['n_students']} students",
            file=sys.stderr,
        )
        if args.refit_only:
            app.state.serving.close()
            store.close()
            return 0
    import uvicorn

    print(f"serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    if args.workers == 1:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return 0
    # worker processes build their own app from the environment (api.main.create_app)
    app.state.serving.close()
    store.close()
    os.environ[DB_URL_ENV] = normalise_url(url)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        workers=args.workers,
    )
    return 0
