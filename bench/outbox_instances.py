"""`bench/outbox.py --instances N`: a status broadcast drained by N `servicebot serve` processes.

The followers and the bulk status update are made in this process, on a fresh PostgreSQL
database; the instances' outbox senders deliver the notifications to the emulator (Telegram's
flood limits on) while sharing one send budget (bot/sendrate). Started, watched and stopped as
bench/load.py does it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import create_engine, text

from bench.load import REPO, free_port, local_only, start_instance, wait_healthy
from bot.emulator import Emulator, EmulatorServer

TOKEN = "123:BENCH"
FIRST_FOLLOWER = 30_000_001
QUIET = 40.0  # no new delivery for this long: what is missing is lost
AFTER = 3.0  # watched a little longer once all arrived: a duplicate would show here


class StampedEmulator(Emulator):
    """The emulator, noting when each bot message arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[float] = []

    def _record(self, chat_id: int, kind: str, method: str, message: dict, params: dict) -> Any:
        event = super()._record(chat_id, kind, method, message, params)
        if kind == "bot":
            self.arrivals.append(time.monotonic())
        return event


def _prepare(database_url: str, count: int, emulator: Emulator) -> tuple[Any, list[str]]:
    """``count`` citizens, each following an application: (runtime, tracking numbers)."""
    from bot.app import build_runtime
    from bot.applications.lookup import follow
    from bot.applications.service import register_application
    from bot.core.config import load_settings

    settings = load_settings(database_url=database_url, knowledge_dir=REPO / "knowledge")
    rt = build_runtime(settings)
    service_id = next(iter(rt.knowledge.services))
    numbers = []
    with rt.db.session() as session:
        for offset in range(count):
            user_id = FIRST_FOLLOWER + offset
            emulator.add_user(user_id, f"Pemohon {offset}", "id")
            emulator.started.add(user_id)  # they wrote to the bot before: it may write to them
            application = register_application(
                session, rt, service_id=service_id, applicant_name=f"Pemohon {offset}",
                actor_id=None, source="api",
            )
            follow(session, application=application, user_id=user_id)
            numbers.append(application.tracking_number)
    return rt, numbers


async def run_instances(instances: int, count: int) -> int:
    from bot.applications.bulk import bulk_update

    admin_url = os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    local_only(admin_url)
    name = f"servicebot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    emulator = StampedEmulator(TOKEN, flood_limits=True)
    server = EmulatorServer(emulator)
    procs: list[subprocess.Popen] = []
    rt = None
    try:
        await server.start()
        rt, numbers = _prepare(database_url, count, emulator)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.api_url,
            "WEBHOOK_URL": "http://127.0.0.1:8443",
            "WEBHOOK_SECRET": "bench_secret_token",
            "WEBHOOK_HOST": "127.0.0.1",
            "KNOWLEDGE_DIR": str(REPO / "knowledge"),
            "LOG_LEVEL": "WARNING",
        }
        # The whole broadcast is queued before any instance runs, so the rate measured is the
        # senders', not how fast this process writes the rows.
        csv = "tracking_number,status,note\n" + "".join(
            f"{number},in_process,Berkas lengkap\n" for number in numbers
        )
        report = await asyncio.to_thread(bulk_update, rt, csv.encode(), actor_id=None)
        assert report.applied == count and not report.refused, report.refused[:3]
        followers = range(FIRST_FOLLOWER, FIRST_FOLLOWER + count)
        ports = [free_port() for _ in range(instances)]
        procs = [start_instance(env, port) for port in ports]
        for port, proc in zip(ports, procs, strict=True):
            await wait_healthy(f"http://127.0.0.1:{port}", proc)

        def delivered() -> int:
            return len(emulator.arrivals)

        while delivered() < count:
            before = delivered()
            await emulator.wait_for(lambda before=before: delivered() > before, QUIET)
            if delivered() == before:
                break
        done = emulator.arrivals[-1] if emulator.arrivals else time.monotonic()
        await asyncio.sleep(AFTER)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        logged: list[str] = []
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.stderr is not None:
                logged += proc.stderr.read().splitlines()
        await server.stop()
        if rt is not None:
            rt.db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    received = Counter(
        e.chat_id for e in emulator.events if e.kind == "bot" and e.chat_id in followers
    )
    once = sum(1 for user_id in followers if received[user_id] == 1)
    lost = sum(1 for user_id in followers if received[user_id] == 0)
    twice = sum(n - 1 for n in received.values() if n > 1)
    flood = sum(1 for e in emulator.errors if e["error_code"] == 429)
    sent = sum(received.values())
    # From the first message to the last: the instances start one after the other, and the
    # first starts sending before the last is up.
    first = emulator.arrivals[0] if emulator.arrivals else done
    seconds = max(done - first, 1e-9)
    errors = [line for line in logged if " ERROR " in line or "Traceback" in line]
    print(f"instances           {instances} x servicebot serve on one PostgreSQL; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"followers           {count:,}; bulk update queued {count:,} outbox rows")
    print(f"delivered           {sent:,} in {seconds:.1f} s (first to last message)")
    print(f"lost, duplicated    {lost}, {twice}")
    for error in emulator.errors[:3]:
        print(f"  emulator refused: {error}")
    print(f"instances' logs     {len(logged)} lines at WARNING and up, {len(errors)} errors"
          + "".join(f"\n  {line}" for line in errors[:5]))
    print(f"outbox: {once} of {count} delivered once, {flood} answered 429, "
          f"{sent / seconds:.1f} messages/s")
    return 0 if once == count and flood == 0 else 1


if __name__ == "__main__":  # pragma: no cover - run through bench/outbox.py --instances N
    sys.exit("run: bench/outbox.py --instances N")
