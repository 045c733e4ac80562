"""Load test of webhook mode: the emulator pushes citizens' updates through a round-robin
balancer to two `servicebot serve` processes on one PostgreSQL; prints update-to-reply times.

The citizens (--users, 5,000) ask questions; a fifth of them look up their application with
the number and code of their receipt and press Follow, a fifth answer the satisfaction survey
button by button. Meanwhile the back office moves --notifications other, followed
applications through the HTTP API, so the instances' outbox senders deliver one status
notification per follower; each must arrive exactly once, and every update must get exactly
the messages and edits the same step got in a warm-up.

    .venv/bin/python bench/load.py                      # 200 updates/s for 30 s
    .venv/bin/python bench/load.py --timeline 5         # ... and latency per 5 s
    .venv/bin/python bench/load.py --fault kill         # one instance SIGKILLed mid-load
    .venv/bin/python bench/load.py --fault term         # ... or stopped gracefully (SIGTERM)
    .venv/bin/python bench/load.py --fault kill --faults 5 --duration 60   # killed 5 times

Everything listens on 127.0.0.1 only; PostgreSQL must be local too (TEST_POSTGRES_URL, as
for the tests). A fresh database is created for the run and dropped at the end. The run is
bounded: at most MAX_DURATION seconds of load and MAX_UPDATES updates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.emulator import Emulator, EmulatorServer  # noqa: E402
from bot.emulator.core import _inline_buttons  # noqa: E402

TOKEN = "424242:BENCH"
SECRET = "bench_secret_token"
API_TOKEN = "bench-back-office-token-0123456789"
MAX_DURATION = 300.0
MAX_UPDATES = 100_000
# After the load: wait while replies keep coming (a backlog draining), at most DRAIN_LIMIT s;
# what is unanswered after QUIET s without any progress is lost. QUIET exceeds the lease after
# which an update orphaned by a killed instance is retaken (20 s + 5 s) and the time after
# which the outbox rows it had claimed go to another sender (30 s + a tick).
QUIET = 40.0
# bot/webhook/server.py's warning when it takes over an update (in its look for orphans, or when the
# balancer sends it again), with the calls the journal held; and when it gives a redelivered
# update the answer its first instance had written down.
TAKEOVER = re.compile(
    r"taking over update \d+ from a stopped instance(, sent again by Telegram)? \((\d+) call"
)
ANSWER_AGAIN = re.compile(r"update \d+ came again: its first answer is given again")
DRAIN_LIMIT = 180.0
QUESTIONS = (
    "syarat bikin ktp",
    "berapa biaya paspor",
    "jam buka kantor",
    "cara urus akta kelahiran",
    "berapa lama bikin kk",
    "sim a baru berapa",
    "skck syaratnya apa",
    "bpjs kelas 3 berapa",
    "where is the office",
    "how long does a passport take",
)


@dataclass
class Tally:
    """Sends and bot messages per chat, stamped with monotonic time."""

    sent_at: dict[int, list[float]] = field(default_factory=dict)
    replies_at: dict[int, list[float]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # when each latency ended
    pending: dict[int, float] = field(default_factory=dict)


class BenchEmulator(Emulator):
    """The emulator, noting when each bot message or edit arrives (the first ends the wait), and
    delivering the webhook round-robin to the instances itself, as Telegram in front of a load
    balancer would (one HTTP hop less for the one bench process to serve)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tally = Tally()
        self.upstreams: list[str] = []
        self.turn = 0
        self.failovers = 0

    def _record(self, chat_id: int, kind: str, method: str, message: dict, params: dict) -> Any:
        event = super()._record(chat_id, kind, method, message, params)
        now = time.monotonic()
        if kind in ("bot", "edit"):  # a message, or a pressed message changed in place
            self.tally.replies_at.setdefault(chat_id, []).append(now)
            started = self.tally.pending.pop(chat_id, None)
            if started is not None:
                self.tally.latencies.append(now - started)
                self.tally.answered_at.append(now)
        elif kind == "user":
            self.tally.sent_at.setdefault(chat_id, []).append(now)
            self.tally.pending[chat_id] = now
        return event

    async def _deliver_webhook(self) -> None:
        """Deliver like Telegram does: up to max_connections requests at once, but one chat's
        updates one after the other (the next only after the previous was answered)."""
        in_flight: set[int] = set()
        taken: set[int] = set()
        workers: set[asyncio.Task[None]] = set()
        connections = asyncio.Semaphore(self.webhook.get("max_connections", 40))
        clients = {url: Upstream(url) for url in self.upstreams}

        async def deliver(update: dict[str, Any], chat_id: int) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret_token"]}
            body = json.dumps(update).encode()
            delay = 0.1
            self.turn += 1
            try:
                while not self.closing and self.webhook.get("url"):
                    # The balancer's part: the next instance, or the other one when this
                    # one refuses the connection or is draining (503).
                    for attempt in range(len(self.upstreams)):
                        url = self.upstreams[(self.turn + attempt) % len(self.upstreams)]
                        try:
                            status, answer = await clients[url].post(
                                "/telegram/webhook", body, headers
                            )
                        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                            self.failovers += 1
                            self.webhook["last_error_message"] = exc.__class__.__name__
                            continue
                        if status < 300:
                            # Telegram runs the method the answer names, then takes the
                            # update as delivered.
                            await self.webhook_answer(answer)
                            self.updates.remove(update)
                            return
                        self.failovers += 1
                        self.webhook["last_error_message"] = f"HTTP {status}"
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            finally:
                in_flight.discard(chat_id)
                taken.discard(update["update_id"])
                connections.release()
                self._notify()

        try:
            await self._dispatch(in_flight, taken, workers, connections, deliver)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _dispatch(
        self,
        in_flight: set[int],
        taken: set[int],
        workers: set[asyncio.Task[None]],
        connections: asyncio.Semaphore,
        deliver: Any,
    ) -> None:
        while not self.closing and self.webhook.get("url"):
            ready = [
                (u, _chat_of(u)) for u in self.updates
                if u["update_id"] not in taken and _chat_of(u) not in in_flight
            ]
            if not ready:
                await self._wait_change(1.0)
                continue
            for update, chat_id in ready:
                if chat_id in in_flight:
                    continue  # an earlier update of this chat was just taken
                await connections.acquire()
                in_flight.add(chat_id)
                taken.add(update["update_id"])
                worker = asyncio.create_task(deliver(update, chat_id))
                workers.add(worker)
                worker.add_done_callback(workers.discard)


class Upstream:
    """Keep-alive HTTP/1.1 POSTs to one instance. The bench plays Telegram and the balancer on
    the same two cores as the bot; httpx's per-request bookkeeping cost more CPU than the bot's
    own work, so the bench speaks the little HTTP it needs itself."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """POST and read the answer: status code and body. Raises OSError and the like on
        failure."""
        while self.idle:
            # A kept-alive connection the instance has closed meanwhile (idle timeout) fails
            # before anything was read: try the next one, then a new one.
            reader, writer = self.idle.pop()
            try:
                return await self._post_on(reader, writer, path, body, headers)
            except (ConnectionError, RuntimeError):
                # (uvloop says RuntimeError when the transport was closed meanwhile.)
                continue
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), 5
        )
        return await self._post_on(reader, writer, path, body, headers)

    async def _post_on(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        try:
            status, answer, keep = await asyncio.wait_for(
                self._exchange(reader, writer, path, body, headers), 10
            )
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status, answer

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[int, bytes, bool]:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed by the instance")
        status = int(status_line.split()[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            elif name.strip().lower() == "connection" and value.strip().lower() == "close":
                keep = False
        answer = await reader.readexactly(length)
        return status, answer, keep


@dataclass
class Citizen:
    """One simulated citizen: a few scripted steps, then questions.

    "status": /status with the number and code of their receipt; "follow": press Follow on the
    card that came back; "survey": /survei, then "survey-press" for each of its buttons (the
    service, nine answers, skipping the suggestion and the profile) until it is done.
    """

    user_id: int
    script: list[str]
    application: tuple[str, str] | None = None  # tracking number, verification code
    done: list[str] = field(default_factory=list)  # labels of the steps taken
    question: str | None = None  # asked instead of a random one (the warm-up)


def act(emulator: BenchEmulator, citizen: Citizen, rng: random.Random) -> str:
    """Take the citizen's next step; returns its label (what is expected back depends on it)."""
    uid = citizen.user_id
    while citizen.script:
        step = citizen.script.pop(0)
        if step == "status" and citizen.application:
            number, code = citizen.application
            _send(emulator, uid, f"/status {number} {code}")
        elif step == "follow":
            found = _buttons(emulator, uid, "st:fo:")
            if found is None:
                continue  # no card came back: nothing to press
            _press(emulator, uid, found[0], found[1][0])
        elif step == "survey":
            _send(emulator, uid, "/survei")
            citizen.script.insert(0, "survey-press")
        elif step == "survey-press":
            data = _survey_choice(emulator, uid, rng)
            if data is None:
                continue  # the survey is done
            citizen.script.insert(0, "survey-press")
            _press(emulator, uid, *data)
        else:
            continue
        citizen.done.append(step)
        return step
    question = citizen.question or rng.choice(QUESTIONS)
    _send(emulator, uid, question)
    citizen.done.append(f"q:{question}")
    return citizen.done[-1]


def _send(emulator: BenchEmulator, uid: int, text: str) -> None:
    emulator.send_text(uid, text)  # recorded as the user's message: the wait starts


def _press(emulator: BenchEmulator, uid: int, message_id: int, data: str) -> None:
    emulator.click(uid, uid, message_id, data)
    now = time.monotonic()
    emulator.tally.sent_at.setdefault(uid, []).append(now)
    emulator.tally.pending[uid] = now


def _buttons(emulator: BenchEmulator, chat_id: int, prefix: str) -> tuple[int, list[str]] | None:
    """The newest message in the chat with buttons whose data start with ``prefix``."""
    messages = emulator.messages.get(chat_id, {})
    for message_id in sorted(messages, reverse=True):
        data = [
            b["callback_data"] for b in _inline_buttons(messages[message_id])
            if str(b.get("callback_data", "")).startswith(prefix)
        ]
        if data:
            return message_id, data
    return None


def _survey_choice(
    emulator: BenchEmulator, chat_id: int, rng: random.Random
) -> tuple[int, str] | None:
    found = _buttons(emulator, chat_id, "sv:")
    if found is None:
        return None
    message_id, data = found
    for prefix in ("sv:a:", "sv:svc:"):  # an answer (any value), or the service at the start
        choices = [d for d in data if d.startswith(prefix)]
        if choices:
            return message_id, rng.choice(choices)
    skips = [d for d in data if d.startswith("sv:s:") or d.endswith(":-")]
    return (message_id, skips[0]) if skips else None


def _chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message", "callback_query"):
        if key in update:
            body = update[key]
            return (body.get("message") or body)["chat"]["id"] if key == "callback_query" \
                else body["chat"]["id"]
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on the machine (the bench needs a local server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


def cpu_snapshot(procs: dict[int, subprocess.Popen]) -> dict[str, float]:
    return {
        "instances": sum(cpu_seconds(proc.pid) for proc in procs.values()),
        "bench (emulator, balancer, load)": time.process_time(),
        "PostgreSQL": postgres_cpu_seconds(),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_only(url: str) -> None:
    host = urlsplit(url.replace("+psycopg", "")).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing to run against {host}: the load test only targets 127.0.0.1")


def start_instance(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=REPO,
        env={**env, "WEBHOOK_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                sys.exit(f"instance on {url} exited:\n{proc.stderr.read()}")
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    sys.exit(f"instance on {url} not healthy after {timeout:.0f} s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> int:
    admin_url = os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    local_only(admin_url)
    load_before = os.getloadavg()[0]
    name = f"servicebot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    procs: dict[int, subprocess.Popen] = {}
    retired: list[subprocess.Popen] = []  # stopped by a fault, replaced by a restart
    emulator = BenchEmulator(TOKEN)
    emulator_server = EmulatorServer(emulator)
    try:
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            cwd=REPO, env={**os.environ, "DATABASE_URL": database_url}, check=True,
            capture_output=True,
        )
        await emulator_server.start()
        ports = [free_port(), free_port()]
        upstreams = [f"http://127.0.0.1:{p}" for p in ports]
        emulator.upstreams = upstreams
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator_server.api_url,
            # The balancer's address as Telegram would know it; BenchEmulator plays the balancer.
            "WEBHOOK_URL": "http://127.0.0.1:8443",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "KNOWLEDGE_DIR": str(REPO / "knowledge"),
            "LOG_LEVEL": "WARNING",
            "FLOOD_MAX_PER_MINUTE": "20",
            # Telegram would cap one bot at ~30 sends/s; the emulator (limits off) measures the
            # bot's own capacity instead.
            "TELEGRAM_MAX_CALLS_PER_SECOND": "5000",
            "API_TOKENS": API_TOKEN,
        }
        for port in ports:
            procs[port] = start_instance(env, port)
        for port, url in zip(ports, upstreams, strict=True):
            await wait_healthy(url, procs[port])

        followers = prepare_followers(emulator, database_url, args.notifications)
        users = list(range(10_000_001, 10_000_001 + args.users))
        order = random.Random(7)
        receipts = prepare_applications(database_url, len(users) // 5 + 2)
        citizens: dict[int, Citizen] = {}
        for index, user_id in enumerate(users):
            emulator.add_user(user_id, f"Warga {user_id}", order.choice(("id", "id", "en")))
            if index % 5 == 0:  # a fifth follow their application, a fifth answer a survey
                citizens[user_id] = Citizen(user_id, ["status", "follow"], receipts.pop())
            elif index % 5 == 1:
                citizens[user_id] = Citizen(user_id, ["survey"])
            else:
                citizens[user_id] = Citizen(user_id, [])
        expected_for = await warm_up(emulator, receipts)
        emulator.tally = Tally()

        total = min(int(args.rate * args.duration), MAX_UPDATES)
        interval = 1.0 / args.rate
        # The faults: evenly spaced through the load; each one waits for the instance to be
        # back from the previous one.
        faults = [total * (k + 1) // (args.faults + 1) for k in range(args.faults)]
        faults = faults if args.fault != "none" else []
        victim = ports[1]
        restarted: asyncio.Task[None] | None = None
        stopped_instances = 0
        active: set[int] = set()
        cpu_before = cpu_snapshot(procs)
        start = time.monotonic()
        # The back office moves the followers' applications through the API while the load
        # runs (from a quarter to three quarters of it): one notification per follower, sent
        # by whichever instance's outbox sender claims it.
        office = asyncio.create_task(back_office(
            upstreams, list(followers.values()), start + args.duration / 4, args.duration / 2
        ))
        for index in range(total):
            target = start + index * interval
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # A citizen acts again only once answered, so every reply belongs to one update.
            # A third of the time it is someone in the middle of a script (a survey is answered in
            # one go, a card followed when it arrives), else anyone.
            ready = [u for u in active if u not in emulator.tally.pending]
            if ready and order.random() < 0.35:
                user_id = order.choice(ready)
            else:
                for _ in range(20):
                    user_id = order.choice(users)
                    if user_id not in emulator.tally.pending:
                        break
            act(emulator, citizens[user_id], order)
            if citizens[user_id].script:
                active.add(user_id)
            else:
                active.discard(user_id)
            if faults and index >= faults[0] and (restarted is None or restarted.done()):
                faults.pop(0)
                stop = signal.SIGKILL if args.fault == "kill" else signal.SIGTERM
                # From another thread, a random few milliseconds on: sent from this loop it
                # would always land just after the emulator (on this loop too) answered some
                # call, which a crash does not wait for.
                threading.Timer(
                    order.uniform(0.0, 0.02), procs[victim].send_signal, (stop,)
                ).start()
                stopped_instances += 1
                restarted = asyncio.create_task(
                    restart_later(procs, retired, victim, env, upstreams[1])
                )
        load_seconds = time.monotonic() - start
        office_result = await office
        await drain(emulator, followers)
        drained_seconds = time.monotonic() - start - load_seconds
        cpu_after = cpu_snapshot(procs)
        if restarted is not None:
            await restarted
        await asyncio.sleep(1.0)  # late duplicates, if any, arrive now

        tally = emulator.tally
        acted = [c for c in citizens.values() if c.done]
        sent = sum(len(c.done) for c in acted)
        lost = len(tally.pending)
        expected = sum(expected_for(emulator, c) for c in acted)
        kinds: dict[str, int] = {}
        for c in acted:
            for label in c.done:
                kind = "questions" if label.startswith("q:") else label
                kinds[kind] = kinds.get(kind, 0) + 1
        got = sum(len(v) for v in tally.replies_at.values())
        lat = tally.latencies
        fault = f"{args.fault} x {stopped_instances}" if args.fault != "none" else "none"
        print(f"instances: 2 x servicebot serve on PostgreSQL, fault: {fault}; "
              f"{os.cpu_count()} cores, load average before {load_before:.2f}, "
              f"after {os.getloadavg()[0]:.2f} (other processes share the machine)")
        print(f"updates sent: {sent} in {load_seconds:.1f} s ({sent / load_seconds:.0f}/s, "
              f"target {args.rate}/s), citizens: {len(acted)} of {args.users}; "
              + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
        print(f"back office (API): {office_result}")
        if lat:
            ms = {p: percentile(lat, p) * 1000 for p in (50, 95, 99)}
            print(
                f"update-to-first-reply: p50 {ms[50]:.0f} ms, p95 {ms[95]:.0f} ms, "
                f"p99 {ms[99]:.0f} ms, max {max(lat) * 1000:.0f} ms, "
                f"mean {statistics.fmean(lat) * 1000:.0f} ms"
            )
        if args.fault == "none":  # a restarted instance's CPU time starts again at zero
            handled = sent + len(followers)
            print("CPU per update: " + ", ".join(
                f"{label} {(cpu_after[label] - cpu_before[label]) / handled * 1000:.2f} ms"
                for label in cpu_before
            ) + f" (over {time.monotonic() - start:.0f} s)")
        if args.timeline and lat:
            windows: dict[int, list[float]] = {}
            for at, value in zip(tally.answered_at, lat, strict=True):
                windows.setdefault(int((at - start) // args.timeline), []).append(value)
            for window, values in sorted(windows.items()):
                print(f"  {window * args.timeline:5.0f} s: {len(values):5d} answered, "
                      f"p50 {percentile(values, 50) * 1000:6.0f} ms, "
                      f"p95 {percentile(values, 95) * 1000:6.0f} ms")
        print(f"last reply {drained_seconds:.1f} s after the load ended; "
              f"updates without any reply (lost): {lost}")
        notes = [len(tally.replies_at.get(uid, [])) for uid in followers]
        notes_lost = sum(1 for n in notes if n == 0)
        notes_twice = sum(n - 1 for n in notes if n > 1)
        got -= sum(notes)
        if followers:
            print(f"status notifications (outbox): {sum(notes)} for {len(followers)} followers: "
                  f"{notes_lost} lost, {notes_twice} duplicated")
        print(f"bot messages and edits: {got}, expected {expected}: "
              f"{max(got - expected, 0)} extra (duplicated), {max(expected - got, 0)} missing")
        if got != expected:
            show_mismatches(emulator, acted, expected_for)
        async with httpx.AsyncClient(timeout=5) as client:
            for url in upstreams:
                try:
                    metrics = (await client.get(url + "/metrics")).text.splitlines()
                except httpx.TransportError:
                    continue
                values = dict(
                    line.rsplit(" ", 1) for line in metrics if line and not line.startswith("#")
                )
                count = float(values["servicebot_update_handling_seconds_count"])
                total_s = float(values["servicebot_update_handling_seconds_sum"])
                print(
                    f"instance {url}: handled {count:.0f}, mean arrival-to-handled "
                    f"{total_s / max(count, 1) * 1000:.0f} ms, duplicates skipped "
                    f"{values['servicebot_updates_duplicate_total']}, taken over from a dead "
                    f"instance {values['servicebot_updates_recovered_total']}, flood-dropped "
                    f"{values['servicebot_updates_flood_dropped_total']}, replies in the "
                    f"webhook answer {values['servicebot_webhook_answers_total']}"
                )
        print(f"balancer failovers: {emulator.failovers}; "
              f"webhook errors seen by the emulator: {emulator.webhook.get('last_error_message')}")
        return 0 if lost == notes_lost == notes_twice == 0 and got == expected else 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        logged: list[str] = []
        for proc in [*retired, *procs.values()]:
            try:
                # Waited for off the event loop: the emulator in it must keep answering the
                # instances while they finish what they hold.
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
            if proc.stderr is not None:
                logged += proc.stderr.read().splitlines()
        errors = [line for line in logged if " ERROR " in line or "Traceback" in line]
        print(f"instances' logs (level WARNING and up): {len(logged)} lines, "
              f"{len(errors)} errors" + "".join(f"\n  {line}" for line in errors[:5]))
        takeovers = [TAKEOVER.search(line) for line in logged]
        takeovers = [m for m in takeovers if m]
        resent = sum(1 for m in takeovers if m.group(1))
        print(f"updates taken over from a stopped instance: {len(takeovers)} ({resent} when "
              f"sent again, {len(takeovers) - resent} by the look for orphans), with "
              f"{sum(int(m.group(2)) for m in takeovers)} Bot API call(s) it had already made "
              "(answered from the reply journal, not made again); answers given again: "
              f"{sum(1 for line in logged if ANSWER_AGAIN.search(line))}")
        if os.environ.get("BENCH_LOG"):
            Path(os.environ["BENCH_LOG"]).write_text("\n".join(logged))
        await emulator_server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def drain(emulator: BenchEmulator, followers: dict[int, str]) -> None:
    """Wait for the answers and notifications still due, while they keep coming."""

    def due() -> int:
        unnotified = sum(1 for uid in followers if not emulator.tally.replies_at.get(uid))
        return len(emulator.tally.pending) + unnotified

    deadline = time.monotonic() + DRAIN_LIMIT
    while due() and time.monotonic() < deadline:
        before = due()
        await emulator.wait_for(lambda before=before: due() < before, QUIET)
        if due() == before:
            return


def _bench_runtime(database_url: str) -> Any:
    from bot.app import build_runtime
    from bot.core.config import load_settings

    settings = load_settings(database_url=database_url, knowledge_dir=REPO / "knowledge")
    return build_runtime(settings, migrate=False)


def prepare_followers(emulator: BenchEmulator, database_url: str, count: int) -> dict[int, str]:
    """``count`` citizens who followed an application each earlier: {user id: tracking no.}."""
    from bot.applications.lookup import follow
    from bot.applications.service import register_application

    if count <= 0:
        return {}
    rt = _bench_runtime(database_url)
    service_id = next(iter(rt.knowledge.services))
    followers: dict[int, str] = {}
    with rt.db.session() as session:
        for offset in range(count):
            user_id = 30_000_001 + offset
            emulator.add_user(user_id, f"Pemohon {offset}", "id")
            emulator.started.add(user_id)  # they wrote to the bot before: it may write to them
            application = register_application(
                session, rt, service_id=service_id, applicant_name=f"Pemohon {offset}",
                actor_id=None, source="api",
            )
            follow(session, application=application, user_id=user_id)
            followers[user_id] = application.tracking_number
    rt.db.dispose()
    return followers


def prepare_applications(database_url: str, count: int) -> list[tuple[str, str]]:
    """``count`` registered applications: (tracking number, code) as on the receipts."""
    from bot.applications.service import register_application

    rt = _bench_runtime(database_url)
    services = list(rt.knowledge.services)
    receipts = []
    with rt.db.session() as session:
        for offset in range(count):
            application = register_application(
                session, rt, service_id=services[offset % len(services)],
                applicant_name=f"Warga {offset}", actor_id=None, source="api",
            )
            receipts.append((application.tracking_number, application.verification_code))
    rt.db.dispose()
    return receipts


async def warm_up(emulator: BenchEmulator, receipts: list[tuple[str, str]]) -> Any:
    """Each script and each question once in each language, one step at a time: how many
    messages and edits each step brings. Returns expected_for(emulator, citizen). Separate
    warm-up citizens, so none of them comes near the flood limit."""
    counts: dict[tuple[str, str, int], int] = {}
    uid = 9_000_000
    for lang in ("id", "en"):
        runs = [
            Citizen(uid + 1, ["status", "follow"], receipts.pop()),
            Citizen(uid + 2, ["survey"]),
        ]
        runs += [Citizen(uid + 3 + n, [], question=q) for n, q in enumerate(QUESTIONS)]
        uid += 100
        for citizen in runs:
            emulator.add_user(citizen.user_id, "Warm-up", lang)
            while citizen.script or citizen.question:
                before = len(emulator.tally.replies_at.get(citizen.user_id, []))
                act(emulator, citizen, random.Random(1))
                await emulator.wait_for(
                    lambda c=citizen: c.user_id not in emulator.tally.pending, 10
                )
                await asyncio.sleep(0.3)  # a second message, if the step brings one
                got = len(emulator.tally.replies_at.get(citizen.user_id, [])) - before
                label = citizen.done[-1]
                counts[(label, lang, citizen.done.count(label))] = got
                if label.startswith("q:"):
                    break

    def expected_for(emulator: BenchEmulator, citizen: Citizen) -> int:
        lang = emulator.users[citizen.user_id]["language_code"]
        total, seen = 0, {}
        for label in citizen.done:
            seen[label] = seen.get(label, 0) + 1
            occurrence = 1 if label.startswith("q:") else seen[label]
            total += counts[(label, lang, occurrence)]
        return total

    return expected_for


def show_mismatches(emulator: BenchEmulator, acted: list[Citizen], expected_for: Any) -> None:
    """The chats that got more or fewer messages and edits than their steps should give."""
    shown = 0
    for citizen in acted:
        got = len(emulator.tally.replies_at.get(citizen.user_id, []))
        want = expected_for(emulator, citizen)
        if got == want or shown >= 5:
            continue
        shown += 1
        print(f"  chat {citizen.user_id}: {got} instead of {want}; steps {citizen.done}")
        for event in emulator.chat_events(citizen.user_id):
            text = event.params.get("text") or event.message.get("text") or ""
            if event.kind == "user":
                text = event.message.get("text") or f"[pressed {event.params.get('data', '')}]"
            print(f"    {event.kind:5} {event.method:22} {str(text)[:70]!r}")


async def back_office(
    upstreams: list[str], numbers: list[str], begin: float, spread: float
) -> str:
    """One status change per application through the API, evenly over ``spread`` seconds,
    to either instance; refused or failing calls go to the other (as a balancer would)."""
    clients = [Upstream(url) for url in upstreams]
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    body = json.dumps({"status": "in_verification"}).encode()
    changed = refused = 0
    for index, number in enumerate(numbers):
        delay = begin + index * spread / max(len(numbers), 1) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        path = f"/api/v1/applications/{number}/status"
        for attempt in range(10):
            client = clients[(index + attempt) % len(clients)]
            try:
                status, _ = await client.post(path, body, headers)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.2)
                continue
            if status < 300:
                changed += 1
                break
            if status < 500:
                # A retry of a change that was made before the answer got lost is refused
                # (the application is already in that status): done, and told once.
                refused += 1
                break
            await asyncio.sleep(0.2)
    return f"{changed} status changes, {refused} refused, {len(numbers)} asked"


async def restart_later(
    procs: dict[int, subprocess.Popen],
    retired: list[subprocess.Popen],
    port: int,
    env: dict[str, str],
    url: str,
) -> None:
    """Wait for the stopped instance to be gone, then start it again (as systemd would)."""
    while procs[port].poll() is None:
        await asyncio.sleep(0.1)
    retired.append(procs[port])  # its log is read at the end
    await asyncio.sleep(2.0)
    procs[port] = start_instance(env, port)
    await wait_healthy(url, procs[port])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="updates per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--users", type=int, default=5000, help="simulated citizens")
    parser.add_argument("--fault", choices=("none", "kill", "term"), default="none")
    parser.add_argument(
        "--faults", type=int, default=1,
        help="how many times the instance is stopped (and restarted) during the load",
    )
    parser.add_argument(
        "--notifications", type=int, default=500,
        help="followed applications moved mid-load (status notifications via the outbox)",
    )
    parser.add_argument(
        "--timeline", type=float, default=0.0,
        help="also print latency per window of this many seconds",
    )
    args = parser.parse_args()
    if not 0 < args.duration <= MAX_DURATION or not 0 < args.rate <= 1000:
        parser.error(f"duration must be in (0, {MAX_DURATION:.0f}] s and rate in (0, 1000]")
    try:
        import uvloop  # the loop `servicebot serve` runs on, through uvicorn

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
