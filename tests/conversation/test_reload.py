"""End to end: situations and entries follow a knowledge reload (bot/reload) without a restart,
and an invalid one is refused with file:line like an invalid service."""

from __future__ import annotations

import shutil

from tests.support.e2e import REPO

ADMIN, CITIZEN = 9301, 1301
NURSERY = """id: penitipan-anak
question: {id: Apakah ada tempat penitipan anak?, en: Is there a creche?}
keywords:
  id: [penitipan anak, titip anak]
  en: [creche, childcare]
answer:
  id: "Ada ruang bermain anak di lantai 1, dijaga petugas selama jam layanan."
  en: "There is a children's play room on the ground floor, staffed during service hours."
"""
NO_SUCH_SERVICE = """id: pensiun
name: {id: Pensiun, en: Retiring}
keywords:
  id: [pensiun]
steps:
  - service: taspen
"""


async def test_a_reload_brings_new_entries_and_refuses_an_invalid_situation(
    make_bot, database_url, tmp_path
):
    folder = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", folder)
    bot = await make_bot(database_url, knowledge_dir=folder, admin_ids=[ADMIN])
    admin, citizen = bot.user(ADMIN, language_code="en"), bot.user(CITIZEN, language_code="id")

    await citizen.send("ada penitipan anak?")
    assert "ruang bermain anak" not in (await citizen.reply()).text

    (folder / "entries" / "penitipan-anak.yaml").write_text(NURSERY, encoding="utf-8")
    await admin.send("/reload")
    assert (await admin.reply()).text.startswith("✅ Knowledge base reloaded (version 1, ")
    await citizen.send("ada penitipan anak?")
    answer = await citizen.reply()
    assert answer.text.startswith("Apakah ada tempat penitipan anak?")
    assert "ruang bermain anak" in answer.text

    (folder / "situations" / "pensiun.yaml").write_text(NO_SUCH_SERVICE, encoding="utf-8")
    await admin.send("/reload")
    refused = await admin.reply()
    assert refused.text.startswith("❌ The knowledge base was not reloaded")
    assert "pensiun.yaml:6: steps[0].service: unknown service 'taspen'" in refused.text
    assert bot.rt.knowledge_version == 1
    await citizen.send("ada penitipan anak?")
    assert "ruang bermain anak" in (await citizen.reply()).text  # still served
