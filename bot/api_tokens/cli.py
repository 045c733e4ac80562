"""`servicebot token create|list|revoke`: the back-office API's tokens from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from bot.api_tokens.service import TokenError, create_token, list_tokens, revoke_token
from bot.core.config import Settings, load_settings
from bot.core.i18n import Translator
from bot.core.text import html_to_plain

EXIT_REFUSED = 1


def add_parser(sub: Any) -> None:
    """The `token` command and its actions, on the main parser's subparsers."""
    token = sub.add_parser("token", help="named tokens of the back-office HTTP API")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = tsub.add_parser("create", help="make a token; its secret is printed once")
    create.add_argument("name", help="who uses it, e.g. simpel-kependudukan (a-z 0-9 . _ -)")
    create.add_argument("--unit", help="limit it to one unit's applications and index")
    create.set_defaults(func=cmd_create)
    listing = tsub.add_parser("list", help="every token: unit, created, last used, revoked")
    listing.set_defaults(func=cmd_list)
    revoke = tsub.add_parser("revoke", help="refuse a token from now on, on every instance")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)


def _database(settings: Settings) -> Any:
    from bot.core.db import Database
    from bot.core.schema import check_schema_not_newer

    db = Database(settings.database_url)
    check_schema_not_newer(db)
    db.upgrade()  # the bot migrates at start too; a token may be made before the first start
    return db


def _known_units(settings: Settings, db: Any) -> set[str]:
    from bot.core.runtime import Runtime
    from bot.qa.loader import load_knowledge
    from bot.surveys.questionnaire import service_unit

    rt = Runtime(settings=settings, db=db, knowledge=load_knowledge(settings.knowledge_dir))
    return {u for sid in rt.knowledge.services if (u := service_unit(rt, sid))}


def _refused(exc: TokenError) -> int:
    print(html_to_plain(exc.message(Translator("en"))), file=sys.stderr)
    return EXIT_REFUSED


def cmd_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = _database(settings)
    try:
        known = _known_units(settings, db) if args.unit else None
        with db.session() as session:
            token, secret = create_token(session, name=args.name, unit=args.unit, actor_id=None,
                                         known_units=known)
    except TokenError as exc:
        return _refused(exc)
    finally:
        db.dispose()
    reach = f"the unit {token.unit}" if token.unit else "the whole office"
    print(f"token {token.name} created, for {reach}. This is the only time its secret is "
          "shown: give it to the client now (Authorization: Bearer <secret>).", file=sys.stderr)
    print(secret, flush=True)
    return 0


def _when(moment: datetime | None, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") if moment else "-"


def cmd_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = _database(settings)
    try:
        with db.session() as session:
            tokens = list_tokens(session)
    finally:
        db.dispose()
    if not tokens:
        print("no API tokens yet; make one with: servicebot token create NAME")
        return 0
    rows = [("NAME", "UNIT", "CREATED", "LAST USED", "REVOKED")]
    rows += [
        (t.name, t.unit or "(all)", _when(t.created_at, settings),
         _when(t.last_used_at, settings), _when(t.revoked_at, settings))
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    print(f"(times in {settings.timezone}; the last use is written at most once a minute)")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = _database(settings)
    try:
        with db.session() as session:
            token = revoke_token(session, name=args.name, actor_id=None)
    except TokenError as exc:
        return _refused(exc)
    finally:
        db.dispose()
    print(f"token {token.name} revoked: every instance refuses it from its next request on")
    return 0
