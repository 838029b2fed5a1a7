"""``edu-recsys token create|list|revoke``: API tokens (stored hashed, shown once).

Examples::

    edu-recsys token create --role admin
    edu-recsys token create --role teacher --class 8-1 --class 8-2 --label "王老师"
    edu-recsys token create --role teacher --teacher t-wang     # follows t-wang's classes
    edu-recsys token create --role student --student s001
    edu-recsys token create --role ingest --label "platform sync"
    edu-recsys token list
    edu-recsys token revoke 3
"""

from __future__ import annotations

import sys

from edu_recsys.cli._common import format_table, write_json


def _add_db(p) -> None:
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="store URL or SQLite file (default: $EDU_RECSYS_DB_URL, else ./edu_recsys.sqlite)",
    )


def register(subparsers) -> None:
    p = subparsers.add_parser("token", help="issue, list and revoke API tokens")
    sub = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)

    c = sub.add_parser("create", help="issue a token (printed once; only its hash is stored)")
    c.add_argument("--role", required=True, choices=["admin", "teacher", "student", "ingest"])
    c.add_argument(
        "--class",
        dest="class_ids",
        action="append",
        default=[],
        metavar="ID",
        help="a class the teacher token covers (repeat for several)",
    )
    c.add_argument("--teacher", default=None, metavar="ID", help="teacher id (their classes)")
    c.add_argument("--student", default=None, metavar="ID", help="the student of a student token")
    c.add_argument("--label", default=None, help="a note to tell tokens apart")
    c.add_argument("--expires-days", type=float, default=None, metavar="N")
    c.add_argument("--json", default=None, metavar="PATH", help="also write the result as JSON")
    _add_db(c)
    c.set_defaults(func=_create)

    ls = sub.add_parser("list", help="issued tokens (never the tokens themselves)")
    ls.add_argument("--all", action="store_true", help="include revoked tokens")
    ls.add_argument("--json", default=None, metavar="PATH")
    _add_db(ls)
    ls.set_defaults(func=_list)

    rv = sub.add_parser("revoke", help="revoke a token by its id (see `token list`)")
    rv.add_argument("token_id", type=int)
    _add_db(rv)
    rv.set_defaults(func=_revoke)


def _store(args):
    from edu_recsys.store import Store

    return Store(args.db)


def _create(args) -> int:
    with _store(args) as store:
        token, info = store.create_token(
            args.role,
            class_ids=args.class_ids,
            teacher_id=args.teacher,
            student_id=args.student,
            label=args.label,
            expires_in_days=args.expires_days,
        )
    print(token)
    print(
        f"token {info.token_id} ({info.role}) created; it is shown only now, keep it secret",
        file=sys.stderr,
    )
    if args.json:
        write_json({"token": token, **info.to_dict()}, args.json)
    return 0


def _list(args) -> int:
    from edu_recsys.store.tokens import list_tokens

    with _store(args) as store:
        tokens = [t.to_dict() for t in list_tokens(store, include_revoked=args.all)]
    cols = [
        "token_id",
        "role",
        "prefix",
        "class_ids",
        "teacher_id",
        "student_id",
        "label",
        "expires_at",
        "revoked",
    ]
    print(format_table(tokens, cols))
    write_json({"tokens": tokens}, args.json)
    return 0


def _revoke(args) -> int:
    from edu_recsys.store import revoke_token

    with _store(args) as store:
        if not revoke_token(store, args.token_id):
            print(f"edu-recsys token: error: no token with id {args.token_id}", file=sys.stderr)
            return 2
    print(f"token {args.token_id} revoked", file=sys.stderr)
    return 0
