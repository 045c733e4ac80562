"""What a message wants besides a service's facts: small talk, a complaint hidden in a
question (illegal fees first), a status lookup, whether the office is open on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.conversation.library import KeywordIndex

# Phrases are read on the matcher's normalised words (slang expanded: "gak" -> "tidak"), with a
# few words allowed between a phrase's words ("petugas di loket minta uang").
LEVY = (
    "pungli", "pungutan liar", "minta uang", "dimintai uang", "diminta uang", "minta duit",
    "dimintai duit", "diminta duit", "minta bayaran", "dimintai bayaran", "uang rokok",
    "uang pelicin", "uang lelah", "uang terima kasih", "uang tambahan",
    "calo", "percaloan", "suap", "sogok", "nyogok", "disogok", "gratifikasi", "bribe",
    "bribery", "asked for money", "asked me for money", "asked me to pay", "extra money",
    "extra payment", "illegal fee", "illegal fees", "illegal levy", "illegal charge",
    "kickback", "under the table", "disuruh bayar", "dipaksa bayar", "dimintai biaya",
    "diminta biaya tambahan", "uang damai",
)
# Things that share a word with a service but are none of the office's: a phone's SIM card.
NOT_OURS = ("sim card", "kartu sim", "simcard", "sim hp", "kartu perdana", "sim telkomsel")
BEHAVIOUR = (
    "petugas kasar", "kasar", "tidak ramah", "judes", "galak", "membentak", "dibentak",
    "dimarahi", "rude", "impolite", "unfriendly", "shouted", "yelled",
)
SLOW = (
    "pelayanan lambat", "pelayanan lama", "lambat sekali", "lama sekali", "lelet",
    "antre lama", "antrean lama", "menunggu lama", "tunggu lama", "slow service", "too slow",
    "very slow", "waited for hours", "belum jadi juga", "tidak jadi jadi", "lambat",
)
GENERAL = (
    "komplain", "complain", "complaint", "keluhan", "mengeluh", "mengadu", "pengaduan",
    "aduan", "adukan", "lapor petugas", "laporkan petugas", "melaporkan", "mau lapor",
    "ingin lapor", "mau melapor", "ingin melapor", "saya lapor", "report an officer",
    "report a problem", "file a complaint", "make a complaint", "kecewa", "disappointed",
)
STATUS = (
    "cek status", "check status", "status permohonan", "status pengajuan", "status berkas",
    "status dokumen", "status saya", "status of my", "status of the application",
    "application status", "track my application", "track application", "lacak permohonan",
    "lacak berkas", "lacak", "tracking number", "nomor resi", "sudah jadi belum",
    "sudah selesai belum", "sudah jadi atau belum", "sampai mana", "where is my application",
    "is my application ready", "cek permohonan", "cek berkas", "check my application",
)
GREETINGS = frozenset(
    "halo hallo hai hi hello hey helo pagi siang sore malam selamat assalamualaikum "
    "assalamu alaikum salam permisi good morning afternoon evening p punten".split()
)
THANKS = frozenset("terima kasih thanks thank thx tq tengkyu nuhun suwun makasi".split())
GOODBYE = frozenset("bye dadah sampai jumpa goodbye".split())
ACKNOWLEDGE = frozenset("ok oke okay okey baik siap sip mantap noted paham mengerti".split())
POLITE = frozenset(
    "ya yah kak kakak min admin pak bu ibu bapak mas mbak gan sis bang dong deh nih sih ka "
    "banyak sekali atas bantuannya bantuan info informasi infonya ya sangat you very much "
    "so lot a for the kasih semua jawabannya penjelasannya membantu helpful sudah".split()
)
TODAY = ("hari ini", "today", "sekarang", "now", "saat ini")
TOMORROW = ("besok", "tomorrow", "besuk")
WEEKDAY_WORDS = (
    ("senin", "monday"), ("selasa", "tuesday"), ("rabu", "wednesday"), ("kamis", "thursday"),
    ("jumat", "friday"), ("sabtu", "saturday"), ("minggu", "ahad", "sunday"),
)
OPEN_WORDS = frozenset(
    "buka tutup libur open opened opens closed close beroperasi operasional melayani".split()
)
AFTER_TOMORROW = frozenset(("lusa",))
MONTHS = {
    word: n
    for n, words in enumerate((
        "januari january jan", "februari february feb pebruari", "maret march mar",
        "april apr", "mei may", "juni june jun", "juli july jul",
        "agustus august agu agt aug", "september sept sep", "oktober october okt oct",
        "november nov nop", "desember december des dec",
    ), start=1)
    for word in words.split()
}
DATE_MARKERS = frozenset("tanggal tgl tang date".split())


def date_in(tokens: list[str], today: date) -> date | None:
    """A calendar day in words: "25 desember", "december 25th", "tgl 25" (this month, or the
    next when it has passed), with an optional year; the next such day from ``today``."""
    for n, token in enumerate(tokens):
        day = _day_number(token)
        if day is None:
            continue
        before = tokens[n - 1] if n > 0 else ""
        after = tokens[n + 1] if n + 1 < len(tokens) else ""
        month = MONTHS.get(after) or MONTHS.get(before)
        if month is None and before not in DATE_MARKERS:
            continue
        year_at = n + 2 if MONTHS.get(after) else n + 1
        given = tokens[year_at] if year_at < len(tokens) else ""
        year = int(given) if given.isdigit() and len(given) == 4 else None
        if month is None:  # "tgl 25": this month's, or next month's once it has passed
            month = today.month if day >= today.day else today.month % 12 + 1
            year = year or (today.year if month >= today.month else today.year + 1)
        try:
            found = date(year or today.year, month, day)
        except ValueError:
            return None
        if year is None and found < today:
            found = found.replace(year=today.year + 1)
        return found
    return None


def _day_number(token: str) -> int | None:
    """25, 25th, 1st, 2nd, 3rd: a day of the month."""
    digits = token[:-2] if token[-2:] in ("st", "nd", "rd", "th") else token
    if digits.isdigit() and 1 <= int(digits) <= 31:
        return int(digits)
    return None


@dataclass(frozen=True)
class ComplaintIntent:
    category: str  # levy | behaviour | slow | general
    start: int
    end: int


class Intents:
    """Finds the intents in normalised words; built once (phrases tokenised up front)."""

    def __init__(self) -> None:
        # In this order: the most specific reason first, illegal fees before anything.
        self._complaints = [KeywordIndex({reason: list(words)}) for reason, words in (
            ("levy", LEVY), ("behaviour", BEHAVIOUR), ("slow", SLOW), ("general", GENERAL))]
        self._status = KeywordIndex({"status": list(STATUS)})
        self._not_ours = KeywordIndex({"elsewhere": list(NOT_OURS)})
        days = {"today": list(TODAY), "tomorrow": list(TOMORROW)}
        days.update({str(n): list(words) for n, words in enumerate(WEEKDAY_WORDS)})
        self._days = KeywordIndex(days)

    def complaint(self, tokens: list[str]) -> ComplaintIntent | None:
        """Illegal fees first: "minta uang" wins over a general "mau lapor" in one message."""
        for index in self._complaints:
            hit = index.find(tokens)
            if hit is not None:
                return ComplaintIntent(hit.target, hit.start, hit.end)
        return None

    def not_ours(self, tokens: list[str]) -> bool:
        return self._not_ours.find(tokens) is not None

    def status(self, tokens: list[str]) -> bool:
        return self._status.find(tokens) is not None

    def open_day(self, tokens: list[str], today: date) -> date | None:
        """The day asked about in "sabtu buka?", "hari ini buka?", "open on Friday?", "lusa
        buka?", "tgl 25 desember buka?" (None when no day is named)."""
        if not OPEN_WORDS.intersection(tokens):
            return None
        if AFTER_TOMORROW.intersection(tokens):
            return today + timedelta(days=2)
        hit = self._days.find(tokens)
        if hit is None:
            return date_in(tokens, today)
        if hit.target == "today":
            return today
        if hit.target == "tomorrow":
            return today + timedelta(days=1)
        return today + timedelta(days=(int(hit.target) - today.weekday()) % 7)

    @staticmethod
    def small_talk(tokens: list[str]) -> str | None:
        """thanks | goodbye | greeting | acknowledge when the message is nothing else."""
        words = set(tokens)
        if not words or not words <= GREETINGS | THANKS | GOODBYE | ACKNOWLEDGE | POLITE:
            return None
        for kind, vocabulary in (("thanks", THANKS), ("goodbye", GOODBYE),
                                 ("greeting", GREETINGS), ("acknowledge", ACKNOWLEDGE)):
            if words & vocabulary:
                return kind
        return None

    @staticmethod
    def without_greeting(tokens: list[str]) -> list[str]:
        """ "halo min, syarat ktp?" -> the question after the greeting."""
        n = 0
        while n < len(tokens) and tokens[n] in GREETINGS | POLITE - {"info", "informasi"}:
            n += 1
        return tokens[n:]
