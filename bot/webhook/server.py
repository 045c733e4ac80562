"""`servicebot serve`: the ASGI app for webhook mode (Telegram webhook, API, health, metrics).

Like bot/app.py this is wiring, so it may touch python-telegram-bot; the rules live elsewhere.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.core.db import reads_only
from bot.core.errors import ConfigError
from bot.core.input_checks import BadJson, is_telegram_id, read_json, unusable_ids
from bot.core.metrics import METRICS, record_api_call
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.outbox.models import OutboxMessage
from bot.web import page_routes
from bot.webhook.answer import WebhookAnswer
from bot.webhook.chat_locks import ChatLocks
from bot.webhook.journal import CURRENT_JOURNAL, ReplyJournal
from bot.webhook.liveness import Liveness, live_instances
from bot.webhook.store import (
    TAKEN_BY_SERVER,
    count_unfinished,
    finish_updates,
    retake_orphans,
    take_update,
    webhook_answer_for,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates handled at once in one process. Each holds a bookkeeping connection for its chat
# lock (on PostgreSQL) and uses the pools for its lookups and sessions (bot/core/db.py: two pools
# of up to 20).
HANDLING_CONCURRENCY = 8
# How long a stopping instance waits for the updates it has already accepted.
DRAIN_TIMEOUT = 25.0
# The webhook answers once the update is handled, with its last message in the answer
# (bot/webhook/answer.py, WebhookAnswer), or after this long anyway, so Telegram is never kept
# waiting on a slow chat or handler; what the handler sends after that goes as calls.
ANSWER_TIMEOUT = 2.0
# A redelivered update still in hand elsewhere: how often the webhook looks whether its first
# answer has been written, until ANSWER_TIMEOUT.
REDELIVERY_POLL = 0.05
# How often each instance looks for updates orphaned by a dead instance (see Liveness, LEASE).
RECOVERY_INTERVAL = 2.0
# On PostgreSQL a handled update is marked finished by the statement that releases its chat
# (bot/webhook/chat_locks.py, ChatLocks). Where that does not apply (SQLite, an update without a
# chat, a failed release), handled updates are marked in batches, one statement per interval; if
# the process dies, the last interval's updates are retaken, and their reply journal
# (bot/webhook/journal.py) keeps what they sent from being sent again.
FINISH_INTERVAL = 0.1
# Allocations between collections of the youngest generation in `servicebot serve` (Python's
# default is 700); see serve().
GC_THRESHOLD = 20_000


class WebhookServer:
    """Accepts updates, handles each in a task, and answers Telegram when it is handled (with
    its last message) or after ANSWER_TIMEOUT, whichever comes first."""

    def __init__(self, rt: Runtime, application: Application) -> None:
        self.rt = rt
        self.application = application
        self.secret = rt.settings.webhook_secret.encode()
        self.max_body = rt.settings.webhook_max_body_bytes
        self.draining = False
        self.tasks: set[asyncio.Task[None]] = set()
        self.liveness = Liveness(rt.db)
        self.locks = ChatLocks(rt.db, owner=self.liveness)
        # Shared with the guard (handlers.my_data), which then does not claim them again.
        self.taken: dict[int, str] = application.bot_data.setdefault(TAKEN_BY_SERVER, {})
        self.finished: list[int] = []  # handled, not yet marked so in the database
        self._slots = asyncio.Semaphore(HANDLING_CONCURRENCY)

    async def webhook(self, request: Request) -> Response:
        if self.draining:
            # The load balancer (or Telegram, on retry) sends it to an instance that stays.
            return _refuse(503, "shutting down", headers={"Retry-After": "1"})
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return _refuse(401, "wrong or missing secret token")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return _refuse(413, "body too large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body:
                return _refuse(413, "body too large")
        try:
            data = read_json(bytes(body))
        except BadJson as exc:
            return _refuse(400, str(exc))
        if not isinstance(data, dict) or not is_telegram_id(data.get("update_id")):
            return _refuse(400, "not a Telegram update")
        unusable = unusable_ids(data)
        if unusable:
            # Answered, so Telegram does not send it again, and never stored: it could only
            # fail on every try (and be taken over again after every restart).
            log.warning("update %s not handled: %s", data["update_id"], unusable)
            return Response(status_code=200)
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # noqa: BLE001 - any shape PTB cannot read is the sender's fault
            return _refuse(400, "not a Telegram update")
        user = update.effective_user
        try:
            verdict = take_update(
                self.rt.db,
                update.update_id,
                data,
                user_id=user.id if user is not None else None,
                flood_limit=self.rt.settings.flood_max_per_minute,
                taken_by=self.liveness.key,
            )
        except Exception:  # noqa: BLE001 - database away: Telegram keeps it and retries
            log.warning("could not store update %s", update.update_id, exc_info=True)
            return _refuse(503, "database unavailable", headers={"Retry-After": "5"})
        if verdict == "duplicate":
            # Redelivered: handled, or in hand here or elsewhere (and retaken if that one dies).
            METRICS.updates_duplicate.inc()
            return await self._answer_again(update.update_id)
        METRICS.updates_received.inc()
        return await self._handle_and_answer(update, verdict)

    async def _handle_and_answer(
        self, update: Update, verdict: str, sent: dict[str, str] | None = None
    ) -> Response:
        """Handle the update in a task, and answer the webhook request when it is handled, with
        its last message, or after ANSWER_TIMEOUT."""
        answer = WebhookAnswer()
        self._spawn(update, verdict, sent, answer=answer)
        # Answering once the update is handled means that a sender which waits for the answer
        # before the next update (the emulator always; Telegram on one connection) has that
        # next update, on whichever instance, come after this one; and the update's last
        # message goes in the answer, where it cannot be sent twice (bot/webhook/journal.py).
        try:
            await asyncio.wait_for(answer.ready.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            pass
        finally:
            # Also when this request is cancelled (the client went away, shutdown): from here
            # the handler sends its message as a call, not into an answer nobody reads.
            body = answer.close()
        if body is None:
            return JSONResponse({"ok": True})
        METRICS.webhook_answers.inc()
        record_api_call(body["method"], 200)
        return JSONResponse(body)

    async def _answer_again(self, update_id: int) -> Response:
        """A redelivered update: Telegram did not get the first answer.

        - If that answer carried a message, the message was written down before it was given:
          the same message goes again (the first never reached Telegram).
        - If the update is unfinished and its instance is gone (killed while handling it), it is
          taken over here, and answered like a new one.
        - If it is still in hand (here or on a live instance), its answer is waited for a
          little; after that, or once it is finished without a message, the answer is empty.
        """
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            try:
                body, finished = webhook_answer_for(self.rt.db, update_id)
                orphans = [] if body is not None or finished else retake_orphans(
                    self.rt.db, taken_by=self.liveness.key, exclude=list(self.taken),
                    only=update_id,
                )
            except Exception:  # noqa: BLE001 - database away: Telegram keeps it and retries
                log.warning("could not look up update %s", update_id, exc_info=True)
                return _refuse(503, "database unavailable", headers={"Retry-After": "5"})
            if body is not None:
                log.warning("update %s came again: its first answer is given again", update_id)
                return JSONResponse(body)
            if orphans:
                (orphan,) = orphans
                log.warning(
                    "taking over update %s from a stopped instance, sent again by Telegram "
                    "(%d call(s) it had made)", update_id, len(orphan.replies),
                )
                METRICS.updates_recovered.inc()
                return await self._handle_and_answer(
                    Update.de_json(orphan.payload, self.application.bot), "ok", orphan.replies
                )
            if finished or time.monotonic() >= deadline:
                return JSONResponse({"ok": True})
            await asyncio.sleep(REDELIVERY_POLL)

    async def _handle(
        self,
        update: Update,
        verdict: str,
        received: float,
        sent: dict[str, str] | None = None,
        answer: WebhookAnswer | None = None,
    ) -> None:
        """Handle one update in its own task; ``sent``: for one taken over, what the instance
        that first took it had already sent (the reply journal, bot/webhook/journal.py); ``answer``:
        the webhook request that brought it, waiting."""
        # This task's own context: the journal is this update's, whatever else runs meanwhile.
        chat = update.effective_chat or update.effective_user
        journal = ReplyJournal(
            self.rt.db, update.update_id, sent, answer,
            chat_id=update.effective_chat.id if update.effective_chat else None,
            received_at=received,
        )
        CURRENT_JOURNAL.set(journal)
        self.taken[update.update_id] = verdict
        holding = None
        try:
            async with self._slots, self.locks.hold(
                chat.id if chat else None, update.update_id
            ) as holding:
                if not holding.mine:
                    # Finished or taken over by another instance meanwhile (this one had lost
                    # its liveness connection, or was thought dead): theirs, not to be redone.
                    log.warning("update %s was handled or taken over elsewhere; left to it",
                                update.update_id)
                    return
                try:
                    await self.application.process_update(update)
                except Exception:  # noqa: BLE001 - one bad update must not stop the others
                    METRICS.handler_failures.inc()
                    log.exception("update %s could not be handled", update.update_id)
                else:
                    METRICS.updates_handled.inc()
                    METRICS.observe_latency(time.perf_counter() - received)
                # The last message: in the webhook's answer, or sent now. Still holding the
                # chat, so the chat's next update is answered after it.
                await journal.settle()
                # Handled (well or not): recorded with the chat's unlock, or in the next batch.
                holding.finished = True
        except asyncio.CancelledError:
            # Shut down before it was done: left unfinished, so another instance retakes it.
            raise
        except Exception:  # noqa: BLE001 - the chat's lock: database away
            if holding is None or not holding.finished:
                # Not handled: left unfinished, so it is retaken after the lease.
                log.warning("update %s left for a retry", update.update_id, exc_info=True)
                return
            # Handled, but the unlock failed: the batch records it.
            log.warning("could not release the chat of update %s", update.update_id,
                        exc_info=True)
        finally:
            if answer is not None:
                answer.done()
            self.taken.pop(update.update_id, None)
        if holding is None or not holding.recorded:
            self.finished.append(update.update_id)

    async def record_finished(self) -> None:
        """Every FINISH_INTERVAL, mark the updates handled since in one statement."""
        while True:
            await asyncio.sleep(FINISH_INTERVAL)
            try:
                self.flush_finished()
            except Exception:  # noqa: BLE001 - kept for the next round
                log.warning("could not record finished updates", exc_info=True)

    def flush_finished(self) -> None:
        batch, self.finished = self.finished, []
        try:
            finish_updates(self.rt.db, batch)
        except Exception:
            self.finished = batch + self.finished
            raise

    def _spawn(
        self,
        update: Update,
        verdict: str,
        sent: dict[str, str] | None = None,
        *,
        answer: WebhookAnswer | None = None,
    ) -> None:
        task = asyncio.create_task(
            self._handle(update, verdict, time.perf_counter(), sent, answer)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def recover_orphans(self) -> None:
        """Every few seconds, take over updates whose instance died while handling them."""
        while not self.draining:
            await asyncio.sleep(RECOVERY_INTERVAL)
            try:
                self.liveness.ensure()
                self.recover_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away; try again
                log.warning("could not look for orphaned updates", exc_info=True)

    def recover_once(self, *, now: datetime | None = None) -> int:
        """One look for orphaned updates; each one found is handled here. Returns how many."""
        orphans = retake_orphans(
            self.rt.db, now=now, taken_by=self.liveness.key, exclude=list(self.taken)
        )
        for orphan in orphans:
            unusable = unusable_ids(orphan.payload)
            if unusable:  # stored before the webhook checked ids: finished, not retried
                log.warning("update %s marked finished unhandled: %s",
                            orphan.payload["update_id"], unusable)
                self.finished.append(orphan.payload["update_id"])
                continue
            log.warning(
                "taking over update %s from a stopped instance (%d call(s) it had made)",
                orphan.payload["update_id"], len(orphan.replies),
            )
            METRICS.updates_recovered.inc()
            # Counted for flood control when first taken; not a second time.
            self._spawn(
                Update.de_json(orphan.payload, self.application.bot),
                "ok",
                orphan.replies,
            )
        return len(orphans)

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Stop taking updates and wait for those in hand."""
        self.draining = True
        if self.tasks:
            log.info("draining %d update(s) in hand", len(self.tasks))
            _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
            if pending:
                log.warning("%d update(s) left to other instances at shutdown", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    def healthz(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            # Reading only: on SQLite it need not wait for the write lock (bot/core/db.py).
            with reads_only(), self.rt.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure is "not healthy"
            checks["database"] = f"unreachable: {exc.__class__.__name__}"
        checks["knowledge"] = "ok" if self.rt.knowledge is not None else "not loaded"
        checks["webhook"] = "draining" if self.draining else "ok"
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(checks, status_code=200 if healthy else 503)

    def metrics(self, request: Request) -> Response:
        return PlainTextResponse(
            METRICS.render(self._gauges()), media_type="text/plain; version=0.0.4"
        )

    def _gauges(self) -> list[tuple[str, str, float]]:
        with self.rt.db.session() as session:
            depth, oldest = session.exec(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == "pending"
                )
            ).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite gives the aggregate back naive
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        return [
            ("servicebot_outbox_pending", "Outbox rows waiting to be sent.", float(depth)),
            (
                "servicebot_outbox_oldest_pending_seconds",
                "Age of the oldest unsent outbox row.",
                max(age, 0.0),
            ),
            ("servicebot_updates_in_hand", "Updates accepted, not yet handled.", len(self.tasks)),
            ("servicebot_draining", "1 while this instance is shutting down.", int(self.draining)),
        ] + self._cluster_gauges()

    def _cluster_gauges(self) -> list[tuple[str, str, float]]:
        """On PostgreSQL: the instances alive on this database, and the updates left unfinished
        (in hand somewhere, or waiting to be taken over from a dead instance)."""
        if not self.rt.db.is_postgres:
            return []
        return [
            (
                "servicebot_instances_live",
                "Instances running on this database (their liveness locks).",
                float(len(live_instances(self.rt.db))),
            ),
            (
                "servicebot_updates_unfinished",
                "Updates taken by any instance and not finished yet.",
                float(count_unfinished(self.rt.db)),
            ),
        ]


def _refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    METRICS.webhook_rejected.inc()
    return JSONResponse({"ok": False, "error": reason}, status_code=status, headers=headers)


async def start_application(application: Application) -> None:
    """What run_polling does before polling, without the polling."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()


async def stop_application(application: Application) -> None:
    if application.running:
        await application.stop()
    if application.post_stop:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


def webhook_address(rt: Runtime) -> str:
    return rt.settings.webhook_url + WEBHOOK_PATH


def create_server_app(rt: Runtime, application: Application, *, set_webhook: bool = True) -> Any:
    """The Starlette app; ``server`` (the WebhookServer) is on ``app.state``."""
    server = WebhookServer(rt, application)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await start_application(application)
        background: list[asyncio.Task[None]] = []
        try:
            # Alive before taking any update: what it takes is then never mistaken for a dead
            # instance's.
            server.liveness.start()
            if set_webhook:
                # Every instance sets the same URL and secret: idempotent, and whichever starts
                # last leaves it right. Pending updates are kept (Telegram holds them 24 h).
                await application.bot.set_webhook(
                    url=webhook_address(rt),
                    secret_token=rt.settings.webhook_secret,
                    max_connections=rt.settings.webhook_max_connections,
                    drop_pending_updates=False,
                )
                log.info("webhook set to %s", webhook_address(rt))
            background = [
                asyncio.create_task(server.recover_orphans()),
                asyncio.create_task(server.record_finished()),
            ]
            yield
        finally:
            await server.drain()
            for task in background:
                task.cancel()
            try:
                server.flush_finished()
            except Exception:  # noqa: BLE001 - they will be retaken: late, not lost
                log.warning("could not record the last finished updates", exc_info=True)
            server.liveness.stop()
            await stop_application(application)

    routes: list[Any] = [
        Route(WEBHOOK_PATH, server.webhook, methods=["POST"]),
        Route("/healthz", server.healthz, methods=["GET"]),
        Route("/metrics", server.metrics, methods=["GET"]),
        # The features' pages: the staff console, the public /ikm page, the waiting-room board.
        *page_routes(rt),
    ]
    api = _api_app(rt)
    if api is not None:
        # Everything under /api/ (so the server's own routes keep their 404 and 405).
        routes.append(Mount("/api", app=_full_paths(api)))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = server
    return app


def _api_app(rt: Runtime) -> Any:
    """The back-office API of the status feature, when installed: always mounted, since its
    tokens are records an admin creates while the bot runs (bot/api_tokens); without one it
    answers 401."""
    try:
        from bot.applications.api import create_api_app  # type: ignore[import-not-found]
    except ImportError:
        return None
    return create_api_app(rt)


def _full_paths(app: Any) -> Any:
    """The API's routes carry their full /api/v1/... paths: undo the mount's prefix."""

    async def call(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "root_path": scope.get("app_root_path", "")}, receive, send)

    return call


def serve(rt: Runtime, application: Application, sock: socket.socket) -> None:
    """Run on uvicorn on ``sock`` (see listening_socket) until SIGTERM/SIGINT, then drain."""
    import gc

    import uvicorn

    # What start-up loaded (modules, the knowledge base, the matcher's index) lives as long as
    # the process: moved out of the collector's sight, and the youngest generation collected
    # less often, a full collection no longer walks it for every few thousand new objects.
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)

    app = create_server_app(rt, application)
    server: WebhookServer = app.state.server

    class DrainingServer(uvicorn.Server):
        async def serve(self, sockets: list[socket.socket] | None = None) -> None:
            # getMe before uvicorn's lifespan (which then finds the bot initialised): a token
            # Telegram rejects is a configuration error, told in one line and with exit status
            # 2, instead of uvicorn's traceback that repeats the token and exits 3 (restarted
            # in a loop by Docker and systemd).
            try:
                await application.bot.initialize()
            except InvalidToken:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN: Telegram rejected the token (revoked, or mistyped?); "
                    "get the current one from @BotFather"
                ) from None
            await super().serve(sockets)

        def handle_exit(self, sig: int, frame: Any) -> None:
            # Refuse new updates from the first signal on, while uvicorn closes its sockets.
            server.draining = True
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        log_config=None,  # keep the CLI's logging (and its personal-data masking)
        access_log=False,
        timeout_graceful_shutdown=int(DRAIN_TIMEOUT),
        lifespan="on",
    )
    DrainingServer(config).run(sockets=[sock])


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn, with TCP_NODELAY for its connections.

    asyncio sets TCP_NODELAY on accepted connections only when the listening socket says
    proto=IPPROTO_TCP (a plain socket.socket() says 0); without it a response written in two
    parts (headers, body) waits for the client's delayed ACK, ~40 ms per request on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
