"""/token in the chat: an admin creates (the secret shown once), lists and revokes the API's
tokens; citizens, officers and supervisors are refused; never in a group."""

from __future__ import annotations

import re

import httpx
from sqlmodel import select

from bot.api_tokens.models import ApiToken
from bot.applications.api import create_api_app
from bot.people.staff import add_staff

ADMIN, OFFICER, SUPERVISOR, CITIZEN = 61, 62, 63, 64
UNKNOWN = "Perintah itu tidak saya kenal"
SECRET = re.compile(r"sbt_[\w-]{40,}")


async def test_an_admin_manages_api_tokens_in_the_chat(make_bot, database_url):
    bot = await make_bot(database_url, admin_ids=[ADMIN])
    with bot.rt.db.session() as s:
        add_staff(s, telegram_id=OFFICER, role="officer", actor_id=ADMIN)
        add_staff(s, telegram_id=SUPERVISOR, role="supervisor", actor_id=ADMIN)
    for user_id in (CITIZEN, OFFICER, SUPERVISOR):
        user = bot.user(user_id)
        for command in ("/token create mine", "/tokenapi daftar", "/token revoke mine"):
            await user.send(command)
            refused = await user.reply()
            assert UNKNOWN in refused.text, (user_id, command, refused.text)
    with bot.rt.db.session() as s:
        assert s.exec(select(ApiToken)).all() == []

    admin = bot.user(ADMIN, "Admin")
    await admin.send("/tokenapi buat simpel-kk kependudukan")
    shown = await admin.reply()
    [secret] = SECRET.findall(shown.text)
    assert f"<code>{secret}</code>" in shown.html
    assert "simpel-kk" in shown.text and "unit kependudukan" in shown.text
    assert "hanya ditampilkan sekali" in shown.text and "hapuslah sendiri" in shown.text
    await admin.send("/token list")
    listing = await admin.reply()
    assert "simpel-kk" in listing.text and "terakhir dipakai belum pernah" in listing.text
    assert secret not in listing.text  # shown once, never again

    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api_app(bot.rt)),
                            base_url="http://api")
    async with api:
        used = await api.get("/api/v1/ikm", headers={"Authorization": f"Bearer {secret}"})
        assert used.status_code == 200, used.text
        await admin.send("/token daftar")
        assert "belum pernah" not in (await admin.reply()).text  # the last use is shown

        await admin.send("/token cabut simpel-kk")
        assert "Token simpel-kk dicabut" in (await admin.reply()).text
        refused = await api.get("/api/v1/ikm", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
    await admin.send("/token list")
    assert ", dicabut " in (await admin.reply()).text

    for command, answer in (
        ("/token create simpel-kk", "Sudah ada token bernama simpel-kk"),
        ("/token create Bad!Name", "Nama token terdiri atas 2 sampai 40 karakter"),
        ("/token create other keuangan", "Unit keuangan tidak dikenal"),
        ("/token revoke nobody", "Tidak ada token bernama nobody"),
        ("/token", "/token buat NAMA [UNIT]"),
        ("/token create a b c", "/token buat NAMA [UNIT]"),
    ):
        await admin.send(command)
        assert answer in (await admin.reply()).text, command

    # A secret never lands in a group, even for an admin.
    group = bot.group(-1006100, "Officers")
    await group.send(admin, "/token create in-group")
    await bot.settle()
    assert not any(SECRET.search(m.text or "") for m in group.messages())
    with bot.rt.db.session() as s:
        assert [t.name for t in s.exec(select(ApiToken))] == ["simpel-kk"]
