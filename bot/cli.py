"""The `servicebot` command: run the bot, ask it questions, check the knowledge base, migrate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.config import Settings, load_settings
from bot.core.errors import ConfigError
from bot.core.schema import SchemaTooNew

EXIT_CONFIG = 2

OFFLINE_NOTE = (
    "No TELEGRAM_BOT_TOKEN set: starting the offline web chat. To go live on Telegram, put "
    "a token from @BotFather in .env as TELEGRAM_BOT_TOKEN=... and run again."
)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "knowledge_dir", None):
        overrides["knowledge_dir"] = Path(args.knowledge_dir)
    return load_settings(**overrides)


def _configure_logging(settings: Settings) -> None:
    from bot.core.logging import configure_logging

    configure_logging(
        settings.log_level,
        secrets=[settings.telegram_bot_token, settings.webhook_secret, *settings.api_tokens],
    )


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _configure_logging(settings)
    if not settings.telegram_bot_token:
        print(OFFLINE_NOTE, flush=True)
        return _offline(settings, settings.port)
    from bot.app import build_application, build_runtime
    from bot.console.serving import ConsoleServer

    rt = build_runtime(settings)
    app = build_application(rt)
    console = ConsoleServer(rt)  # the features' pages (console, /ikm, board) on 127.0.0.1:PORT
    console.start()
    from bot.api_tokens.service import has_active_tokens

    api = None
    # The API on API_PORT when there is a token to use it with (API_TOKENS is deprecated).
    if settings.api_tokens or has_active_tokens(rt.db):
        from bot.applications.api import ApiServer

        api = ApiServer(rt)
        api.start()
    try:
        app.run_polling(allowed_updates=None, drop_pending_updates=False)
    finally:
        console.stop()
        if api is not None:
            api.stop()
    return 0


SERVE_HELP = """`servicebot serve` needs {missing}.

  TELEGRAM_BOT_TOKEN  the bot's token from @BotFather
  WEBHOOK_URL         the public https:// address Telegram reaches this bot at
                      (the bot serves the webhook at WEBHOOK_URL/telegram/webhook)
  WEBHOOK_SECRET      a shared secret, 1-256 characters of A-Z a-z 0-9 _ -, the same on
                      every instance; make one with:
                      python -c "import secrets; print(secrets.token_urlsafe(32))"
See docs/deployment.md.
"""


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _configure_logging(settings)
    missing = [
        name
        for name, value in (
            ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
            ("WEBHOOK_URL", settings.webhook_url),
            ("WEBHOOK_SECRET", settings.webhook_secret),
        )
        if not value
    ]
    if missing:
        print(SERVE_HELP.format(missing=" and ".join(missing)), file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import build_application, build_runtime
    from bot.webhook.server import listening_socket, serve

    try:
        sock = listening_socket(settings.webhook_host, settings.webhook_port)
    except OSError as exc:
        print(
            f"cannot listen on {settings.webhook_host}:{settings.webhook_port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    rt = build_runtime(settings)
    serve(rt, build_application(rt), sock)
    return 0


def cmd_offline(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _configure_logging(settings)
    return _offline(settings, settings.port if args.port is None else args.port)


def _offline(settings: Settings, port: int) -> int:
    import asyncio

    from bot.offline import PortInUse, serve_offline

    def ready(url: str) -> None:
        print(f"Open {url} in your browser to chat with the bot. Ctrl-C stops it.", flush=True)

    try:
        asyncio.run(serve_offline(settings, port=port, ready=ready))
    except PortInUse as exc:
        print(f"{exc}; choose another port with --port N or PORT=N", file=sys.stderr)
        return EXIT_CONFIG
    print("Stopped.", flush=True)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from bot.core.i18n import Translator
    from bot.core.text import html_to_plain
    from bot.qa.answers import render_answer
    from bot.qa.loader import load_knowledge
    from bot.qa.matching import Matcher

    kb = load_knowledge(settings.knowledge_dir)
    matcher = Matcher(kb)  # indexed once for every question below
    lang = args.lang or settings.default_locale
    tr = Translator(lang)
    questions = [args.question] if args.question else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        if not question.strip() and not args.question:
            continue
        match = matcher.match(question, lang)
        answer = render_answer(kb, match, tr, settings.tz)
        plain = html_to_plain(answer.html)
        if args.json:
            print(
                json.dumps(
                    {
                        "question": question,
                        "service": match.service_id,
                        "topic": match.topic,
                        "score": round(match.score, 1),
                        "answer": plain,
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(plain + "\n", flush=True)
    return 0


def cmd_knowledge_check(args: argparse.Namespace) -> int:
    from bot.conversation.library import load_library
    from bot.qa.knowledge import KnowledgeError
    from bot.qa.loader import load_knowledge

    directory = Path(args.dir) if args.dir else _settings(args).knowledge_dir
    try:
        kb = load_knowledge(directory)
        library = load_library(kb)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    print(f"{directory}: OK, {len(kb.services)} services, {len(library.situations)} "
          f"situations, {len(library.entries)} entries")
    if args.stale is None:
        return 0
    from bot.qa.knowledge_check import knowledge_facts, stale_facts

    today = date.today()
    stale = stale_facts(kb, today, args.stale)
    for fact in stale:
        print(fact.describe(today))
    total = len(knowledge_facts(kb))
    if stale:
        print(f"{len(stale)} of {total} facts (fees, times, requirements) have no source or were "
              f"checked more than {args.stale} days ago: check them against the regulation, "
              "then update their source.checked date")
        return 1
    print(f"all {total} facts (fees, times, requirements) were checked within {args.stale} days")
    return 0


def cmd_knowledge_reload(args: argparse.Namespace) -> int:
    """Validate the folder and, only if it is valid, publish it: every running instance
    switches to it within a minute (bot/reload)."""
    from bot import reload as kr
    from bot.core.db import Database
    from bot.qa.knowledge import KnowledgeError

    settings = _settings(args)
    try:
        loaded = kr.load(settings)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing was reloaded, the running instances keep "
              "the current knowledge base", file=sys.stderr)
        return 1
    version = kr.publish(Database(settings.database_url), loaded)
    print(f"{settings.knowledge_dir}: OK, {len(loaded.knowledge.services)} services; published "
          f"as version {version}; every running instance switches to it within a minute")
    return 0


def cmd_knowledge_gaps(args: argparse.Namespace) -> int:
    """The questions the bot could not answer (or answered with a 👎) in a period: CSV, or XLSX
    for an output file ending in .xlsx."""
    from datetime import UTC, datetime

    from bot.core.db import Database
    from bot.core.runtime import Runtime
    from bot.feedback import log as fl
    from bot.qa.knowledge import KnowledgeError
    from bot.qa.loader import load_knowledge
    from bot.surveys.questionnaire import service_name, service_unit

    settings = _settings(args)
    try:
        since = fl.parse_since(args.since, datetime.now(UTC))
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        knowledge = load_knowledge(settings.knowledge_dir)
    except KnowledgeError:
        knowledge = None  # names fall back to service ids
    rt = Runtime(settings=settings, db=Database(settings.database_url), knowledge=knowledge)
    xlsx = bool(args.output) and args.output.lower().endswith(".xlsx")
    with rt.db.session() as session:
        count, body = fl.gaps_export(
            session, scope=fl.Scope(None), since=since, xlsx=xlsx,
            unit_of=lambda s: service_unit(rt, s),
            name_of=lambda s: service_name(rt, s, settings.default_locale), tz=settings.tz,
        )
    if args.output:
        Path(args.output).write_bytes(body)
        print(f"{count} question(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(body.decode("utf-8"))
    rt.db.dispose()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.core.db import Database
    from bot.core.schema import check_schema_not_newer

    settings = _settings(args)
    db = Database(settings.database_url)
    check_schema_not_newer(db)
    db.upgrade(args.revision)
    print(f"database at {args.revision}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _complaints_runtime(args: argparse.Namespace):  # noqa: ANN202 - bot.core.runtime.Runtime
    from bot.core.db import Database
    from bot.core.runtime import Runtime
    from bot.core.workdays import WorkingCalendar

    settings = _settings(args)
    return Runtime(
        settings=settings, db=Database(settings.database_url), calendar=WorkingCalendar(settings.tz)
    )


def cmd_complaints_export(args: argparse.Namespace) -> int:
    """The period's complaints as CSV, or XLSX for an output file ending in .xlsx; anonymous
    complainants stay anonymous."""
    from bot.complaints.reports import EXPORT_COLUMNS, export_rows
    from bot.core.exports import csv_lines, to_xlsx

    rt = _complaints_runtime(args)
    with rt.db.session() as session:
        rows = export_rows(session, rt, args.start, args.end, public=args.public)
    values = [[row[c.name] for c in EXPORT_COLUMNS] for row in rows]
    if args.output and args.output.lower().endswith(".xlsx"):
        Path(args.output).write_bytes(to_xlsx(EXPORT_COLUMNS, values, sheet="complaints"))
        return 0
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        out.writelines(csv_lines(EXPORT_COLUMNS, values))
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def cmd_complaints_report(args: argparse.Namespace) -> int:
    from bot.complaints.reports import complaint_report, render_report
    from bot.core.i18n import Translator
    from bot.core.text import html_to_plain

    rt = _complaints_runtime(args)
    with rt.db.session() as session:
        report = complaint_report(session, rt, args.start, args.end, public=args.public)
    tr = Translator(args.lang or rt.settings.default_locale)
    print(html_to_plain(render_report(rt, report, tr)))
    return 0


def cmd_survey_check(args: argparse.Namespace) -> int:
    from bot.surveys.questionnaire import SurveyConfigError, load_survey_config

    settings = _settings(args)
    path = Path(args.file) if args.file else (
        settings.survey_file or Path(settings.knowledge_dir) / "survey.yaml"
    )
    try:
        config = load_survey_config(path)
    except SurveyConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: OK, rule {config.rule}, {len(config.elements)} elements "
          f"({', '.join(e.code for e in config.elements)})")
    return 0


def cmd_ikm(args: argparse.Namespace) -> int:
    """The index report in the terminal, and optionally its CSV files."""
    from datetime import UTC, datetime

    from bot.core.db import Database
    from bot.core.i18n import Translator
    from bot.core.runtime import Runtime
    from bot.core.text import html_to_plain
    from bot.qa.knowledge import KnowledgeError
    from bot.qa.loader import load_knowledge
    from bot.surveys.exports import (
        TooFewRespondents,
        responses_table,
        summary_table,
        withheld_text,
    )
    from bot.surveys.questionnaire import service_name, service_unit, survey_config
    from bot.surveys.report import build_report, parse_period, render_report

    settings = _settings(args)
    try:
        knowledge = load_knowledge(settings.knowledge_dir)
    except KnowledgeError:
        knowledge = None  # names fall back to service ids
    rt = Runtime(settings=settings, db=Database(settings.database_url), knowledge=knowledge)
    config = survey_config(rt)
    try:
        period = parse_period(args.period or "", datetime.now(UTC).astimezone(settings.tz).date())
    except ValueError as exc:
        print(f"period: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    tr = Translator(args.lang or settings.default_locale)
    with rt.db.session() as session:
        report = build_report(
            session, config, period, settings.tz, by=args.by,
            unit_of=lambda service_id: service_unit(rt, service_id),
        )

        def name(key: str | None) -> str:
            if key is None:
                return tr.gettext("All services")
            return service_name(rt, key, tr.locale) if args.by == "service" else key

        office, minimum = settings.default_locale, settings.ikm_min_respondents
        print(html_to_plain(render_report(tr, report, config, name)))
        if args.csv:
            try:
                _write_table(Path(args.csv), *responses_table(
                    session, config, period, settings.tz, locale=office,
                    minimum_respondents=minimum,
                ))
            except TooFewRespondents as few:
                print(withheld_text(tr, few.count, few.minimum), file=sys.stderr)
        if args.summary:
            _write_table(Path(args.summary), *summary_table(report, config, locale=office))
    rt.db.dispose()
    return 0


def _days(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days (such as 365)")
    return int(value)


def _write_table(path: Path, columns: list, rows: Iterable[Sequence[Any]]) -> None:
    """XLSX for a file named .xlsx, else CSV."""
    from bot.core.exports import csv_lines, to_xlsx

    if path.suffix.lower() == ".xlsx":
        path.write_bytes(to_xlsx(columns, rows, sheet=path.stem))
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(csv_lines(columns, rows))


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1 to 65535)")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicebot", description="Telegram assistant for public-service offices."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run", help="run the bot on Telegram (long polling); without a token, the offline chat"
    )
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser(
        "serve", help="run in webhook mode: webhook, back-office API, /healthz, /metrics"
    )
    serve.set_defaults(func=cmd_serve)

    offline = sub.add_parser(
        "offline", help="chat with the bot in the browser, without Telegram (local emulator)"
    )
    offline.add_argument("--port", type=_port, help="port on 127.0.0.1 (default PORT, 8080)")
    offline.set_defaults(func=cmd_offline)

    ask = sub.add_parser("ask", help="answer questions from the knowledge base, without Telegram")
    ask.add_argument("question", nargs="?", help="the question; without it, one per stdin line")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--lang", choices=("id", "en"), help="answer language")
    ask.add_argument("--knowledge-dir", help="knowledge base folder (default KNOWLEDGE_DIR)")
    ask.set_defaults(func=cmd_ask)

    knowledge = sub.add_parser("knowledge", help="knowledge base tools")
    ksub = knowledge.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    check = ksub.add_parser("check", help="validate every knowledge file")
    check.add_argument("dir", nargs="?", help="folder to check (default KNOWLEDGE_DIR)")
    check.add_argument("--stale", type=_days, metavar="DAYS",
                       help="also list the fees, times and requirements without a source or "
                       "checked more than DAYS days ago (exit status 1 when there are any)")
    check.set_defaults(func=cmd_knowledge_check)
    reload = ksub.add_parser(
        "reload", help="validate KNOWLEDGE_DIR and switch every running instance to it"
    )
    reload.set_defaults(func=cmd_knowledge_reload)
    gaps = ksub.add_parser(
        "gaps", help="unanswered or 👎-rated questions as CSV (XLSX with -o FILE.xlsx)"
    )
    gaps.add_argument("--since", default="30d", help="30d, 12w or YYYY-MM-DD (default 30d)")
    gaps.add_argument(
        "-o", "--output", help="file to write, .xlsx for XLSX (default: CSV on standard output)"
    )
    gaps.set_defaults(func=cmd_knowledge_gaps)

    survey = sub.add_parser("survey", help="satisfaction survey tools")
    ssub = survey.add_subparsers(dest="survey_command", metavar="ACTION", required=True)
    scheck = ssub.add_parser("check", help="validate the questionnaire file")
    scheck.add_argument("file", nargs="?", help="file to check (default SURVEY_FILE)")
    scheck.set_defaults(func=cmd_survey_check)

    ikm = sub.add_parser("ikm", help="satisfaction index (IKM) report for a period")
    ikm.add_argument(
        "period", nargs="?",
        help="month (default), quarter, semester, year, 2026-11, 2026-Q3, 2026-S1, 2026, "
        "or 2026-01-01..2026-03-31",
    )
    ikm.add_argument("--by", choices=("service", "unit", "overall"), default="service")
    ikm.add_argument("--lang", choices=("id", "en"), help="report language")
    ikm.add_argument(
        "--csv", help="also write the responses (no personal data) to this file (.xlsx: XLSX)"
    )
    ikm.add_argument("--summary", help="also write the summary to this file (.xlsx: XLSX)")
    ikm.set_defaults(func=cmd_ikm)

    db = sub.add_parser("db", help="database tools")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = dsub.add_parser("upgrade", help="apply the migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    from bot.api_tokens.cli import add_parser as add_token_parser

    add_token_parser(sub)

    complaints = sub.add_parser("complaints", help="complaint figures and exports")
    csub = complaints.add_subparsers(dest="complaints_command", metavar="ACTION", required=True)
    for name, func, text in (
        ("export", cmd_complaints_export, "CSV (or XLSX) of the complaints received in a period"),
        ("report", cmd_complaints_report, "counts, medians and on-time shares for a period"),
    ):
        action = csub.add_parser(name, help=text)
        action.add_argument("start", type=_day, help="first day, YYYY-MM-DD (office time)")
        action.add_argument("end", type=_day, help="last day, YYYY-MM-DD (inclusive)")
        action.add_argument(
            "--public", action="store_true", help="leave confidential complaints out"
        )
        if name == "export":
            action.add_argument(
                "-o", "--output", help="file to write, .xlsx for XLSX (default: CSV on stdout)"
            )
        else:
            action.add_argument("--lang", choices=("id", "en"), help="report language")
        action.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "complaints_command", None) and args.end < args.start:
        parser.error("the end date is before the start date")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except SchemaTooNew as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        from bot.qa.knowledge import KnowledgeError
        from bot.surveys.questionnaire import SurveyConfigError

        if isinstance(exc, SurveyConfigError):
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print("the survey questionnaire is invalid; fix it and start again", file=sys.stderr)
            return 1
        if isinstance(exc, KnowledgeError):
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print("the knowledge base is invalid; fix it and start again", file=sys.stderr)
            return 1
        if _database_unreachable(exc):
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            print(
                f"cannot connect to the database: {reason[0] if reason else type(exc).__name__}\n"
                "check DATABASE_URL and that the database server is running and accepts "
                "connections from here",
                file=sys.stderr,
            )
            return EXIT_UNAVAILABLE
        raise


# The database cannot be connected to (down, unreachable, refusing us): a service manager
# should try again.
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE of sysexits.h


def _database_unreachable(exc: BaseException) -> bool:
    """A failure to connect (server away, wrong host, refused login, unopenable file), told
    apart from a failing statement (a locked SQLite file, a missing table): SQLAlchemy raises
    those with the statement attached."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError)) and exc.statement is None


if __name__ == "__main__":
    sys.exit(main())
