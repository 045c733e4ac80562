"""End to end: the knowledge base changes without a restart, on two instances sharing one
database, each with its own copy of the folder (two machines)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bot import reload as kr
from bot.cli import main
from bot.emulator import Emulator
from handlers.reload import poll_job
from tests.support.e2e import REPO, TOKEN

ADMIN_EN, ADMIN_ID, CITIZEN = 9201, 9202, 1201
OLD_NAME = "Mal Pelayanan Publik Kota Harapan"


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(REPO / "knowledge", folder)
    return folder


def _rename_office(folder: Path, name: str) -> None:
    office = folder / "office.yaml"
    lines = office.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [f"name: {name}\n" if line.startswith("name: ") else line for line in lines]
    office.write_text("".join(lines), encoding="utf-8")


async def _office_name_seen(user) -> str:  # noqa: ANN001
    await user.send("/start")
    return (await user.reply()).text.splitlines()[0]


async def test_reload_switches_every_instance_and_refuses_an_invalid_edit(
    make_bot, database_url, tmp_path, monkeypatch, capsys
):
    folder_a, folder_b = _copy(tmp_path, "kb-a"), _copy(tmp_path, "kb-b")
    a = await make_bot(database_url, knowledge_dir=folder_a, admin_ids=[ADMIN_EN, ADMIN_ID])
    # Each instance here has its own emulator (to choose who answers); emulators number their
    # updates from the clock, so the two never hand out the same id.
    second = Emulator(TOKEN)
    b = await make_bot(database_url, knowledge_dir=folder_b, admin_ids=[ADMIN_EN, ADMIN_ID],
                       emulator=second)
    [job] = b.app.job_queue.get_jobs_by_name("knowledge-reload")
    assert job.trigger.interval == timedelta(seconds=kr.POLL_SECONDS) <= timedelta(seconds=30)
    admin, admin_id = a.user(ADMIN_EN, language_code="en"), a.user(ADMIN_ID, language_code="id")
    citizen_a, citizen_b = a.user(CITIZEN), b.user(CITIZEN)
    assert OLD_NAME in await _office_name_seen(citizen_b)

    # An edit does nothing by itself; the admin's reload switches this instance at once.
    _rename_office(folder_a, "MPP Harapan Jaya")
    assert OLD_NAME in await _office_name_seen(citizen_a)
    await citizen_a.send("/muatulang")
    assert "Perintah itu tidak saya kenal" in (await citizen_a.reply()).text
    await admin.send("/reload")
    done = await admin.reply()
    assert done.text.startswith("✅ Knowledge base reloaded (version 1, ")
    assert "MPP Harapan Jaya" in await _office_name_seen(citizen_a)

    # The other machine's folder is not updated yet: it keeps serving what it has.
    await poll_job(b.context())
    assert OLD_NAME in await _office_name_seen(citizen_b)
    shutil.copy(folder_a / "office.yaml", folder_b / "office.yaml")
    await poll_job(b.context())
    assert "MPP Harapan Jaya" in await _office_name_seen(citizen_b)

    # An invalid edit is refused with file:line, and nothing changes anywhere.
    _rename_office(folder_a, "MPP Harapan Raya")
    passport = folder_a / "services" / "paspor.yaml"
    valid = passport.read_text(encoding="utf-8")
    passport.write_text(valid + "kolom_baru: 1\n", encoding="utf-8")
    bad_line = len(valid.splitlines()) + 1
    await admin_id.send("/muatulang")
    refused = await admin_id.reply()
    assert refused.text.startswith("❌ Basis pengetahuan tidak dimuat ulang")
    assert f"paspor.yaml:{bad_line}: kolom_baru: unknown field" in refused.text
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder_a))
    assert main(["knowledge", "reload"]) == 1
    assert f"paspor.yaml:{bad_line}: kolom_baru" in capsys.readouterr().err
    assert kr.published(a.rt.db)[0] == 1
    await poll_job(a.context())
    assert "MPP Harapan Jaya" in await _office_name_seen(citizen_a)

    # Fixed, and reloaded from the command line: both instances follow within a poll.
    passport.write_text(valid, encoding="utf-8")
    assert main(["knowledge", "reload"]) == 0
    assert "published as version 2" in capsys.readouterr().out
    shutil.copytree(folder_a, folder_b, dirs_exist_ok=True)
    for bot, citizen in ((a, citizen_a), (b, citizen_b)):
        assert "MPP Harapan Jaya" in await _office_name_seen(citizen)
        await poll_job(bot.context())
        assert "MPP Harapan Raya" in await _office_name_seen(citizen)
        assert bot.rt.knowledge_version == 2
