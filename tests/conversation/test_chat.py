"""End to end: the conversation through the real bot on the emulator, in both languages, on
SQLite and PostgreSQL: follow-ups in context (also across two instances), variants, several
questions, life events, entries, small talk, complaints in words, open days, a question in the
middle of a flow, typos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.complaints.models import Complaint
from bot.conversation.models import DialogueContextRow
from bot.core.models import utcnow
from handlers.common import MENU

MENU_DATA = [f"menu:{entry.key}" for entry in MENU]


async def _ask(citizen, text: str, n: int = 1):  # noqa: ANN001, ANN202
    await citizen.send(text)
    return await citizen.replies(n)


async def test_follow_ups_are_read_with_the_remembered_service(bot):
    citizen = bot.user(3001, language_code="id")
    first = (await _ask(citizen, "syarat paspor"))[0]
    assert first.text.startswith("Paspor · Persyaratan")
    fee = (await _ask(citizen, "biayanya?"))[0]
    assert fee.text.startswith("Paspor · Biaya") and "Rp350.000" in fee.text
    # "Where" after a service is its counter, with the pin: not the office alone.
    pin, where = await _ask(citizen, "lokasinya di mana?", 2)
    assert pin.method == "sendVenue" and "Loket 12-13" in where.text
    lost = (await _ask(citizen, "kalau hilang?"))[0]
    assert "Surat keterangan kehilangan dari kepolisian" in lost.text
    other = (await _ask(citizen, "kalau KK?"))[0]
    assert other.text.startswith("Kartu Keluarga (KK) · Persyaratan")
    # A question naming its own service and topic is answered as asked.
    own = (await _ask(citizen, "berapa lama skck jadi"))[0]
    assert own.text.startswith("SKCK (Surat Keterangan Catatan Kepolisian) · Waktu")
    # /start is a new subject: the follow-up has nothing to follow.
    await _ask(citizen, "/start")
    lost_thread = (await _ask(citizen, "biayanya?"))[0]
    assert lost_thread.text.startswith("Mohon maaf")

    english = bot.user(3002, language_code="en")
    await _ask(english, "family card requirements")
    took = (await _ask(english, "how long does it take?"))[0]
    assert "1 working day" in took.text and took.text.startswith("Family card (KK)")
    passport = (await _ask(english, "and for a passport?"))[0]
    assert passport.text.startswith("Passport · Time to complete")
    fee = (await _ask(english, "how much?"))[0]
    assert "Rp350,000" in fee.text


async def test_context_expires_after_silence_and_never_answers_something_else(bot):
    citizen = bot.user(3003, language_code="id")
    await _ask(citizen, "syarat skck")
    gold = (await _ask(citizen, "harga emas hari ini"))[0]
    assert "Rp" not in gold.text and "Loket" not in gold.text
    with bot.rt.db.session() as session:
        row = session.get(DialogueContextRow, 3003)
        assert row.service_id == "skck"  # kept through a question it could not answer
        row.updated_at = utcnow() - timedelta(minutes=25)
        session.add(row)
    await _ask(citizen, "makasih")  # any message starts the 30 minutes again
    with bot.rt.db.session() as session:
        row = session.get(DialogueContextRow, 3003)
        assert utcnow() - row.updated_at < timedelta(minutes=1)
        row.updated_at = utcnow() - timedelta(minutes=31)
        session.add(row)
    stale = (await _ask(citizen, "biayanya?"))[0]
    assert stale.text.startswith("Mohon maaf") and "Rp" not in stale.text


async def test_two_instances_share_one_chats_context(make_bot, database_url):
    first = await make_bot(database_url)
    second = await make_bot(database_url)  # another instance, on the same database
    # Each harness has its own emulator standing in for the one Telegram, whose update ids
    # never repeat: the second continues far above the first's (the database keeps which
    # update ids were handled).
    second.emulator._next_update_id = 500_000
    citizen = first.user(3004, language_code="id")
    await _ask(citizen, "syarat skck")
    same = second.user(3004, language_code="id")
    fee = (await _ask(same, "biayanya?"))[0]
    assert fee.text.startswith("SKCK") and "Rp30.000" in fee.text
    back = (await _ask(citizen, "berapa lama?"))[0]  # and back on the first one
    assert back.text.startswith("SKCK") and "1 hari kerja" in back.text


async def test_the_variant_asked_with_the_others_one_button_away(bot):
    citizen = bot.user(3005, language_code="id")
    await _ask(citizen, "syarat ktp")
    damaged = (await _ask(citizen, "kalau rusak?"))[0]
    assert "KTP-el yang rusak (diserahkan kembali)" in damaged.text
    assert "Surat keterangan kehilangan" not in damaged.text
    assert ("📄 Pembuatan baru (pemula)", "cv:req:ktp-el:0") in damaged.buttons
    await citizen.click("📄 Pembuatan baru (pemula)")
    new = await citizen.reply()
    assert "Berusia 17 tahun" in new.text and "KTP-el yang rusak" not in new.text
    renewal = (await _ask(citizen, "perpanjangan sim d berapa"))[0]
    assert "Perpanjangan SIM D: <b>Rp30.000</b>" in renewal.html
    assert "Rp120.000" not in renewal.text
    await citizen.click("💰 Semua biaya")
    every = await citizen.reply()
    assert "Rp120.000" in every.text and "Rp30.000" in every.text

    english = bot.user(3006, language_code="en")
    await _ask(english, "passport requirements")
    lost = (await _ask(english, "what if it was lost?"))[0]
    assert "Police report of the loss" in lost.text
    fee = (await _ask(english, "renewal fee for class C licence"))[0]
    assert "Renewal of class C: <b>Rp75,000</b>" in fee.html
    # How to go about one case: the steps, then what that case needs (not the others).
    how = (await _ask(citizen, "ktp saya hilang, gimana caranya?"))[0]
    assert "KTP Elektronik (KTP-el) · Prosedur" in how.text
    assert "Surat keterangan kehilangan" in how.text.split("· Persyaratan", 1)[1]
    assert "KTP-el yang rusak" not in how.text
    assert ("📄 Pembuatan baru (pemula)", "cv:req:ktp-el:0") in how.buttons


async def test_several_questions_in_one_reply(bot):
    citizen = bot.user(3007, language_code="id")
    both = (await _ask(citizen, "syarat dan biaya perpanjang sim c"))[0]
    assert "SIM lama yang masih berlaku" in both.text and "Rp75.000" in both.text
    await citizen.expect_silence()  # one message, not two
    two = (await _ask(citizen, "KTP sama KK syaratnya apa"))[0]
    assert "Berusia 17 tahun" in two.text and "Buku nikah atau akta perkawinan" in two.text
    english = bot.user(3008, language_code="en")
    skck = (await _ask(english, "how much and how long for SKCK"))[0]
    assert "Rp30,000" in skck.text and "1 working day" in skck.text
    assert len(skck.text) < 4096


async def test_life_events_name_the_services_in_order(bot):
    citizen = bot.user(3009, language_code="id")
    birth = (await _ask(citizen, "anak saya baru lahir, urus apa saja?"))[0]
    text = birth.text
    assert text.index("Akta Kelahiran") < text.index("Kartu Keluarga") < text.index(
        "Kartu Identitas Anak")
    assert "Surat keterangan kelahiran" in text and text.count("KTP-el kedua orang tua") == 1
    assert ("Akta Kelahiran", "svc:card:akta-kelahiran") in birth.buttons
    await citizen.click("svc:card:kia")
    card = await citizen.reply()
    assert card.text.startswith("Kartu Identitas Anak (KIA)")

    english = bot.user(3010, language_code="en")
    death = (await _ask(english, "my father passed away, what do I need to do?"))[0]
    assert death.text.startswith("A death in the family")
    assert "Death notice from the hospital" in death.text and "Taspen" in death.text
    business = (await _ask(english, "I want to start a small food business, which permit "
                                    "do I need"))[0]
    assert "NIB" in business.text and "SPP-IRT" in business.text


async def test_entries_small_talk_and_open_days(bot):
    rt = bot.rt
    citizen = bot.user(3011, language_code="id")
    parking = (await _ask(citizen, "ada tempat parkir mobil?"))[0]
    assert parking.text.startswith("Apakah ada tempat parkir?")
    thanks = (await _ask(citizen, "makasih ya kak"))[0]
    assert thanks.text.startswith("Sama-sama")
    hello = (await _ask(citizen, "halo"))[0]
    assert hello.text.startswith("Halo!")
    saturday = (await _ask(citizen, "sabtu buka?"))[0]
    assert saturday.text.startswith("Tidak, Mal Pelayanan Publik Kota Harapan tutup")
    assert "Senin" not in saturday.text.split("\n")[0]  # not the week's table
    today = utcnow().astimezone(rt.tz).date()
    open_today = rt.calendar.is_working_day(today) and today not in rt.knowledge.office.closed_dates
    now = (await _ask(citizen, "hari ini buka?"))[0]
    assert now.text.startswith("Ya," if open_today else "Tidak,")
    # "Today" is the office's day on the runtime's clock: a Saturday, then a Monday morning.
    rt.clock = lambda: datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    assert (await _ask(citizen, "hari ini buka?"))[0].text.startswith("Tidak,")
    rt.clock = lambda: datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # Monday 06:30 in Jakarta
    assert (await _ask(citizen, "hari ini buka?"))[0].text.startswith("Ya,")
    rt.clock = None

    english = bot.user(3012, language_code="en")
    ramp = (await _ask(english, "is the office wheelchair accessible"))[0]
    assert "ramp" in ramp.text
    welcome = (await _ask(english, "thanks a lot!"))[0]
    assert welcome.text.startswith("You're welcome")
    sunday = (await _ask(english, "are you open on sunday?"))[0]
    assert sunday.text.startswith("No, Mal Pelayanan Publik Kota Harapan is closed")
    # An answer is rated (handlers/feedback.py); small talk is no answer and is not.
    assert sunday.buttons[:-2] == [("☰ Main menu", "cv:menu")]
    assert sunday.labels[-2:] == ["👍", "👎"] and ramp.labels[-2:] == ["👍", "👎"]
    assert welcome.buttons == [("☰ Main menu", "cv:menu")]
    await english.click("☰ Main menu")
    menu = await english.reply()
    assert [data for _, data in menu.buttons] == MENU_DATA


async def test_a_complaint_in_a_question_is_filed_in_one_press(bot):
    citizen = bot.user(3013, language_code="id")
    story = "petugas di loket KTP minta uang 50 ribu, katanya biar cepat"
    offer = (await _ask(citizen, story))[0]
    assert "pungli" in offer.text and "📣 Ajukan pengaduan" in offer.labels
    await citizen.click("📣 Ajukan pengaduan")
    # Category (illegal levy), service and description are known: the next question is when.
    when = await citizen.reply()
    assert "Kapan kejadiannya?" in when.text
    await citizen.click("cf:when:skip")
    await citizen.reply()
    await citizen.send("⏭ Lewati")  # the place: the reply keyboard's Skip
    await citizen.replies(2)
    await citizen.click("cf:ev:done")
    await citizen.reply()
    await citizen.click("cf:priv:anonymous")
    summary = await citizen.reply()
    assert story in summary.text
    await citizen.click("cf:ok")
    await citizen.replies(1)
    await bot.settle()
    with bot.rt.db.session() as session:
        complaint = session.exec(select(Complaint)).one()
        assert (complaint.category, complaint.service_id) == ("biaya", "ktp-el")
        assert complaint.description == story
        assert session.get(DialogueContextRow, 3013) is None  # the flow cleared the context

    english = bot.user(3014, language_code="en")
    offer = (await _ask(english, "I want to complain about slow service"))[0]
    assert offer.labels[:2] == ["📣 File a complaint", "❓ No, I have a question"]
    await english.click("❓ No, I have a question")
    answered = await english.reply()
    assert "Rp" not in answered.text  # read as a question: nothing it could answer
    await english.click("📣 File a complaint")
    assert (await english.callback_answer())["show_alert"]  # the offer was used up


async def test_a_question_in_the_middle_of_a_flow_is_not_swallowed(bot):
    citizen = bot.user(3015, language_code="id")
    await _ask(citizen, "/pengaduan")
    await citizen.click("cf:cat:pelayanan")
    description = await citizen.reply()
    assert "Apa yang terjadi?" in description.text
    choice = (await _ask(citizen, "berapa biaya paspor?"))[0]
    assert choice.labels == ["❓ Jawab pertanyaan saya", "✍️ Itu jawaban saya"]
    await citizen.click("❓ Jawab pertanyaan saya")
    fee, still = await citizen.replies(2)
    assert "Rp350.000" in fee.text and "/batal" in still.text
    # The flow kept its place: the description is taken next (it names the passport, so the
    # service is not asked).
    story = "Antrean di loket paspor tidak bergerak dua jam dan tidak ada penjelasan sama sekali."
    when = (await _ask(citizen, story))[0]
    assert "Kapan kejadiannya?" in when.text

    english = bot.user(3016, language_code="en")
    await _ask(english, "/complaint")
    await english.click("cf:cat:pelayanan")
    await english.reply()
    text = "Why does the passport counter ask for 350,000 when the website says less?"
    choice = (await _ask(english, text))[0]
    assert choice.labels == ["❓ Answer my question", "✍️ It is my answer"]
    await english.click("✍️ It is my answer")
    when = await english.reply()
    assert "When did it happen?" in when.text
    state_summary = None
    await english.click("cf:when:skip")
    await english.reply()
    await english.send("⏭ Skip")
    await english.replies(2)
    await english.click("cf:ev:done")
    await english.reply()
    await english.click("cf:priv:anonymous")
    state_summary = await english.reply()
    assert text in state_summary.text


async def test_typos_ask_with_buttons_when_unsure_and_say_so_when_out_of_scope(bot):
    citizen = bot.user(3017, language_code="id")
    duration = (await _ask(citizen, "brp lma bkin kk"))[0]
    assert "1 hari kerja" in duration.text
    lost = (await _ask(citizen, "syrat pspor ilang apa aj"))[0]
    assert "BAP" in lost.text
    unsure = (await _ask(citizen, "biaya akta berapa ya"))[0]
    assert unsure.text.endswith("Maksud Anda:") and "Rp" not in unsure.text
    assert unsure.buttons[:2] == [("Biaya · Akta Kelahiran", "svc:topic:akta-kelahiran:fee"),
                                  ("Biaya · Akta Kematian", "svc:topic:akta-kematian:fee")]
    which = (await _ask(citizen, "paspor jadi berapa"))[0]
    assert which.buttons[:2] == [("Waktu penyelesaian · Paspor", "svc:topic:paspor:duration"),
                                 ("Biaya · Paspor", "svc:topic:paspor:fee")]
    english = bot.user(3018, language_code="en")
    weather = (await _ask(english, "what is the weather in Bogor"))[0]
    assert weather.text.startswith("Sorry") and "Rp" not in weather.text
    # The main menu, then the way to a person (tests/feedback/test_chat.py).
    assert [data for _, data in weather.buttons][:-1] == MENU_DATA
    assert weather.labels[-1] == "🙋 Ask an officer"
    status = (await _ask(english, "how can I check the status of my application"))[0]
    assert "tracking number" in status.text


async def test_forged_conversation_buttons_change_nothing(bot_sqlite):
    citizen = bot_sqlite.user(3019, language_code="id")
    await _ask(citizen, "halo")
    for data in ("cv:req:paspor:9", "cv:req:nope:0", "cv:req:paspor:x", "cv:complain",
                 "cv:ask", "cv:fq", "cv:fa", "cv:what"):
        await citizen.forge_click(data)
        answer = await citizen.callback_answer()
        assert answer["show_alert"] is True, data
    await citizen.expect_silence()


async def test_a_survey_suggestion_reporting_pungli_alerts_the_supervisor(bot):
    from bot.core.models import Staff
    from handlers.outbox_delivery import drain_outbox

    rt = bot.rt
    supervisor = bot.user(9101, language_code="id")
    await _ask(supervisor, "/start")
    with rt.db.session() as session:
        session.add(Staff(telegram_id=9101, role="supervisor", unit=None))
    citizen = bot.user(3020, language_code="en")
    await _ask(citizen, "/survey")
    service = next(iter(rt.knowledge.services.values()))
    await citizen.click(service.name("en"))
    question = await citizen.reply()
    for _ in range(9):
        await citizen.click(question.labels[0])
        question = await citizen.reply()
    assert "suggestion" in question.text
    report = "The officer asked me for money, 50 thousand for cigarettes"
    thanks, offer = await _ask(citizen, report, 2)
    assert "suggestion is noted" in thanks.text
    assert "📣 File a complaint" in offer.labels
    await drain_outbox(bot.app, rt)
    alert = await supervisor.reply()
    assert "Saran survei melaporkan pungutan liar" in alert.text and report in alert.text
    assert str(3020) not in alert.text  # the survey stays anonymous
    # The offer files the suggestion as a complaint in one press.
    await citizen.click("📣 File a complaint")
    assert "When did it happen?" in (await citizen.reply()).text
