"""``edu-recsys serve [--db URL] [--host H] [--port P]``: the web service on uvicorn.

One process serves one store: the online mastery state lives in that process (answers
ingested by other processes are picked up on the next read). Bind to 127.0.0.1 (the
default) unless a reverse proxy with TLS sits in front.
"""

from __future__ import annotations

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
    from api.main import create_app
    from api.settings import Settings
    from edu_recsys.store.engine import redact_url

    settings = Settings(**({"db_url": args.db} if args.db else {}))
    app = create_app(settings)
    store = app.state.store
    print(f"store: {redact_url(store.url)}", file=sys.stderr)
    if args.refit or args.refit_only:
        info = app.state.serving.refit(settings.default_model)
        print(
            f"fitted model {info['model_id']} ({info['name']}) on {info['n_interactions']} "
            f"answers of {info['n_students']} students",
            file=sys.stderr,
        )
        if args.refit_only:
            store.close()
            return 0
    import uvicorn

    print(f"serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)
    return 0
