"""Outbox benchmark: a bulk status update of N followed applications, drained to the emulator.

    .venv/bin/python bench/outbox.py                 # SQLite, 10,000 applications, in-process
    .venv/bin/python bench/outbox.py --db postgres   # PostgreSQL (TEST_POSTGRES_URL's server)
    .venv/bin/python bench/outbox.py --count 2000
    .venv/bin/python bench/outbox.py --instances 2   # 1,500 followers, 2 `servicebot serve`

The emulator enforces Telegram's flood limits (30 messages/s per bot, about 1/s per chat,
20/min per group; 429 beyond). In-process, one sender drains the outbox; with --instances N,
N `servicebot serve` processes on one fresh PostgreSQL database (local only, as bench/load.py)
drain it together, sharing the bot's send budget. Checks that every follower got exactly one
message; the last line reads `outbox: D of N delivered once, K answered 429, R messages/s`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Bot  # noqa: E402

from bot.applications.bulk import bulk_update
from bot.applications.lookup import follow
from bot.applications.service import register_application
from bot.core.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.core.db import Database  # noqa: E402
from bot.core.models import User  # noqa: E402
from bot.core.runtime import Runtime  # noqa: E402
from bot.core.workdays import WorkingCalendar  # noqa: E402
from bot.emulator import Emulator, EmulatorServer  # noqa: E402
from bot.outbox.models import OutboxMessage  # noqa: E402
from bot.qa.loader import load_knowledge  # noqa: E402
from handlers.outbox_delivery import drain_outbox  # noqa: E402

TOKEN = "123:BENCH"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIRST_USER = 10_000_000


def _database(kind: str, workdir: Path) -> tuple[str, object]:
    """A fresh database URL and a function that removes it afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{workdir}/bench.db", lambda: None
    name = f"servicebot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def _runtime(url: str) -> Runtime:
    db = Database(url)
    db.upgrade()
    settings = Settings(database_url=url, telegram_bot_token=TOKEN, _env_file=None)
    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    calendar = WorkingCalendar(settings.tz, closed_dates=kb.office.closed_dates)
    return Runtime(settings=settings, db=db, knowledge=kb, calendar=calendar)


async def run(kind: str, count: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database(kind, Path(tmp))
        try:
            return await _bench(kind, url, count)
        finally:
            drop()


async def _bench(kind: str, url: str, count: int) -> int:
    """One sender in this process drains the outbox (no `servicebot serve`)."""
    rt = _runtime(url)
    emulator = Emulator(TOKEN, flood_limits=True)
    server = EmulatorServer(emulator)
    await server.start()
    users = range(FIRST_USER, FIRST_USER + count)
    for user_id in users:
        emulator.add_user(user_id)
    emulator.started.update(users)

    started = time.perf_counter()
    numbers = []
    with rt.db.session() as session:
        for user_id in users:
            session.add(User(telegram_id=user_id, language="en" if user_id % 3 == 0 else "id"))
        session.flush()
        for user_id in users:
            application = register_application(
                session, rt, service_id="ktp-el", applicant_name=f"Pemohon {user_id}",
                actor_id=1,
            )
            follow(session, application=application, user_id=user_id)
            numbers.append(application.display_number)
    setup = time.perf_counter() - started

    csv = "tracking_number,status,note\n" + "".join(
        f"{number},in_process,Berkas lengkap\n" for number in numbers
    )
    started = time.perf_counter()
    report = bulk_update(rt, csv.encode(), actor_id=1)
    bulk = time.perf_counter() - started
    assert report.applied == count and not report.refused, report.refused[:3]

    bot = Bot(TOKEN, base_url=server.api_url)
    await bot.initialize()
    started = time.perf_counter()
    sent = 0
    while True:
        sent += await drain_outbox(bot, rt)
        with rt.db.session() as session:
            left = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "claimed")))
            ).one()
        if not left:
            break
        await asyncio.sleep(0.05)  # rows waiting out a 429 or a chat's interval
    elapsed = time.perf_counter() - started
    await bot.shutdown()
    await server.stop()

    received = Counter(
        event.chat_id for event in emulator.events if event.kind == "bot" and event.chat_id in users
    )
    lost = sum(1 for user_id in users if received[user_id] == 0)
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    flood = sum(1 for e in emulator.errors if e["error_code"] == 429)
    with rt.db.session() as session:
        statuses = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    rt.db.dispose()
    rate = sent / elapsed if elapsed else 0.0
    print(f"database            {kind}")
    print(f"applications        {count:,} (registered and followed in {setup:.1f} s)")
    print(f"bulk update (CSV)   {bulk:.1f} s, {count / bulk:,.0f} rows/s, {count:,} outbox rows")
    print(f"drained             {sent:,} messages in {elapsed:.1f} s")
    print(f"messages per second {rate:.1f} (target >= 25, Telegram's limit 30)")
    print(f"429 answers         {flood}")
    print(f"lost                {lost}")
    print(f"duplicated          {duplicated}")
    print(f"outbox rows         {statuses}")
    once = sum(1 for user_id in users if received[user_id] == 1)
    print(f"outbox: {once} of {count} delivered once, {flood} answered 429, "
          f"{rate:.1f} messages/s")
    return 0 if lost == 0 and duplicated == 0 and sent == count else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--count", type=int, default=None,
                        help="followers (10,000 in-process, 1,500 with --instances)")
    parser.add_argument("--instances", type=int, default=0,
                        help="`servicebot serve` processes on PostgreSQL (0: drain in-process)")
    args = parser.parse_args()
    if args.instances:
        if not 1 <= args.instances <= 8:
            parser.error("--instances must be between 1 and 8")
        from bench.outbox_instances import run_instances

        return asyncio.run(run_instances(args.instances, args.count or 1_500))
    return asyncio.run(run(args.db, args.count or 10_000))


if __name__ == "__main__":
    sys.exit(main())
