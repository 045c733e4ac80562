"""Named API tokens: the rules, the command line, the API's use of them (audit, last use,
revocation at once on every instance) and API_TOKENS kept for existing installs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.api_tokens.models import ApiToken
from bot.api_tokens.service import (
    TokenError,
    create_token,
    hash_secret,
    list_tokens,
    revoke_token,
)
from bot.applications.api import create_api_app
from bot.core.db import Database
from bot.core.i18n import Translator
from bot.core.models import AuditEntry, utcnow
from tests.support.applications import make_runtime
from tests.support.e2e import REPO
from tests.webhook.test_server import emulated  # noqa: F401 - the webhook instances' fixture

ENV_TOKEN = "env-token-of-an-old-install-0123456789"


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_names_units_and_secrets(db):
    with db.session() as s:
        token, secret = create_token(s, name=" Front-Desk ", actor_id=1,
                                     known_units={"kependudukan"})
        assert token.name == "front-desk" and token.unit is None
        assert secret.startswith("sbt_") and len(secret) > 40
        assert token.token_hash == hash_secret(secret) and secret not in token.token_hash
        _, other = create_token(s, name="simpel.kk", unit="kependudukan", actor_id=None,
                                known_units={"kependudukan"})
        assert other != secret
    refused = [
        ("x", None, "invalid_name"),
        ("has space", None, "invalid_name"),
        ("-leading", None, "invalid_name"),
        ("a" * 41, None, "invalid_name"),
        ("env-token", None, "invalid_name"),
        ("FRONT-DESK", None, "name_taken"),
        ("third", "keuangan", "unknown_unit"),
    ]
    for name, unit, code in refused:
        with db.session() as s, pytest.raises(TokenError) as caught:
            create_token(s, name=name, unit=unit, actor_id=1, known_units={"kependudukan"})
        assert caught.value.code == code, name
    assert "Sudah ada token bernama front-desk" in TokenError(
        "name_taken", "There is already a token named {name}; choose another name.",
        name="front-desk",
    ).message(Translator("id"))
    with db.session() as s:
        revoke_token(s, name="front-desk", actor_id=1)
    with db.session() as s, pytest.raises(TokenError) as caught:
        revoke_token(s, name="front-desk", actor_id=1)
    assert caught.value.code == "already_revoked"
    with db.session() as s, pytest.raises(TokenError) as caught:
        create_token(s, name="front-desk", actor_id=1)  # a revoked name is never given again
    assert caught.value.code == "name_taken"
    with db.session() as s:
        assert [(t.name, t.active) for t in list_tokens(s)] == [
            ("simpel.kk", True), ("front-desk", False)
        ]
        trail = s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(a.actor_id, a.action, a.subject, a.detail["via"]) for a in trail] == [
            (1, "api_token.create", "front-desk", "chat"),
            (None, "api_token.create", "simpel.kk", "cli"),
            (1, "api_token.revoke", "front-desk", "chat"),
        ]
        # Only hashes are stored: the database holds no secret.
        hashes = s.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert all(len(h) == 64 and not h.startswith("sbt_") for h in hashes)


async def test_changes_are_audited_with_the_tokens_name_and_last_use_is_rare(db, caplog):
    rt = make_runtime(db, api_tokens=[ENV_TOKEN])
    with db.session() as s:
        _, secret = create_token(s, name="simpel", actor_id=1)
    start = utcnow()
    rt.clock = lambda: start
    with caplog.at_level(logging.WARNING, logger="bot.api_tokens.auth"):
        app = create_api_app(rt)
    assert any("API_TOKENS is deprecated" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
        created = await api.post("/api/v1/applications", headers=_bearer(secret),
                                 json={"service_id": "ktp-el", "applicant_name": "Sari"})
        assert created.status_code == 201, created.text
        number = created.json()["tracking_number"]
        moved = await api.post(f"/api/v1/applications/{number}/status",
                               headers=_bearer(ENV_TOKEN), json={"status": "in_process"})
        assert moved.status_code == 200, moved.text
        with db.session() as s:
            trail = s.exec(select(AuditEntry).where(AuditEntry.action.like("application.%"))
                           .order_by(AuditEntry.id)).all()
            assert [(a.action, a.actor_id, a.api_token) for a in trail] == [
                ("application.register", None, "simpel"),
                ("application.status", None, "env-token"),
            ]
            assert s.exec(select(ApiToken)).one().last_used_at == start
        # Within the minute no request writes the last use again; after it, one does.
        rt.clock = lambda: start + timedelta(seconds=59)
        assert (await api.get(f"/api/v1/applications/{number}",
                              headers=_bearer(secret))).status_code == 200
        with db.session() as s:
            assert s.exec(select(ApiToken)).one().last_used_at == start
        rt.clock = lambda: start + timedelta(seconds=61)
        assert (await api.get(f"/api/v1/applications/{number}",
                              headers=_bearer(secret))).status_code == 200
        with db.session() as s:
            assert s.exec(select(ApiToken)).one().last_used_at == start + timedelta(seconds=61)
        # A secret that is not the token (one character off, or the stored hash) opens nothing.
        for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), hash_secret(secret)):
            refused = await api.get(f"/api/v1/applications/{number}", headers=_bearer(wrong))
            assert refused.status_code == 401


async def test_a_revoked_token_is_refused_at_once_by_every_instance(emulated, database_url):  # noqa: F811
    first = await emulated.start_instance(database_url)
    second = await emulated.start_instance(database_url)
    admin_machine = Database(database_url)  # the admin's own connection, as the CLI's
    try:
        with admin_machine.session() as s:
            _, secret = create_token(s, name="kasir", actor_id=None)
        async with httpx.AsyncClient(timeout=10) as client:
            for instance in (first, second):
                answer = await client.get(f"{instance.url}/api/v1/applications/K7QM-3XPA",
                                          headers=_bearer(secret))
                assert answer.status_code == 404  # let in; there is no such application
            with admin_machine.session() as s:
                revoke_token(s, name="kasir", actor_id=None)
            for instance in (first, second):  # the very next request, on each instance
                answer = await client.get(f"{instance.url}/api/v1/applications/K7QM-3XPA",
                                          headers=_bearer(secret))
                assert answer.status_code == 401
                assert answer.json()["error"]["code"] == "unauthorized"
    finally:
        admin_machine.dispose()


def _cli(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url,
        "KNOWLEDGE_DIR": str(REPO / "knowledge"),
    }
    return subprocess.run([sys.executable, "-m", "bot.cli", "token", *args], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)


def test_the_command_line_creates_lists_and_revokes(sqlite_db, tmp_path):
    made = _cli(tmp_path, sqlite_db.url, "create", "simpel-kependudukan", "--unit",
                "kependudukan")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("sbt_") and "\n" not in secret  # the secret alone, for scripts
    assert "only time its secret is shown" in made.stderr and secret not in made.stderr
    listed = _cli(tmp_path, sqlite_db.url, "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "UNIT", "CREATED", "LAST", "USED", "REVOKED"]
    assert row.split()[:2] == ["simpel-kependudukan", "kependudukan"]
    assert row.split()[-2:] == ["-", "-"] and secret not in listed.stdout
    # A refusal is one line and exit status 1 (the other reasons: test_names_units_and_secrets).
    unknown = _cli(tmp_path, sqlite_db.url, "create", "other", "--unit", "keuangan")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Unknown unit keuangan.")
    assert "kependudukan" in unknown.stderr and len(unknown.stderr.splitlines()) == 1
    revoked = _cli(tmp_path, sqlite_db.url, "revoke", "simpel-kependudukan")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    with sqlite_db.session() as s:
        [token] = s.exec(select(ApiToken)).all()
        assert token.revoked_at is not None and token.token_hash == hash_secret(secret)
        assert [a.action for a in s.exec(select(AuditEntry).order_by(AuditEntry.id))] == [
            "api_token.create", "api_token.revoke"
        ]
