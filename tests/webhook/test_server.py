"""Webhook mode end to end: `create_server_app` on uvicorn, the emulator pushing updates to it."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select
from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.app import build_application, build_runtime
from bot.core.config import load_settings
from bot.core.db import Database
from bot.core.metrics import METRICS
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.surveys.answering import record_answer
from bot.surveys.models import SurveyResponse
from bot.telegram_rules.html import parse_html, strip_text
from bot.webhook import server as server_module
from bot.webhook.chat_locks import ChatLocks
from bot.webhook.journal import CURRENT_JOURNAL, ReplyJournal
from bot.webhook.server import SECRET_HEADER, WEBHOOK_PATH, create_server_app, listening_socket
from bot.webhook.store import LEASE, ProcessedUpdate, finish_updates, retake_orphans, take_update
from tests.support.e2e import REPO, TOKEN, BotHarness

SECRET = "s3cret_Token-for-tests"


class QuietServer(uvicorn.Server):
    """uvicorn inside the test's loop; signals stay with pytest."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class Instance:
    """One `servicebot serve` process, in-loop: runtime, Application, ASGI app on a port."""

    def __init__(self, harness: BotHarness, database_url: str, **settings: Any) -> None:
        self.sock = listening_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.rt = build_runtime(
            load_settings(
                database_url=database_url,
                telegram_bot_token=TOKEN,
                telegram_api_base_url=harness.server.api_url,
                knowledge_dir=REPO / "knowledge",
                webhook_url=settings.pop("webhook_url", self.url),
                webhook_secret=SECRET,
                **settings,
            )
        )
        self.app = create_server_app(self.rt, build_application(self.rt))
        self.server = QuietServer(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        )
        self.task: asyncio.Task | None = None

    @property
    def webhook(self) -> str:
        return self.url + WEBHOOK_PATH

    async def start(self) -> Instance:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.server.should_exit = True
            await self.task
        self.task = None


@pytest.fixture
async def emulated():
    harness = BotHarness("sqlite://")  # only its emulator, users and diagnostics are used
    await harness.server.start()
    logging.getLogger().addHandler(harness._errors)
    instances: list[Instance] = []

    async def start(database_url: str, **settings: Any) -> Instance:
        instance = Instance(harness, database_url, **settings)
        instances.append(instance)
        return await instance.start()

    harness.start_instance = start
    yield harness
    for instance in instances:
        await instance.stop()
    await harness.server.stop()
    logging.getLogger().removeHandler(harness._errors)
    assert harness.bot_errors == [], "the bot logged errors"


async def post(url: str, body: bytes | str | dict, secret: str | None = SECRET,
               **headers: str) -> httpx.Response:
    if isinstance(body, dict):
        body = json.dumps(body)
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.post(url, content=body, headers=headers)


async def as_telegram(harness: BotHarness, response: httpx.Response) -> None:
    """Do what Telegram does with a webhook answer: run the method it names, if any."""
    await harness.emulator.webhook_answer(response.content, response.headers["content-type"])


async def test_the_webhook_is_set_with_the_secret_and_answers_citizens(emulated, database_url):
    instance = await emulated.start_instance(database_url)
    assert emulated.emulator.webhook["url"] == instance.webhook
    assert emulated.emulator.webhook["secret_token"] == SECRET
    citizen = emulated.user(2001)
    await citizen.send("/start")
    greeting = await citizen.reply()
    assert "MPP" in greeting.text or greeting.buttons
    assert emulated.emulator.webhook.get("last_error_message") is None


async def test_a_reply_goes_back_in_the_webhook_answer(emulated, database_url):
    """The update's last message travels in the answer to Telegram's request (Telegram runs it
    and takes the update as delivered in one step), not as a call of its own."""
    instance = await emulated.start_instance(database_url)
    citizen = emulated.user(2018, language_code="en")
    emulated.emulator.webhook = {}  # this test plays Telegram by hand
    await citizen.send("how much does an e-KTP cost")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    given = METRICS.webhook_answers.value
    answered = await post(instance.webhook, update)
    assert answered.status_code == 200
    body = answered.json()
    assert (body["method"], body["chat_id"], body["parse_mode"]) == (
        "sendMessage", citizen.id, "HTML"
    )
    await citizen.expect_silence(0.2)  # nothing sent as a call
    await as_telegram(emulated, answered)
    reply = await citizen.reply()
    assert reply.text == strip_text(*parse_html(body["text"]))[0]
    assert METRICS.webhook_answers.value == given + 1


async def test_a_handler_sending_two_messages_keeps_their_order(emulated, sqlite_db):
    """The first goes as a call when the second comes; the second goes in the answer."""
    instance = await emulated.start_instance(sqlite_db.url)

    async def twice(update: Update, context: Any) -> None:
        await update.effective_message.reply_text("first")
        await update.effective_message.reply_text("second")
        raise ApplicationHandlerStop

    instance.app.state.server.application.add_handler(
        MessageHandler(filters.Regex("^twice$"), twice), group=-1000
    )
    citizen = emulated.user(2019)
    emulated.emulator.webhook = {}
    await citizen.send("twice")
    answered = await post(instance.webhook, emulated.emulator.updates[-1])
    assert [m.text for m in await citizen.replies(1)] == ["first"]
    assert answered.json()["text"] == "second"
    await as_telegram(emulated, answered)
    assert [m.text for m in citizen.messages()] == ["first", "second"]


async def test_a_slow_handler_gets_an_empty_answer_and_sends_its_reply(
    emulated, sqlite_db, monkeypatch
):
    """Telegram is never kept waiting: past ANSWER_TIMEOUT the webhook answers empty and the
    reply goes as a call when it is ready."""
    instance = await emulated.start_instance(sqlite_db.url)
    monkeypatch.setattr(server_module, "ANSWER_TIMEOUT", 0.2)

    async def slow(update: Update, context: Any) -> None:
        await asyncio.sleep(0.5)
        await update.effective_message.reply_text("at last")
        raise ApplicationHandlerStop

    instance.app.state.server.application.add_handler(
        MessageHandler(filters.Regex("^slow$"), slow), group=-1000
    )
    citizen = emulated.user(2020)
    emulated.emulator.webhook = {}
    await citizen.send("slow")
    answered = await post(instance.webhook, emulated.emulator.updates[-1])
    assert answered.json() == {"ok": True}
    assert [m.text for m in await citizen.replies(1)] == ["at last"]
    await citizen.expect_silence(0.2)


async def test_bad_requests_are_refused_and_nothing_is_handled(emulated, sqlite_db):
    instance = await emulated.start_instance(sqlite_db.url)
    handled = METRICS.updates_handled.value
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                                          "chat": {"id": 5, "type": "private"}}}
    assert (await post(instance.webhook, update, secret=None)).status_code == 401
    assert (await post(instance.webhook, update, secret="wrong")).status_code == 401
    assert (await post(instance.webhook, update, secret=SECRET + "x")).status_code == 401
    assert (await post(instance.webhook, "{not json")).status_code == 400
    assert (await post(instance.webhook, b"\xff\xfe")).status_code == 400
    assert (await post(instance.webhook, "[1, 2]")).status_code == 400
    assert (await post(instance.webhook, {"update_id": "7"})).status_code == 400
    huge = b'{"update_id": 2, "x": "' + b"a" * 2_000_000 + b'"}'
    assert (await post(instance.webhook, huge)).status_code == 413

    async def chunks():
        for _ in range(40):
            yield b"a" * 50_000

    async with httpx.AsyncClient(timeout=5) as client:
        streamed = await client.post(
            instance.webhook, content=chunks(), headers={SECRET_HEADER: SECRET}
        )
    assert streamed.status_code == 413
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(instance.webhook)).status_code == 405
    await asyncio.sleep(0.1)
    assert METRICS.updates_handled.value == handled
    with sqlite_db.session() as s:
        assert s.exec(select(ProcessedUpdate)).all() == []
    # Still serving after all that.
    citizen = emulated.user(2002)
    await citizen.send("/help")
    await citizen.reply()


async def test_a_redelivered_update_is_answered_once(emulated, database_url):
    instance = await emulated.start_instance(database_url)
    citizen = emulated.user(2003)
    await citizen.send("/start")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    await citizen.reply()
    duplicates = METRICS.updates_duplicate.value
    for _ in range(3):
        assert (await post(instance.webhook, update)).status_code == 200
    await citizen.expect_silence(0.5)
    assert METRICS.updates_duplicate.value == duplicates + 3


@pytest.mark.postgres
async def test_two_instances_fed_the_same_update_reply_once(emulated, postgres_url):
    from tests.conftest import _fresh_postgres

    _fresh_postgres(postgres_url).dispose()
    first = await emulated.start_instance(postgres_url)
    second = await emulated.start_instance(postgres_url, webhook_url=first.url)
    citizen = emulated.user(2004)
    await citizen.send("/help")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    # The emulator delivers to the first; the same update also reaches both directly.
    answers = await asyncio.gather(
        post(first.webhook, update), post(second.webhook, update), post(second.webhook, update)
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    await citizen.reply()
    await citizen.expect_silence(0.5)


@pytest.mark.postgres
async def test_metrics_count_live_instances_and_unfinished_updates(emulated, postgres_url):
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    first = await emulated.start_instance(db.url)
    await emulated.start_instance(db.url)
    # In hand (as far as the database knows) of the first instance, so nobody takes it over.
    key = first.app.state.server.liveness.key
    assert take_update(db, 99, {"update_id": 99}, taken_by=key) == "ok"
    async with httpx.AsyncClient(base_url=first.url, timeout=5) as client:
        lines = (await client.get("/metrics")).text.splitlines()
    db.dispose()
    assert "servicebot_instances_live 2.0" in lines
    assert "servicebot_updates_unfinished 1.0" in lines


async def test_healthz_and_metrics(emulated, sqlite_db):
    instance = await emulated.start_instance(sqlite_db.url)
    citizen = emulated.user(2005)
    await citizen.send("/start")
    await citizen.reply()
    async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"database": "ok", "knowledge": "ok", "webhook": "ok"}
        metrics = await client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    # Read back with Prometheus' own parser: the exposition is well-formed.
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
    }
    assert samples[("servicebot_updates_handled_total", ())] >= 1
    assert ("servicebot_messages_sent_total", ()) in samples
    assert samples[("servicebot_outbox_pending", ())] == 0
    assert samples[("servicebot_outbox_oldest_pending_seconds", ())] == 0
    assert samples[("servicebot_update_handling_seconds_bucket", (("le", "+Inf"),))] >= 1
    # The /start was answered: its update-to-reply time is in the histogram.
    assert samples[("servicebot_update_reply_seconds_count", ())] >= 1
    for name in ("servicebot_telegram_403_total", "servicebot_updates_lost_total",
                 "servicebot_updates_recovered_total", "servicebot_outbox_delay_seconds_count"):
        assert (name, ()) in samples
    # While draining for shutdown: unhealthy for the load balancer, updates refused with 503.
    instance.app.state.server.draining = True
    async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.json()["webhook"]) == (503, "draining")
    assert (await post(instance.webhook, {"update_id": 5})).status_code == 503


async def test_shutdown_finishes_the_updates_in_hand(emulated, sqlite_db):
    instance = await emulated.start_instance(sqlite_db.url)
    citizen = emulated.user(2006)
    await citizen.send("/start")
    await citizen.reply()
    server = instance.app.state.server
    emulated.emulator.webhook = {}  # stop the emulator's pushes; this test posts by hand
    update = {"update_id": 990_001, "message": {
        "message_id": 99, "date": 0, "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        "from": emulated.emulator.users[2006], "chat": emulated.emulator.chats[2006]}}
    # Holding the chat's lock keeps the update in hand while the instance is told to stop.
    async with server.locks.hold(2006):
        posted = asyncio.create_task(post(instance.webhook, update))
        await asyncio.sleep(0.2)
        stopping = asyncio.create_task(instance.stop())
        await asyncio.sleep(0.3)
        assert not stopping.done()
        assert len(server.tasks) == 1
    await stopping
    answered = await posted
    assert answered.status_code == 200
    # The reply is in the webhook's answer, which Telegram runs.
    assert answered.json()["method"] == "sendMessage"
    await as_telegram(emulated, answered)
    help_reply = await citizen.reply(timeout=1)
    assert "/start" in help_reply.text
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(instance.url + "/healthz")


async def test_healthz_is_503_without_database_or_knowledge(emulated, sqlite_db):
    instance = await emulated.start_instance(sqlite_db.url)
    server = instance.app.state.server
    working = server.rt
    server.rt = Runtime(settings=working.settings, db=Database(
        "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    ))
    try:
        async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
            health = await client.get("/healthz")
    finally:
        server.rt.db.dispose()
        server.rt = working
    assert health.status_code == 503
    assert health.json()["database"].startswith("unreachable")
    assert health.json()["knowledge"] == "not loaded"


async def test_an_update_orphaned_by_a_dead_instance_is_answered_by_another(emulated, db):
    instance = await emulated.start_instance(db.url)
    citizen = emulated.user(2007)
    await citizen.send("/start")
    await citizen.reply()
    emulated.emulator.webhook = {}  # the update below reached an instance that then died
    await citizen.send("/help")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    handled = METRICS.updates_handled.value
    long_ago = utcnow() - LEASE - timedelta(seconds=1)
    assert take_update(db, update["update_id"], update, now=long_ago) == "ok"
    await citizen.expect_silence(0.3)
    # Telegram sends it again (the dead instance never answered): taken over at once, and its
    # reply goes in the answer.
    retried = await post(instance.webhook, update)
    assert retried.status_code == 200
    assert retried.json()["method"] == "sendMessage"
    await as_telegram(emulated, retried)
    assert "/start" in (await citizen.reply()).text
    assert instance.app.state.server.recover_once() == 0
    # Sent once more (that answer was lost too): the same answer, not handled again.
    again = await post(instance.webhook, update)
    assert again.json() == retried.json()
    await citizen.expect_silence(0.3)
    assert METRICS.updates_handled.value == handled + 1


async def test_an_orphaned_update_is_taken_over_without_a_redelivery(emulated, db):
    instance = await emulated.start_instance(db.url)
    citizen = emulated.user(2017)
    emulated.emulator.webhook = {}  # the update below reached an instance that then died
    await citizen.send("/help")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    long_ago = utcnow() - LEASE - timedelta(seconds=1)
    assert take_update(db, update["update_id"], update, now=long_ago) == "ok"
    assert instance.app.state.server.recover_once() == 1
    assert "/start" in (await citizen.reply()).text  # no webhook request: sent as a call
    assert instance.app.state.server.recover_once() == 0
    await citizen.expect_silence(0.3)


async def _taken_and_killed(instance: Instance, db: Database, update: dict, steps) -> None:  # noqa: ANN001
    """Leave ``update`` as an instance killed in the middle of it would: taken a lease ago, not
    finished, and whatever ``steps`` (a coroutine function of the Application) sent on the way
    recorded in its reply journal, as the server does while it handles an update."""
    server = instance.app.state.server
    long_ago = utcnow() - LEASE - timedelta(seconds=1)
    assert take_update(db, update["update_id"], update, now=long_ago) == "ok"

    async def first_run() -> None:  # a task of its own, as WebhookServer._handle
        CURRENT_JOURNAL.set(ReplyJournal(db, update["update_id"]))
        server.taken[update["update_id"]] = "ok"  # what the webhook does before handling
        try:
            await steps(server.application)
        finally:
            server.taken.pop(update["update_id"], None)

    await asyncio.create_task(first_run())


async def test_a_taken_over_update_does_not_send_again_what_it_had_sent(emulated, db):
    instance = await emulated.start_instance(db.url)
    citizen = emulated.user(2014, language_code="en")
    emulated.emulator.webhook = {}  # this test delivers by hand
    await citizen.send("how much does an e-KTP cost")
    update = copy.deepcopy(emulated.emulator.updates[-1])

    async def answered(app: Any) -> None:  # the whole handling; killed before "finished"
        await app.process_update(Update.de_json(copy.deepcopy(update), app.bot))

    await _taken_and_killed(instance, db, update, answered)
    answer = await citizen.reply()
    assert instance.app.state.server.recover_once() == 1
    await citizen.expect_silence(0.5)
    assert [m.text for m in citizen.messages()] == [answer.text]
    await emulated.emulator.wait_for(lambda: _finished(db, update["update_id"]), 5)
    with db.session() as s:
        row = s.get(ProcessedUpdate, update["update_id"])
        assert (row.payload, row.replies) == (None, None)


@pytest.mark.parametrize("journaled", [True, False], ids=["journaled", "killed-before-journal"])
async def test_a_survey_press_taken_over_is_answered_once_and_moves_on(
    emulated, sqlite_db, journaled
):
    """The press was recorded and its callback answered, then the instance died before showing
    the next question. The instance that takes it over shows it, without answering the press
    again (Telegram refuses a second answer, and a late one: "query is too old")."""
    from handlers.surveys.questionnaire import surveys_config

    db = sqlite_db
    instance = await emulated.start_instance(db.url)
    rt = instance.rt
    citizen = emulated.user(2015, language_code="en")
    await citizen.send("/survey")
    menu = await citizen.reply()
    await citizen.click(menu.labels[0])
    question = await citizen.reply()
    assert "Question 1/9" in question.text
    emulated.emulator.webhook = {}  # from here this test delivers by hand
    await citizen.click(question.labels[0])
    update = copy.deepcopy(emulated.emulator.updates[-1])
    query = update["callback_query"]
    _, _, invitation_id, code, value = query["data"].split(":")

    async def answered_then_killed(app: Any) -> None:
        with db.session() as s:
            recorded = record_answer(
                s, surveys_config(rt), invitation_id=int(invitation_id),
                user_id=citizen.id, code=code, value=int(value), now=utcnow(),
            )
            assert recorded.recorded
        if journaled:
            await app.bot.answer_callback_query(query["id"])
        else:  # killed between Telegram's answer and the journal's write
            token = CURRENT_JOURNAL.set(None)
            await app.bot.answer_callback_query(query["id"])
            CURRENT_JOURNAL.reset(token)

    await _taken_and_killed(instance, db, update, answered_then_killed)
    assert await citizen.callback_answer() is not None
    assert instance.app.state.server.recover_once() == 1
    shown = await citizen.reply()  # the pressed message, edited to the next question
    assert "Question 2/9" in shown.text
    assert shown.message_id == question.message_id
    await emulated.emulator.wait_for(lambda: _finished(db, update["update_id"]), 5)
    with db.session() as s:
        response = s.exec(select(SurveyResponse)).one()
    assert getattr(response, code.lower()) == int(value)
    assert response.u2 is None  # the next question, shown, not yet answered


@pytest.mark.postgres
async def test_an_update_finished_by_its_instance_before_the_takeover_is_not_redone(
    emulated, postgres_url
):
    """Its instance only seemed dead (it had lost its liveness connection) and finished the
    update while another was taking it over: the chat lock orders them, and the one taking over
    finds it finished and leaves it."""
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    instance = await emulated.start_instance(db.url)
    server = instance.app.state.server
    citizen = emulated.user(2016)
    emulated.emulator.webhook = {}  # this test delivers by hand
    await citizen.send("/help")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    assert take_update(db, update["update_id"], update, now=utcnow() - 2 * LEASE) == "ok"
    (orphan,) = retake_orphans(db, taken_by=server.liveness.key)
    finish_updates(db, [update["update_id"]])
    server._spawn(
        Update.de_json(orphan.payload, server.application.bot), "ok", orphan.replies,
    )
    await asyncio.gather(*server.tasks)
    await citizen.expect_silence(0.3)
    db.dispose()


def _finished(db: Database, update_id: int) -> bool:
    with db.session() as s:
        row = s.get(ProcessedUpdate, update_id)
        return row is not None and row.finished_at is not None


async def test_flood_control_in_webhook_mode(emulated, sqlite_db):
    await emulated.start_instance(sqlite_db.url, flood_max_per_minute=2)
    citizen = emulated.user(2008)
    for _ in range(2):
        await citizen.send("/help")
        await citizen.reply()
    await citizen.send("/help")
    assert "tunggu satu menit" in (await citizen.reply()).text
    await citizen.send("/help")
    await citizen.expect_silence(0.4)


@pytest.mark.postgres
async def test_a_chat_busy_on_one_instance_waits_on_another(emulated, postgres_url):
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    await emulated.start_instance(postgres_url)
    citizen = emulated.user(2009)
    elsewhere = ChatLocks(db)  # another instance, in the middle of this chat's last update
    try:
        async with elsewhere.hold(2009):
            await citizen.send("/help")
            await citizen.expect_silence(0.5)
            other = emulated.user(2010)  # other chats are not held up
            await other.send("/help")
            await other.reply()
        assert "/start" in (await citizen.reply()).text
    finally:
        db.dispose()


async def test_the_back_office_api_is_served_beside_the_webhook(emulated, sqlite_db):
    token = "t" * 32
    instance = await emulated.start_instance(sqlite_db.url, api_tokens=[token])
    async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
        refused = await client.get("/api/v1/applications/AB12CD34")
        assert refused.status_code == 401
        missing = await client.get(
            "/api/v1/applications/AB12CD34", headers={"Authorization": f"Bearer {token}"}
        )
        assert missing.status_code == 404
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_the_api_is_served_without_api_tokens_and_takes_a_token_made_later(
    emulated, sqlite_db
):
    from bot.api_tokens.service import create_token

    instance = await emulated.start_instance(sqlite_db.url)
    async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
        refused = await client.get("/api/v1/applications/AB12CD34",
                                   headers={"Authorization": "Bearer " + "t" * 32})
        assert refused.status_code == 401
        with sqlite_db.session() as s:  # an admin makes a token while the bot runs
            _, secret = create_token(s, name="simpel", actor_id=None)
        found = await client.get("/api/v1/applications/AB12CD34",
                                 headers={"Authorization": f"Bearer {secret}"})
        assert found.status_code == 404 and found.json()["error"]["code"] == "not_found"
        nothing = await client.get("/api/v1/nothing-here")
        assert nothing.status_code == 404 and nothing.json()["error"]["code"] == "not_found"


async def test_an_update_is_refused_with_503_while_the_database_is_away(emulated, sqlite_db):
    instance = await emulated.start_instance(sqlite_db.url)
    server = instance.app.state.server
    working = server.rt
    server.rt = Runtime(settings=working.settings, db=Database(
        "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    ))
    citizen = emulated.user(2011)
    emulated.emulator.webhook = {}  # this test delivers by hand
    await citizen.send("/help")
    update = copy.deepcopy(emulated.emulator.updates[-1])
    try:
        answer = await post(instance.webhook, update)
    finally:
        server.rt.db.dispose()
        server.rt = working
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "5")
    # Telegram's retry, once the database is back, is taken and handled.
    retried = await post(instance.webhook, update)
    assert retried.status_code == 200
    await as_telegram(emulated, retried)
    assert "/start" in (await citizen.reply()).text



@pytest.mark.postgres
async def test_releasing_a_chat_marks_its_handled_update_finished(postgres_url):
    """In the unlock's own statement: a process killed right after answering leaves nothing
    to retake. An update whose handling was cancelled (shutdown) stays open for a retake."""
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    try:
        for update_id in (1, 2):
            assert take_update(db, update_id, {"update_id": update_id}) == "ok"
        locks, elsewhere = ChatLocks(db), ChatLocks(db)
        async with locks.hold(2012, 1) as holding:
            holding.finished = True
        assert holding.recorded
        with pytest.raises(asyncio.CancelledError):
            async with locks.hold(2012, 2) as holding:
                raise asyncio.CancelledError
        assert not holding.recorded
        async with elsewhere.hold(2012):  # released both times
            pass
        with db.session() as s:
            rows = {r.update_id: r for r in s.exec(select(ProcessedUpdate)).all()}
        assert rows[1].finished_at is not None and rows[1].payload is None
        assert rows[2].finished_at is None and rows[2].payload == {"update_id": 2}
    finally:
        db.dispose()
