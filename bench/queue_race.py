"""Queue race: 500 citizens book the same 100 seats at once through two `servicebot serve`
instances on one PostgreSQL, then 4 officers call /next at the same time until the queue is
empty. Prints the booking step's latency and, last:

    queue race: B of S seats booked, O over quota, D booked twice

which must read 100 of 100, 0 and 0 (and every booked citizen called exactly once).

    .venv/bin/python bench/queue_race.py                 # 500 citizens, 100 seats
    .venv/bin/python bench/queue_race.py --citizens 1000 --seats 200

The emulator plays Telegram and the balancer (bench/load.py's BenchEmulator); everything
listens on 127.0.0.1, PostgreSQL too (TEST_POSTGRES_URL, as for the tests). A fresh database
and a copy of the sample knowledge base (one bookable service, one slot a day with --seats
seats, a fifth of them for priority visitors) are made for the run and removed after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's queue module: its own folder must not be on
# the import path, or asyncio would import it instead.
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from bench.load import (  # noqa: E402
    TOKEN,
    BenchEmulator,
    Tally,
    _buttons,
    _press,
    _send,
    free_port,
    local_only,
    percentile,
    start_instance,
    wait_healthy,
)
from bot.emulator import EmulatorServer  # noqa: E402

SECRET = "bench_queue_secret"
SERVICE = "ktp-el"
OFFICERS = [9_000_001 + n for n in range(4)]
CALLED = re.compile(r"Nomor <b>(\d{3})</b>|Nomor (\d{3})")
STEP_TIMEOUT = 120.0
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def knowledge_copy(seats: int) -> Path:
    """The sample knowledge base with a queue section for the race: one service, one slot a
    day."""
    folder = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    target = folder / "knowledge"
    shutil.copytree(REPO / "knowledge", target)
    office = target / "office.yaml"
    kept = office.read_text(encoding="utf-8").split("\nqueue:", 1)[0]
    hours = "".join(f"    {day}: \"08:00-08:30\"\n" for day in WEEKDAYS)
    office.write_text(
        kept + "\nqueue:\n  slot_minutes: 30\n  hours:\n" + hours
        + "  days_ahead: 10\n  priority_share: 20\n  services:\n"
        + f"    {SERVICE}: {{quota: {seats}, counters: 1-4}}\n",
        encoding="utf-8",
    )
    return target


async def answered(emulator: BenchEmulator, users: list[int], timeout: float) -> list[int]:
    """Wait until none of ``users`` waits for a reply; returns those still waiting."""
    await emulator.wait_for(lambda: not any(u in emulator.tally.pending for u in users),
                            timeout)
    return [u for u in users if u in emulator.tally.pending]


async def walk_to_priority_question(emulator: BenchEmulator, citizens: list[int],
                                    parallel: int = 60) -> None:
    """Each citizen opens /antrean, picks the service, the first day and the first slot, and
    stops at the priority question (their next press books)."""
    gate = asyncio.Semaphore(parallel)

    async def walk(uid: int) -> None:
        async with gate:
            _send(emulator, uid, "/antrean")
            for prefix in (f"q:s:{SERVICE}", "q:d:", "q:t:"):
                if await answered(emulator, [uid], STEP_TIMEOUT):
                    raise SystemExit(f"citizen {uid} got no answer before {prefix}")
                message_id, data = _buttons(emulator, uid, prefix)
                _press(emulator, uid, message_id, data[0])
            if await answered(emulator, [uid], STEP_TIMEOUT):
                raise SystemExit(f"citizen {uid} got no priority question")

    await asyncio.gather(*(walk(uid) for uid in citizens))


async def officer_says(emulator: BenchEmulator, uid: int, words: str) -> str:
    """An officer's command and the text of the bot's answer."""
    seen = len(emulator.messages.get(uid, {}))
    _send(emulator, uid, words)
    if await answered(emulator, [uid], STEP_TIMEOUT):
        raise SystemExit(f"officer {uid} got no answer to {words!r}")
    messages = emulator.messages.get(uid, {})
    newest = sorted(messages)[seen:] or sorted(messages)[-1:]
    return messages[newest[-1]].get("text", "")


async def run(args: argparse.Namespace) -> int:
    admin_url = os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    local_only(admin_url)
    name = f"servicebot_queue_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    knowledge = knowledge_copy(args.seats)
    procs: list[subprocess.Popen] = []
    emulator = BenchEmulator(TOKEN)
    server = EmulatorServer(emulator)
    db = create_engine(database_url)
    try:
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=REPO,
                       env={**os.environ, "DATABASE_URL": database_url}, check=True,
                       capture_output=True)
        await server.start()
        ports = [free_port(), free_port()]
        emulator.upstreams = [f"http://127.0.0.1:{p}" for p in ports]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.api_url,
            "WEBHOOK_URL": "http://127.0.0.1:8443",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "KNOWLEDGE_DIR": str(knowledge),
            "LOG_LEVEL": "WARNING",
            "FLOOD_MAX_PER_MINUTE": "0",  # officers send a hundred commands a minute here
            "TELEGRAM_MAX_CALLS_PER_SECOND": "5000",
            "ADMIN_IDS": ",".join(str(o) for o in OFFICERS),
        }
        for port in ports:
            procs.append(start_instance(env, port))
        for port, proc in zip(ports, procs, strict=True):
            await wait_healthy(f"http://127.0.0.1:{port}", proc)

        citizens = [20_000_001 + n for n in range(args.citizens)]
        for uid in citizens:
            emulator.add_user(uid, f"Warga {uid}", "id")
        for uid in OFFICERS:
            emulator.add_user(uid, f"Petugas {uid}", "id")
        started = time.monotonic()
        await walk_to_priority_question(emulator, citizens)
        print(f"{len(citizens)} citizens at the priority question after "
              f"{time.monotonic() - started:.1f} s (4 steps each)")

        # The race: every citizen presses their last button at once; a fifth ask priority.
        emulator.tally = Tally()
        race_start = time.monotonic()
        for index, uid in enumerate(citizens):
            message_id, data = _buttons(emulator, uid, "q:p:")
            choice = next(d for d in data if d.endswith(":e" if index % 5 == 0 else ":n"))
            _press(emulator, uid, message_id, choice)
        lost = await answered(emulator, citizens, STEP_TIMEOUT)
        race_seconds = time.monotonic() - race_start
        latencies = emulator.tally.latencies
        with db.connect() as conn:
            booked = conn.execute(text(
                "SELECT count(*) FROM queue_bookings WHERE status = 'booked'")).scalar_one()
            twice = conn.execute(text(
                "SELECT count(*) - count(DISTINCT user_id) FROM queue_bookings "
                "WHERE status = 'booked'")).scalar_one()
            twice += conn.execute(text(
                "SELECT count(*) - count(DISTINCT code) FROM queue_bookings")).scalar_one()
            regular, priority = conn.execute(text(
                "SELECT coalesce(sum(taken_regular), 0), coalesce(sum(taken_priority), 0) "
                "FROM queue_slots WHERE service_id = :s"), {"s": SERVICE}).one()
            day = conn.execute(text("SELECT min(day) FROM queue_bookings")).scalar_one()
        over = max(0, booked - args.seats)
        print(f"booking step (the last press, all {len(citizens)} at once): "
              f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
              f"p95 {percentile(latencies, 95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms; all answered in {race_seconds:.1f} s, "
              f"unanswered: {len(lost)}")
        print(f"seat counters: {regular} regular + {priority} priority = "
              f"{regular + priority} (bookings: {booked}); day booked: {day}")

        # The counter: the booked day is brought to today (the bench runs now, whatever the
        # day), then the officers check everyone in and call /next together until empty.
        today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
        with db.begin() as conn:
            conn.execute(text("UPDATE queue_bookings SET day = :d"), {"d": today})
            codes = [row[0] for row in conn.execute(text(
                "SELECT code FROM queue_bookings WHERE status = 'booked' ORDER BY id"))]
        for counter, officer in enumerate(OFFICERS, 1):
            await officer_says(emulator, officer, f"/loket {counter}")

        async def check_in(officer: int, mine: list[str]) -> None:
            for code in mine:
                await officer_says(emulator, officer, f"/checkin {code}")

        await asyncio.gather(*(check_in(o, codes[n::len(OFFICERS)])
                               for n, o in enumerate(OFFICERS)))
        calls: dict[int, list[str]] = {o: [] for o in OFFICERS}

        async def call_until_empty(officer: int) -> None:
            while True:
                said = await officer_says(emulator, officer, "/next")
                found = CALLED.search(said)
                if found is None:
                    return
                calls[officer].append(found.group(1) or found.group(2))

        call_start = time.monotonic()
        await asyncio.gather(*(call_until_empty(o) for o in OFFICERS))
        numbers = [n for made in calls.values() for n in made]
        with db.connect() as conn:
            still_waiting = conn.execute(text(
                "SELECT count(*) FROM queue_bookings WHERE status = 'waiting'")).scalar_one()
        print(f"counter: {len(codes)} checked in; 4 officers called {len(numbers)} in "
              f"{time.monotonic() - call_start:.1f} s ("
              + ", ".join(str(len(made)) for made in calls.values())
              + f"); called twice: {len(numbers) - len(set(numbers))}, never called: "
              f"{still_waiting}")
        print(f"queue race: {booked} of {args.seats} seats booked, {over} over quota, "
              f"{twice} booked twice")
        ok = (booked == args.seats and over == 0 and twice == 0 and not lost
              and len(numbers) == len(set(numbers)) == len(codes) and still_waiting == 0)
        return 0 if ok else 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        errors: list[str] = []
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.stderr is not None:
                errors += [line for line in proc.stderr.read().splitlines()
                           if " ERROR " in line or "Traceback" in line]
        if errors:
            print(f"instances logged {len(errors)} errors:" + "".join(
                f"\n  {line}" for line in errors[:5]), file=sys.stderr)
        await server.stop()
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(knowledge.parent, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--seats", type=int, default=100)
    args = parser.parse_args()
    if not 1 <= args.seats <= 500 or not 1 <= args.citizens <= 5000:
        parser.error("--seats 1..500 (a slot's quota), --citizens 1..5000")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
