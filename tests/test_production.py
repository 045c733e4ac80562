"""Production plumbing without Telegram: handled-update record, flood counts, personal data,
log masking, schema guard, metrics text, settings of webhook mode."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

import bot.application_privacy  # noqa: F401 - its registrations are under test
import bot.complaint_privacy  # noqa: F401 - its registrations are under test
import bot.survey_privacy  # noqa: F401 - its registrations are under test
from bot.applications import Application, ApplicationFollower, LookupFailure
from bot.complaint_models import Complaint, ComplaintMessage
from bot.config import ConfigError, load_settings
from bot.conversations import set_state
from bot.db import Database
from bot.logging import PersonalDataFilter, mask_personal
from bot.metrics import Metrics, record_api_call
from bot.models import AuditEntry, ConversationState, OutboxMessage, Staff, User, utcnow
from bot.outbox import enqueue
from bot.personal_data import (
    apply_retention,
    audit_csv,
    erase_personal_data,
    export_personal_data,
    mask_nik,
    mask_phone,
)
from bot.replies import (
    ReplyJournal,
    WebhookAnswer,
    changes_something,
    fits_webhook_answer,
    read_replies,
    webhook_answer_for,
    write_answer,
    write_replies,
)
from bot.roles import audit
from bot.scaleout import (
    LEASE,
    FloodCount,
    Orphan,
    ProcessedUpdate,
    admit_update,
    claim_update,
    finish_updates,
    flood_verdict,
    prune_flood_counts,
    prune_processed,
    retake_orphans,
    take_update,
)
from bot.schema import SchemaTooNew, check_schema_not_newer
from bot.surveys import SurveyInvitation, SurveyResponse
from bot.users import user_language

NOON = datetime(2026, 3, 2, 5, 0, 30, tzinfo=UTC)


# --- handled updates ------------------------------------------------------------------------


def test_an_update_is_claimed_once(db):
    assert claim_update(db, 500) is True
    assert claim_update(db, 500) is False
    assert claim_update(db, 501) is True


@pytest.mark.postgres
def test_concurrent_claims_of_one_update_give_one_winner(postgres_url):
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(claim_update(db, 777))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.dispose()
    assert sorted(results) == [False] * 7 + [True]


def test_old_handled_ids_are_pruned(db):
    claim_update(db, 1, now=NOON - timedelta(hours=49))
    claim_update(db, 2, now=NOON - timedelta(hours=47))
    with db.session() as s:
        assert prune_processed(s, now=NOON) == 1
    with db.session() as s:
        assert [r.update_id for r in s.exec(select(ProcessedUpdate)).all()] == [2]


# --- flood control --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["session", "count only", "claim and count"])
def test_flood_control_notifies_once_then_stays_silent_until_calm(db, path):
    """The same rule through each way in: the session helper, and admit_update counting an
    update already taken or claiming and counting it at once (one statement on PostgreSQL)."""
    update_ids = iter(range(1000, 2000))

    def verdict(now: datetime) -> str:
        if path == "session":
            with db.session() as s:
                return flood_verdict(s, user_id=9, limit=3, now=now)
        update_id = next(update_ids) if path == "claim and count" else None
        return admit_update(db, update_id, user_id=9, flood_limit=3, now=now)

    def verdicts(now: datetime, n: int) -> list[str]:
        return [verdict(now) for _ in range(n)]

    assert verdicts(NOON, 6) == ["ok", "ok", "ok", "notify", "silent", "silent"]
    # Still flooding in the next minute: no second notice.
    assert verdicts(NOON + timedelta(minutes=1), 5) == ["ok", "ok", "ok", "silent", "silent"]
    # A calm minute (three messages), then flooding again: one notice again.
    assert verdicts(NOON + timedelta(minutes=2), 3) == ["ok"] * 3
    assert verdicts(NOON + timedelta(minutes=3), 5) == ["ok", "ok", "ok", "notify", "silent"]
    # Another user is counted apart.
    with db.session() as s:
        assert flood_verdict(s, user_id=10, limit=3, now=NOON + timedelta(minutes=3)) == "ok"
        assert prune_flood_counts(s, now=NOON + timedelta(minutes=3)) == 2
        assert {r.minute for r in s.exec(select(FloodCount)).all()} == {
            int((NOON + timedelta(minutes=m)).timestamp() // 60) for m in (2, 3)
        }


def test_flood_limit_zero_turns_it_off(db):
    with db.session() as s:
        assert {flood_verdict(s, user_id=9, limit=0, now=NOON) for _ in range(50)} == {"ok"}
    assert {admit_update(db, n, user_id=9, flood_limit=0, now=NOON) for n in range(50)} == {"ok"}
    assert admit_update(db, None, user_id=9, flood_limit=0, now=NOON) == "ok"
    with db.session() as s:
        assert s.exec(select(FloodCount)).all() == []
        assert len(s.exec(select(ProcessedUpdate)).all()) == 50


def test_a_duplicate_update_is_not_counted_for_flood_control(db):
    assert admit_update(db, 5, user_id=9, flood_limit=1, now=NOON) == "ok"
    for _ in range(3):
        assert admit_update(db, 5, user_id=9, flood_limit=1, now=NOON) == "duplicate"
    # The redeliveries did not count: the user's second real update is the first over.
    assert admit_update(db, 6, user_id=9, flood_limit=1, now=NOON) == "notify"
    assert admit_update(db, 7, user_id=None, flood_limit=1, now=NOON) == "ok"


# --- personal data ------------------------------------------------------------------------


def _citizen_with_data(db, telegram_id: int = 42) -> None:  # noqa: ANN001
    assert user_language(db, telegram_id=telegram_id, language_code="en") == "en"
    with db.session() as s:
        set_state(s, chat_id=telegram_id, user_id=telegram_id, flow="demo", step="name",
                  data={"name": "Sari"})
        enqueue(s, chat_id=telegram_id, text="Your KTP is ready")
        enqueue(s, chat_id=43, text="someone else's")
        audit(s, actor_id=7, action="application.updated", subject="AB12")
    # The last message of a recent update, kept for a redelivery (bot/replies.py); one to a
    # supergroup, whose id does not fit 32 bits.
    for update_id, chat_id in ((telegram_id * 1000, telegram_id), (telegram_id * 1000 + 1, 43),
                               (telegram_id * 1000 + 2, -1001234567890)):
        take_update(db, update_id, {"update_id": update_id})
        write_answer(db, update_id, {}, {"method": "sendMessage", "chat_id": chat_id,
                                         "text": f"Halo {chat_id}"})


def test_export_holds_everything_about_the_person_and_nothing_else(db):
    _citizen_with_data(db)
    with db.session() as s:
        doc = export_personal_data(s, 42, now=NOON)
    assert doc["telegram_id"] == 42
    assert doc["exported_at"] == NOON.isoformat()
    assert doc["profile"]["profile"]["language"] == "en"
    assert doc["profile"]["staff_role"] is None
    assert doc["conversations"]["items"][0]["data"] == {"name": "Sari"}
    assert [m["text"] for m in doc["messages"]["items"]] == ["Your KTP is ready"]
    assert doc["staff_actions"]["items"] == []
    assert doc["recent_answers"]["items"] == [{"text": "Halo 42"}]


def test_erasure_removes_the_person_keeps_others_and_staff_records(db):
    _citizen_with_data(db)
    _citizen_with_data(db, telegram_id=7)
    with db.session() as s:
        s.add(Staff(telegram_id=7, role="officer"))
        audit(s, actor_id=42, action="complaint.filed", subject="ADU00001")
    with db.session() as s:
        citizen_report = erase_personal_data(s, 42)
        officer_report = erase_personal_data(s, 7)
    assert citizen_report[0] == "Your profile (language, first contact) was deleted."
    assert any("staff role is kept" in line for line in officer_report)
    assert any("actions you took as office staff is kept" in line for line in officer_report)
    with db.session() as s:
        assert s.get(User, 42) is None
        assert s.get(Staff, 7) is not None
        assert s.exec(select(ConversationState)).all() == []
        assert [m.chat_id for m in s.exec(select(OutboxMessage)).all()] == [43, 43]
        entries = s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        # The officer's actions stay theirs; the citizen's own step stays, without them.
        assert [(a.actor_id, a.action) for a in entries] == [
            (7, "application.updated"), (7, "application.updated"), (None, "complaint.filed")
        ]
        assert export_personal_data(s, 42)["profile"]["profile"] is None
        assert export_personal_data(s, 42)["recent_answers"]["items"] == []
        assert export_personal_data(s, 43)["recent_answers"]["items"] == [
            {"text": "Halo 43"}, {"text": "Halo 43"}
        ]
        big = 7_123_456_789  # new Telegram users' ids pass 2**31
        assert export_personal_data(s, big)["recent_answers"]["items"] == []


def test_masks_for_officers():
    assert mask_nik("3171 0123 4567 8901") == "3171********8901"
    assert mask_nik("12345") == "*****"
    assert mask_phone("0812-3456-7890") == "0812*****890"
    assert mask_phone("+6281234567890") == "+628*******890"


def test_retention_with_zero_days_keeps_everything(db):
    with db.session() as s:
        assert apply_retention(s, {"applications": 0, "complaints": 0, "surveys": 0}) == {}


def test_audit_csv_lists_every_action_since(db):
    with db.session() as s:
        s.add(AuditEntry(actor_id=1, action="old", at=NOON - timedelta(days=40)))
        audit(s, actor_id=2, action="officer.added", subject="user:5", role="officer")
    with db.session() as s:
        rows = list(csv.reader(io.StringIO(audit_csv(s, since=NOON - timedelta(days=30)))))
        every = list(csv.reader(io.StringIO(audit_csv(s))))
    assert rows[0] == ["id", "at", "actor_id", "action", "subject", "detail"]
    assert [r[2:] for r in rows[1:]] == [["2", "officer.added", "user:5", '{"role": "officer"}']]
    assert [r[3] for r in every[1:]] == ["old", "officer.added"]


# --- logs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("NIK 3171012345678901 ok", "NIK [NIK **01] ok"),
        ("call 0812-3456-7890 now", "call [phone **90] now"),
        ("wa +62 812 3456 7890", "wa [phone **90]"),
        ("6281234567890", "[phone **90]"),
        ("user 6281234567 update 123456789", "user 6281234567 update 123456789"),
        ("chat -1001234567890", "chat -1001234567890"),
        ("17 digits 12345678901234567", "17 digits 12345678901234567"),
    ],
)
def test_mask_personal(raw, masked):
    assert mask_personal(raw) == masked


def test_log_records_are_masked_with_args_and_tracebacks():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("citizen %s phone %s", "3171012345678901", "081234567890")
        try:
            raise ValueError("bad NIK 3171012345678901")
        except ValueError:
            logger.exception("failed for 08123456789")
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "3171012345678901" not in written
    assert "081234567890" not in written and "08123456789" not in written
    assert "citizen [NIK **01] phone [phone **90]" in written
    assert "ValueError: bad NIK [NIK **01]" in written


# --- schema guard -------------------------------------------------------------------------


def test_a_newer_schema_is_refused(sqlite_db, tmp_path):
    check_schema_not_newer(sqlite_db)  # at our own head: fine
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(SchemaTooNew, match="0099_from_the_future"):
        check_schema_not_newer(sqlite_db)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": sqlite_db.url},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "refusing to start" in proc.stderr and "0099_from_the_future" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"]])
def test_an_unreachable_database_is_told_in_two_lines(tmp_path, command):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "DATABASE_URL": "postgresql+psycopg://bot:s3cret@127.0.0.1:9/none?connect_timeout=2",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "WEBHOOK_URL": "https://bot.example.go.id",
            "WEBHOOK_SECRET": "a-long-enough-secret-token",
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 69, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("cannot connect to the database: ")
    assert "Connection refused" in lines[0]
    assert len(lines) == 2 and "DATABASE_URL" in lines[1]
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr


def _upgrade(tmp_path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": url},
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )


def test_a_sqlite_file_that_cannot_be_created_is_a_configuration_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for url in (f"sqlite:///{blocked}/sub/bot.db", "sqlite:////nonexistent/dir/x.db"):
        proc = _upgrade(tmp_path, url)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("configuration error: DATABASE_URL: the folder ")
        assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (blocked / "sub").exists() and not Path("/nonexistent").exists()


def test_only_the_default_data_folder_is_created(tmp_path):
    proc = _upgrade(tmp_path, "sqlite:///data/servicebot.db")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "servicebot.db").is_file()
    (tmp_path / "data-blocked").write_text("a file where the folder would go")
    proc = _upgrade(tmp_path, "sqlite:///data-blocked/x/servicebot.db")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


# --- metrics and settings -------------------------------------------------------------------


def test_metrics_text_format():
    metrics = Metrics()
    metrics.updates_handled.inc(3)
    metrics.observe_latency(0.04)
    metrics.observe_latency(0.4)
    record_api_call("sendMessage", 200, metrics)
    record_api_call("sendMessage", 429, metrics)
    record_api_call("getMe", 200, metrics)
    record_api_call("sendMessage", 400, metrics)
    lines = metrics.render([("servicebot_outbox_pending", "Rows waiting.", 4)]).splitlines()
    assert "servicebot_updates_handled_total 3" in lines
    assert "servicebot_messages_sent_total 1" in lines
    assert "servicebot_telegram_429_total 1" in lines
    assert "servicebot_telegram_failures_total 1" in lines
    assert 'servicebot_update_handling_seconds_bucket{le="0.05"} 1' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="0.5"} 2' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="+Inf"} 2' in lines
    assert "servicebot_update_handling_seconds_count 2" in lines
    assert "# TYPE servicebot_outbox_pending gauge" in lines
    assert "servicebot_outbox_pending 4" in lines


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünïcode"])
def test_bad_webhook_secret_names_the_variable(monkeypatch, secret):
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError, match="^WEBHOOK_SECRET:"):
        load_settings()


def test_serve_without_secret_explains_and_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "1:x",
             "WEBHOOK_URL": "https://bot.example.go.id"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "WEBHOOK_SECRET" in proc.stderr and "token_urlsafe" in proc.stderr
    assert "WEBHOOK_URL " not in proc.stderr.split("needs", 1)[1].splitlines()[0]


async def test_serve_with_a_rejected_token_says_so_in_one_line_and_exits_2(tmp_path):
    import asyncio
    import socket
    from pathlib import Path

    from bot.emulator.server import EmulatorServer

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with EmulatorServer() as emulator:  # knows only its own token
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve",
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root),
                 "TELEGRAM_BOT_TOKEN": "123:REVOKED", "TELEGRAM_API_BASE_URL": emulator.api_url,
                 "WEBHOOK_URL": "https://bot.example.go.id", "WEBHOOK_SECRET": "s3cret",
                 "WEBHOOK_PORT": str(port), "KNOWLEDGE_DIR": str(root / "knowledge"),
                 "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode == 2, stderr
    assert "configuration error: TELEGRAM_BOT_TOKEN: Telegram rejected the token" in stderr
    assert "Traceback" not in stderr and "REVOKED" not in stderr


def test_an_orphaned_webhook_update_is_retaken_once_after_the_lease(db):
    payload = {"update_id": 42, "message": {"text": "hi"}}
    assert take_update(db, 42, payload, user_id=7, flood_limit=1, now=NOON) == "ok"
    assert take_update(db, 42, payload, user_id=7, flood_limit=1, now=NOON) == "duplicate"
    assert take_update(db, 43, {"update_id": 43}, user_id=7, flood_limit=1, now=NOON) == "notify"
    finish_updates(db, [43], now=NOON + timedelta(seconds=1))
    # Within the lease the owner may still be working on it.
    assert retake_orphans(db, now=NOON + LEASE - timedelta(seconds=1)) == []
    later = NOON + LEASE + timedelta(seconds=1)
    assert retake_orphans(db, now=later) == [Orphan(payload, {})]
    # Retaking renewed the lease: nobody else takes it now.
    assert retake_orphans(db, now=later) == []
    finish_updates(db, [42], now=later)
    assert retake_orphans(db, now=later + 2 * LEASE) == []
    with db.session() as s:
        rows = s.exec(select(ProcessedUpdate).order_by(ProcessedUpdate.update_id)).all()
        assert [(r.update_id, r.payload, r.finished_at is not None) for r in rows] == [
            (42, None, True), (43, None, True)
        ]


def test_an_instance_does_not_take_over_the_updates_it_has_in_hand(db):
    """SQLite (one process): its own update waiting longer than the lease is not retaken."""
    assert take_update(db, 53, {"update_id": 53}, now=NOON) == "ok"
    later = NOON + 2 * LEASE
    assert retake_orphans(db, now=later, exclude=[53]) == []
    if not db.is_postgres:  # after a restart nothing is in hand: it is retaken
        assert retake_orphans(db, now=later) == [Orphan({"update_id": 53}, {})]


def test_an_orphan_comes_back_with_what_it_had_sent_and_finishing_drops_it(db):
    payload = {"update_id": 50, "callback_query": {"id": "q1"}}
    assert take_update(db, 50, payload, now=NOON) == "ok"
    sent = {
        "answerCallbackQuery#1": '{"ok":true,"result":true}',
        "editMessageText#1": '{"ok":true,"result":{"message_id":9,"text":"Tanya 2/9 \u2014 é"}}',
    }
    write_replies(db, 50, {"answerCallbackQuery#1": sent["answerCallbackQuery#1"]})
    write_replies(db, 50, sent)  # the whole record each time; the last one stands
    later = NOON + LEASE + timedelta(seconds=1)
    assert retake_orphans(db, now=later) == [Orphan(payload, sent)]
    finish_updates(db, [50], now=later)
    with db.session() as s:
        row = s.get(ProcessedUpdate, 50)
        assert (row.payload, row.replies) == (None, None)


def test_a_journal_answers_repeated_calls_by_method_and_order(db):
    assert take_update(db, 51, {"update_id": 51}, now=NOON) == "ok"
    first = ReplyJournal(db, 51)
    assert not first.retaken
    key, recorded = first.next_call("sendMessage")
    assert (key, recorded) == ("sendMessage#1", None)
    first.record(key, b'{"ok":true,"result":{"message_id":1}}')
    first.next_call("sendMessage")  # refused by Telegram (say, 403): nothing recorded
    key, _ = first.next_call("sendMessage")
    first.record(key, b'{"ok":true,"result":{"message_id":2}}')
    key, _ = first.next_call("answerCallbackQuery")
    first.record(key, b'{"ok":true,"result":true}')
    # Killed here. The retake takes another path: the callback answered first, then the
    # messages. The failed second message keeps its place: made again, not answered with the
    # third's response.
    retake = ReplyJournal(db, 51, retake_orphans(db, now=NOON + 2 * LEASE)[0].replies)
    assert retake.retaken
    assert retake.next_call("answerCallbackQuery")[1] == b'{"ok":true,"result":true}'
    assert retake.next_call("sendMessage")[1] == b'{"ok":true,"result":{"message_id":1}}'
    assert retake.next_call("sendMessage") == ("sendMessage#2", None)
    assert retake.next_call("sendMessage")[1] == b'{"ok":true,"result":{"message_id":2}}'
    assert retake.next_call("sendMessage") == ("sendMessage#4", None)
    # Only a retaken button press is excused for being too old, and only that failure.
    too_old = b'{"ok":false,"description":"Bad Request: query is too old and response timeout'
    assert retake.excuse("answerCallbackQuery", 400, too_old) == b'{"ok":true,"result":true}'
    assert retake.excuse("answerCallbackQuery", 400, b'{"description":"MESSAGE_TOO_LONG"}') is None
    assert retake.excuse("sendMessage", 400, too_old) is None
    assert first.excuse("answerCallbackQuery", 400, too_old) is None
    assert [changes_something(m) for m in ("getMe", "getFile", "sendMessage", "setMyCommands")] == [
        False, False, True, True
    ]


def test_a_journal_the_database_cannot_take_lets_the_handler_go_on(caplog):
    away = Database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    try:
        journal = ReplyJournal(away, 52)
        with caplog.at_level(logging.WARNING, logger="bot.replies"):
            journal.record("sendMessage#1", b'{"ok":true,"result":{"message_id":3}}')
    finally:
        away.dispose()
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":3}}'}
    assert "could not record its sendMessage#1" in caplog.text


async def test_the_last_message_goes_in_the_webhook_answer_written_down_first(db):
    assert take_update(db, 53, {"update_id": 53}, now=NOON) == "ok"
    answer = WebhookAnswer()
    journal = ReplyJournal(db, 53, answer=answer, chat_id=7)
    calls: list[str] = []

    def sender(name: str):  # noqa: ANN202
        async def send() -> tuple[int, bytes]:
            calls.append(name)
            return 200, b'{"ok":true,"result":{"message_id":8}}'
        return send

    first = {"chat_id": 7, "text": "<b>Satu</b> &amp; dua", "parse_mode": "HTML"}
    second = {"chat_id": 7, "text": "Tiga", "reply_markup": {"inline_keyboard": [
        [{"text": "Ya", "callback_data": "pd:erase"}]]}}
    key, _ = journal.next_call("sendMessage")
    assert journal.may_hold("sendMessage", first)
    # Only to the update's own chat: elsewhere Telegram may refuse (a chat never opened).
    assert not journal.may_hold("sendMessage", {**first, "chat_id": 8})
    assert journal.may_hold("sendMessage", {**first, "chat_id": "7"})
    assert not ReplyJournal(db, 53, answer=answer).may_hold("sendMessage", first)
    stand_in = json.loads(journal.hold(key, first, sender("first")))
    assert stand_in["result"]["message_id"] == 0
    assert stand_in["result"]["chat"] == {"id": 7, "type": "private"}
    # Another call comes: the held message goes first, as a call, and is journaled.
    key, _ = journal.next_call("sendMessage")
    await journal.release()
    assert calls == ["first"]
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":8}}'}
    journal.hold(key, second, sender("second"))
    assert not answer.ready.is_set()
    await journal.settle()
    assert calls == ["first"]  # the second went in the answer, not as a call
    assert answer.ready.is_set() and not answer.waiting
    assert answer.close() == {"method": "sendMessage", **second}
    # Written before it was given: a retake does not send it, a redelivery gets it again.
    assert "sendMessage#2" in journal.entries
    assert webhook_answer_for(db, 53) == ({"method": "sendMessage", **second}, False)
    finish_updates(db, [53])
    assert webhook_answer_for(db, 53) == ({"method": "sendMessage", **second}, True)
    assert webhook_answer_for(db, 54) == (None, True)


async def test_a_held_message_goes_as_a_call_once_the_webhook_stops_waiting(db):
    assert take_update(db, 55, {"update_id": 55}, now=NOON) == "ok"
    answer = WebhookAnswer()
    journal = ReplyJournal(db, 55, answer=answer, chat_id=7)
    sent: list[int] = []

    async def send() -> tuple[int, bytes]:
        sent.append(1)
        return 200, b'{"ok":true,"result":{"message_id":9}}'

    key, _ = journal.next_call("sendMessage")
    journal.hold(key, {"chat_id": 7, "text": "late"}, send)
    assert answer.close() is None  # ANSWER_TIMEOUT: the webhook answered empty
    assert not journal.may_hold("sendMessage", {"chat_id": 7, "text": "next"})
    await journal.settle()
    assert sent == [1]
    assert webhook_answer_for(db, 55) == (None, False)
    assert journal.entries == {"sendMessage#1": '{"ok":true,"result":{"message_id":9}}'}


async def test_a_held_message_refused_with_429_is_sent_after_the_wait(db, caplog):
    journal = ReplyJournal(db, 56, answer=None)
    answers = iter([
        (429, b'{"ok":false,"error_code":429,"parameters":{"retry_after":0}}'),
        (200, b'{"ok":true,"result":{"message_id":4}}'),
        (403, b'{"ok":false,"description":"Forbidden: bot was blocked by the user"}'),
    ])

    async def send() -> tuple[int, bytes]:
        return next(answers)

    journal.hold("sendMessage#1", {"chat_id": 7, "text": "a"}, send)
    await journal.release()
    assert journal.entries["sendMessage#1"] == '{"ok":true,"result":{"message_id":4}}'
    journal.hold("sendMessage#2", {"chat_id": 7, "text": "b"}, send)
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        await journal.release()
    assert "sendMessage#2" not in journal.entries
    assert "could not be sent (403)" in caplog.text


async def test_a_held_message_lost_to_the_network_does_not_fail_the_next_call(db, caplog):
    """The handler was told it was sent: the error is logged, not raised into its next call."""
    from telegram.error import NetworkError

    journal = ReplyJournal(db, 57, answer=None)

    async def send() -> tuple[int, bytes]:
        raise NetworkError("aiohttp.ClientOSError: connection reset")

    journal.hold("sendMessage#1", {"chat_id": 7, "text": "a"}, send)
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        await journal.release()
        await journal.settle()
    assert journal.held is None and journal.entries == {}
    assert "could not be sent: aiohttp.ClientOSError" in caplog.text


def test_a_journal_write_that_failed_is_not_taken_for_written(db, monkeypatch):
    from bot import replies

    assert take_update(db, 58, {"update_id": 58}, now=NOON) == "ok"
    journal = ReplyJournal(db, 58)

    def away(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("database away")

    monkeypatch.setattr(replies, "write_replies", away)
    journal.record("sendVenue#1", b'{"ok":true,"result":{"message_id":5}}')
    assert "sendVenue#1" in journal.entries and not journal.written("sendVenue#1")
    monkeypatch.undo()
    journal.record("sendVenue#1", b'{"ok":true,"result":{"message_id":5}}')
    assert journal.written("sendVenue#1")
    assert read_replies(retake_orphans(db, now=NOON + 2 * LEASE)[0].replies) == journal.entries


@pytest.mark.parametrize(
    "params",
    [
        {"chat_id": 7, "text": "plain <b> is fine without parse_mode"},
        {"chat_id": 7, "text": "<b>bold</b> <i>i</i> <a href=\"https://x.id\">a</a> &lt;&#128512;",
         "parse_mode": "HTML"},
        {"chat_id": "7", "text": "<code>a &amp; b</code>", "parse_mode": "HTML",
         "link_preview_options": {"is_disabled": True}},
    ],
)
def test_what_goes_in_a_webhook_answer_telegram_takes(params):
    from bot.emulator.core import Emulator

    assert fits_webhook_answer(params)

    async def sent() -> dict:
        emulator = Emulator()
        emulator.add_user(7, "Citizen")
        emulator.send_text(7, "/start")
        return await emulator.call("sendMessage", dict(params))

    assert asyncio.run(sent())["message_id"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"chat_id": 7, "text": "a < b", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<b>open", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<b><i>x</b></i>", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "<div>x</div>", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "a&nbsp;b", "parse_mode": "HTML"},
        {"chat_id": 7, "text": "x" * 4097},
        {"chat_id": 7, "text": "\U0001f600" * 2049},  # 4098 UTF-16 units
        {"chat_id": 7, "text": "   "},
        {"chat_id": 7, "text": "*x*", "parse_mode": "MarkdownV2"},
        {"chat_id": 7, "text": "x", "entities": [{"type": "bold", "offset": 0, "length": 1}]},
        {"chat_id": 7, "text": "x", "reply_parameters": {"message_id": 5}},
        {"chat_id": 7, "text": "x", "reply_markup": {"inline_keyboard": [
            [{"text": "y", "callback_data": "z" * 65}]]}},
    ],
)
def test_what_telegram_might_refuse_goes_as_a_call(params):
    """The answer's outcome is never known: only what Telegram surely takes goes in it."""
    assert not fits_webhook_answer(params)


def _application(s, number: str, *, closed_at=None) -> Application:  # noqa: ANN001
    row = Application(
        tracking_number=number, service_id="ktp-el", applicant_name="Sari Dewi",
        phone="081234567890", verification_code="123456", due_at=NOON, closed_at=closed_at,
        status="completed" if closed_at else "received",
    )
    s.add(row)
    s.flush()
    return row


def test_applications_followed_are_exported_and_unfollowed_on_erasure(db):
    user_language(db, telegram_id=42, language_code="id")
    with db.session() as s:
        mine = _application(s, "AB12CD34")
        s.add(ApplicationFollower(application_id=mine.id, user_id=42))
        s.add(ApplicationFollower(application_id=mine.id, user_id=43))
        s.add(LookupFailure(user_id=42))
    with db.session() as s:
        doc = export_personal_data(s, 42)
        assert [f["tracking_number"] for f in doc["applications"]["following"]] == ["AB12CD34"]
        assert "Sari Dewi" not in json.dumps(doc)
        assert len(doc["applications"]["wrong_code_attempts"]) == 1
        report = erase_personal_data(s, 42)
    assert any(line.startswith("You no longer follow any application") for line in report)
    with db.session() as s:
        assert [f.user_id for f in s.exec(select(ApplicationFollower)).all()] == [43]
        assert s.exec(select(LookupFailure)).all() == []
        assert s.exec(select(Application)).one().applicant_name == "Sari Dewi"


def test_retention_anonymises_applications_closed_long_ago(db):
    with db.session() as s:
        old = _application(s, "OLD00001", closed_at=NOON - timedelta(days=800))
        _application(s, "NEW00001", closed_at=NOON - timedelta(days=10))
        _application(s, "OPEN0001")
        s.add(ApplicationFollower(application_id=old.id, user_id=42))
    with db.session() as s:
        done = apply_retention(s, {"applications": 730, "complaints": 0, "surveys": 0}, now=NOON)
    assert done == {"applications": 1}
    with db.session() as s:
        rows = {a.tracking_number: (a.applicant_name, a.phone)
                for a in s.exec(select(Application)).all()}
        assert rows == {
            "OLD00001": ("-", None),
            "NEW00001": ("Sari Dewi", "081234567890"),
            "OPEN0001": ("Sari Dewi", "081234567890"),
        }
        assert s.exec(select(ApplicationFollower)).all() == []
        # Run again: nothing left to do.
        assert apply_retention(s, {"applications": 730}, now=NOON) == {"applications": 0}


def _invitation(s, key: str, user_id: int, *, answered: bool | None, created=NOON):  # noqa: ANN001
    invitation = SurveyInvitation(
        transaction_key=key, user_id=user_id, service_id="ktp-el", due_at=created,
        created_at=created, status="answered" if answered else "sent",
    )
    s.add(invitation)
    s.flush()
    if answered is not None:
        s.add(SurveyResponse(
            invitation_id=invitation.id, service_id="ktp-el", u1=4, u2=3, suggestion="Cepat",
            completed_at=created if answered else None,
        ))
    return invitation


def test_survey_answers_stay_in_the_index_unlinked_after_erasure(db):
    with db.session() as s:
        _invitation(s, "application:1", 42, answered=True)
        _invitation(s, "application:2", 42, answered=False)  # half-way
        _invitation(s, "application:3", 42, answered=None)  # not started
        _invitation(s, "application:4", 43, answered=True)
    with db.session() as s:
        doc = export_personal_data(s, 42)["surveys"]["items"]
        assert [item.get("answers") for item in doc] == [{"U1": 4, "U2": 3}] * 2 + [None]
        report = erase_personal_data(s, 42)
    assert any(line.startswith("Your survey answers stay in the satisfaction index")
               for line in report)
    with db.session() as s:
        invitations = s.exec(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()
        assert [(i.transaction_key, i.user_id) for i in invitations] == [
            ("application:1", 0), ("application:4", 43)
        ]
        responses = s.exec(select(SurveyResponse)).all()
        assert sorted(r.invitation_id for r in responses) == [i.id for i in invitations]
        assert export_personal_data(s, 42)["surveys"]["items"] == []


def test_retention_unlinks_old_survey_answers(db):
    with db.session() as s:
        _invitation(s, "application:1", 42, answered=True, created=NOON - timedelta(days=400))
        _invitation(s, "application:2", 42, answered=True, created=NOON - timedelta(days=10))
    with db.session() as s:
        assert apply_retention(s, {"surveys": 365}, now=NOON) == {"surveys": 1}
        assert apply_retention(s, {"surveys": 365}, now=NOON) == {"surveys": 0}
        users = [i.user_id for i in s.exec(select(SurveyInvitation).order_by(SurveyInvitation.id))]
        assert users == [0, 42]
        assert len(s.exec(select(SurveyResponse)).all()) == 2


def _complaint(s, ticket: str, user_id: int, *, closed_at=None) -> Complaint:  # noqa: ANN001
    complaint = Complaint(
        ticket=ticket, complainant_id=user_id, complainant_name="Budi", category="pelayanan",
        description="Antrean tidak jelas", privacy="named", verify_due=NOON, response_due=NOON,
        resolve_due=NOON, closed_at=closed_at, status="closed" if closed_at else "received",
    )
    s.add(complaint)
    s.flush()
    s.add(ComplaintMessage(complaint_id=complaint.id, author_id=user_id,
                           author_kind="complainant", body="Tambahan"))
    s.add(ComplaintMessage(complaint_id=complaint.id, author_id=7, author_kind="officer",
                           body="Terima kasih"))
    return complaint


def test_complaints_keep_their_content_without_the_complainant(db):
    with db.session() as s:
        _complaint(s, "ADU00001", 42)
        _complaint(s, "ADU00002", 43)
    with db.session() as s:
        [item] = export_personal_data(s, 42)["complaints"]["items"]
        assert (item["ticket"], item["name_given"]) == ("ADU00001", "Budi")
        assert [m["text"] for m in item["thread"]] == ["Tambahan", "Terima kasih"]
        report = erase_personal_data(s, 42)
    assert any(line.startswith("Your complaints stay with the office") for line in report)
    with db.session() as s:
        rows = {c.ticket: (c.complainant_id, c.complainant_name, c.description)
                for c in s.exec(select(Complaint)).all()}
        assert rows == {
            "ADU00001": (0, None, "Antrean tidak jelas"),
            "ADU00002": (43, "Budi", "Antrean tidak jelas"),
        }
        authors = sorted(m.author_id for m in s.exec(select(ComplaintMessage)).all())
        assert authors == [0, 7, 7, 43]
        assert export_personal_data(s, 42)["complaints"]["items"] == []


def test_retention_unlinks_complaints_closed_long_ago(db):
    with db.session() as s:
        _complaint(s, "OLD00001", 42, closed_at=NOON - timedelta(days=2000))
        _complaint(s, "NEW00001", 42, closed_at=NOON - timedelta(days=10))
        _complaint(s, "OPEN0001", 42)
    with db.session() as s:
        assert apply_retention(s, {"complaints": 1825}, now=NOON) == {"complaints": 1}
        owners = {c.ticket: c.complainant_id for c in s.exec(select(Complaint)).all()}
        assert owners == {"OLD00001": 0, "NEW00001": 42, "OPEN0001": 42}


@pytest.mark.postgres
def test_instances_started_together_on_a_new_database_migrate_it_once(postgres_url):
    """Each instance migrates at start; on a new database they take turns (an advisory lock),
    and the later ones find it done, instead of failing on tables the first one created."""
    db = Database(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()
    script = "import sys; from bot.db import Database; Database(sys.argv[1]).upgrade()"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, postgres_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(proc.wait(timeout=120), proc.stderr.read()) for proc in starts]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    db = Database(postgres_url)
    try:
        check_schema_not_newer(db)
        with db.engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(heads) == 1
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_dead_instances_updates_are_taken_over_at_once_a_live_ones_are_not(postgres_url):
    from bot.scaleout import ChatLocks, Liveness, live_instances
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    alive, dying, taker = Liveness(db), Liveness(db), Liveness(db)
    try:
        for instance in (alive, dying, taker):
            instance.start()
        assert {alive.key, dying.key, taker.key} <= set(live_instances(db))
        now = utcnow()
        assert take_update(db, 60, {"update_id": 60}, now=now, taken_by=alive.key) == "ok"
        assert take_update(db, 61, {"update_id": 61}, now=now, taken_by=dying.key) == "ok"
        assert retake_orphans(db, now=now, taken_by=taker.key) == []
        dying.stop()  # as its connection closing with a killed process
        assert dying.key not in live_instances(db)
        assert retake_orphans(db, now=now, taken_by=taker.key) == [Orphan({"update_id": 61}, {})]
        # Now the taker's: not taken again while it lives, however often the others look.
        assert retake_orphans(db, now=now, taken_by=alive.key) == []
        # A live instance's update is not taken from it, however long it waits there.
        later = now + 3 * LEASE
        assert retake_orphans(db, now=later, taken_by=taker.key) == []
        with db.session() as s:
            assert {r.update_id: r.taken_by for r in s.exec(select(ProcessedUpdate)).all()} == {
                60: alive.key, 61: taker.key
            }
        # With the chat lock, an instance learns whether an update is still its own.
        async def mine(owner: Liveness, update_id: int) -> bool:
            async with ChatLocks(db, owner=owner).hold(7, update_id) as holding:
                return holding.mine

        assert asyncio.run(mine(alive, 60)) and not asyncio.run(mine(taker, 60))
        assert asyncio.run(mine(taker, 61)) and not asyncio.run(mine(dying, 61))
        finish_updates(db, [61], now=now)
        assert not asyncio.run(mine(taker, 61))
        # A lost lock connection is noticed: a new key, whose lock is held; the old key's
        # updates go to the others, and are no longer this instance's.
        old_key = alive.key
        alive._conn.invalidate()
        alive.ensure()
        assert alive.key != old_key and alive.key in live_instances(db)
        assert old_key not in live_instances(db)
        assert retake_orphans(db, now=now, taken_by=taker.key) == [Orphan({"update_id": 60}, {})]
        assert not asyncio.run(mine(alive, 60))
    finally:
        for instance in (alive, dying, taker):
            instance.stop()
        db.dispose()


@pytest.mark.postgres
def test_options_in_the_database_url_are_kept_beside_the_bots_own(postgres_url):
    separator = "&" if "?" in postgres_url else "?"
    db = Database(f"{postgres_url}{separator}options=-c%20statement_timeout%3D12345")
    try:
        for engine in (db.engine, db.bookkeeping):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "12345ms"
                assert conn.exec_driver_sql("SHOW tcp_keepalives_idle").scalar() == "30"
        with db.bookkeeping.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    finally:
        db.dispose()
