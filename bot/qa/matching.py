"""Matches a citizen's free-text question to a (service, topic) pair, or abstains."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.qa.knowledge import OFFICE_ID, KnowledgeBase

# --- language data: how people write, not what the office offers ------------------------------

# Short forms, slang and common misspellings -> the standard word (one token to one or more).
SLANG: dict[str, str] = {
    "brp": "berapa", "brapa": "berapa", "berapakah": "berapa", "brpa": "berapa",
    "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana", "gmana": "bagaimana",
    "bagaimanakah": "bagaimana", "gmna": "bagaimana",
    "bikin": "buat", "bkin": "buat", "bikinnya": "buat", "membuat": "buat", "pembuatan": "buat",
    "ngurus": "urus", "ngurusnya": "urus", "mengurus": "urus", "pengurusan": "urus",
    "aja": "saja", "ajah": "saja", "doang": "saja",
    "ga": "tidak", "gak": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak",
    "engga": "tidak", "tdk": "tidak", "tak": "tidak", "gk": "tidak", "g": "tidak",
    "dll": "dan lain lain", "dsb": "dan sebagainya",
    "yg": "yang", "utk": "untuk", "untk": "untuk", "dgn": "dengan", "dg": "dengan",
    "dmn": "dimana", "dmana": "dimana", "dimn": "dimana", "kmn": "kemana",
    "kpn": "kapan", "jd": "jadi", "sy": "saya", "aq": "saya", "aku": "saya", "gue": "saya",
    "gw": "saya", "gua": "saya", "ane": "saya", "ku": "saya", "mu": "kamu", "sya": "saya",
    "bs": "bisa", "bsa": "bisa", "hrs": "harus", "sm": "sama",
    "lg": "lagi", "udh": "sudah", "udah": "sudah", "sdh": "sudah", "blm": "belum",
    "klo": "kalau", "kalo": "kalau", "kl": "kalau", "knp": "kenapa", "pengen": "ingin",
    "pingin": "ingin", "pgn": "ingin", "mo": "mau", "bkn": "bukan", "skrg": "sekarang",
    "hr": "hari", "jm": "jam", "tmpt": "tempat", "ktr": "kantor", "syrt": "syarat",
    "srt": "surat", "sket": "surat keterangan", "bln": "bulan", "thn": "tahun", "tgl": "tanggal",
    "akte": "akta", "pasport": "paspor", "pasfor": "paspor", "pasprot": "paspor",
    "passpor": "paspor", "nyari": "cari", "daptar": "daftar", "bayarnya": "bayar",
    "pake": "pakai", "makasih": "terima kasih", "trims": "terima kasih", "pls": "please",
    "u": "you", "ur": "your", "r": "are", "im": "i am", "wanna": "want to", "gonna": "going to",
    "hrg": "harga", "biayanya": "biaya", "syaratnya": "syarat", "tarifnya": "tarif",
    "lokasinya": "lokasi", "alamatnya": "alamat", "caranya": "cara", "prosesnya": "proses",
    "prosedurnya": "prosedur", "lamanya": "lama", "jamnya": "jam", "harganya": "harga",
    "dimanakah": "dimana", "dmna": "dimana", "ongkosnya": "ongkos", "iurannya": "iuran",
    "rb": "ribu", "jt": "juta", "lma": "lama", "lm": "lama", "bya": "biaya", "aj": "saja",
    "ilang": "hilang",
    "lhr": "lahir", "kmtn": "kematian", "mati": "kematian", "skrang": "sekarang",
    "brkas": "berkas", "biyaya": "biaya", "biaya2": "biaya", "syarat2": "syarat",
    "persyaratannya": "persyaratan", "perpanjang": "perpanjangan",
    "licence": "license", "licenses": "license", "licences": "license",
}

# Topic words in both languages: phrase -> (topic, weight). Longer phrases are matched first,
# so "berapa lama" (duration) wins over "berapa" (fee) and "processing time" over "process".
TOPIC_WORDS: dict[str, tuple[str, float]] = {}


def _topic(topic: str, weight: float, *phrases: str) -> None:
    for phrase in phrases:
        TOPIC_WORDS[phrase] = (topic, weight)


_topic("requirements", 3, "syarat", "persyaratan", "prasyarat", "requirement", "requirements",
       "required documents", "what do i need", "what documents", "dokumen apa", "berkas apa",
       "kelengkapan", "apa saja yang dibawa", "apa yang dibawa", "bawa apa", "harus bawa",
       "perlu bawa", "yang diperlukan", "yang dibutuhkan", "need to bring", "what to bring",
       "documents needed", "documents", "document")
_topic("requirements", 2, "harus ada", "wajib", "wajib ada", "harus punya", "perlu ada",
       "mandatory", "required", "must", "must have", "dokumen", "berkas", "dibawa", "bawa",
       "diperlukan", "dibutuhkan",
       "bring", "needed", "ketentuan", "kriteria", "eligible", "eligibility", "persyaratannya")
_topic("requirements", 1, "perlu", "butuh", "need", "apa saja")
_topic("procedure", 3, "cara", "prosedur", "alur", "langkah", "tahapan", "mekanisme",
       "how to", "how do i", "how can i", "how do you", "procedure", "steps", "step by step",
       "tata cara", "bagaimana cara", "bagaimana urus", "bagaimana buat", "apply for",
       "how to apply", "how to get", "how to register", "how to make")
_topic("procedure", 2, "daftar", "mendaftar", "pendaftaran", "registrasi", "tahap", "apply",
       "register", "registration", "application", "process", "proses", "bagaimana",
       "how", "ujian", "tes", "test", "exam", "online", "daring", "antre", "antrean", "antri",
       "queue")
_topic("procedure", 1, "urus", "buat", "ganti", "replace", "get", "make")
_topic("fee", 3, "biaya", "tarif", "ongkos", "harga", "gratis", "iuran", "pnbp", "how much",
       "cost", "costs", "fee", "fees", "price", "tariff", "free of charge", "free", "charge",
       "contribution", "premium", "berapa bayar", "bayar berapa", "berapa duit", "berapa uang",
       "berapa rupiah", "retribusi", "pungutan", "denda", "fine", "penalty")
_topic("fee", 2, "bayar", "membayar", "dibayar", "mahal", "murah", "pay", "paid", "payment",
       "rupiah", "duit", "uang", "expensive", "cheap", "ribu", "juta", "rp", "idr")
_topic("fee", 1, "berapa")
_topic("duration", 3, "berapa lama", "berapa hari", "how long", "processing time",
       "jangka waktu", "lama proses", "lama pembuatan", "lama buat", "lama pengurusan",
       "kapan jadi", "kapan selesai", "kapan bisa diambil", "berapa jam", "how many days",
       "durasi", "duration", "turnaround", "when will", "when is it ready", "waktu proses",
       "waktu penyelesaian", "lama jadi", "lama selesai", "ditunggu", "tunggu berapa lama",
       "jadinya kapan", "how soon", "berapa minggu", "aktif kapan", "kapan aktif")
_topic("duration", 1, "jadi")
_topic("duration", 2, "lama", "lamanya", "selesai", "waktu", "ready", "take",
       "takes", "days", "hari", "sehari", "jadi hari", "finished", "done", "wait", "aktif",
       "active")
_topic("location", 3, "dimana", "di mana", "kemana", "ke mana", "lokasi", "alamat",
       "where", "location", "address", "loket", "lantai", "counter", "floor", "tempat",
       "tempatnya", "map", "peta", "maps", "denah", "letak", "ruang", "gedung", "which floor",
       "where is", "where do i go", "directions", "arah")
_topic("hours", 3, "jam buka", "jam berapa", "jam operasional", "jam pelayanan", "jam layanan",
       "jam kerja", "opening hours", "opening times", "office hours", "business hours",
       "what time", "buka jam", "tutup jam", "jadwal", "schedule", "hours", "jam", "buka",
       "tutup", "open", "opens", "closed", "close", "closing", "hari sabtu", "hari minggu",
       "saturday", "sunday", "weekend", "libur", "holiday", "operasional", "when open",
       "tanggal merah", "hari libur", "libur nasional", "cuti bersama", "lebaran", "holidays",
       "public holiday")
_topic("product", 3, "produk", "hasil", "hasilnya", "yang didapat", "dapat apa", "output",
       "product", "what do i get", "what will i get", "masa berlaku", "berlaku berapa lama",
       "berlaku sampai", "berlaku", "how long is it valid", "berapa lama berlaku",
       "kedaluwarsa", "kadaluarsa")
# Validity outweighs "how long" in "how long is the SKCK valid".
_topic("product", 4, "valid", "validity", "expire", "expires", "expiry")

# Words that name the office as a whole rather than a service.
OFFICE_WORDS = ("kantor", "mpp", "mal pelayanan publik", "mal pelayanan", "office", "gedung mpp",
                "building", "mall pelayanan", "this office", "your office", "kontak", "contact",
                "telepon", "telpon", "phone", "email", "surel", "whatsapp", "hubungi",
                "call center", "nomor telepon", "phone number", "website")

# Common words that must never be "corrected" into a service name by typo tolerance.
STOPWORDS = frozenset("""
saya mau ingin mohon tanya bertanya info informasi tolong apa apakah yang untuk di ke dari dan
atau dengan ini itu ada bisa boleh harus sudah belum tidak kalau jika bila baru hilang rusak
perpanjang perpanjangan bagi pak bu ibu bapak kak kakak min admin mas mbak gan dong ya yah sih nih
deh kah saja juga lagi sama kita kami anda kamu dia mereka orang warga kota hari ini nya se pada
oleh tentang mengenai soal terkait halo hai hi hello selamat pagi siang sore malam terima kasih
thanks thank the a an is are do does i my me for of to in at on can what get new lost renew
renewal please and or with your it this that there be will should much long want going am was
were have has had need if when which who whom why any some our we they them their his her he she
kenapa mengapa siapa punya sekarang besok kemarin nanti tadi masih lewat via pakai bulan tahun
tanggal mana anak cari lain sebagainya surat keterangan data nama emas game main yuk joke tell
kota harapan dapat bikin urus perlu kapan gimana jadi sampai karena agar supaya maka jam
umum biasa khusus cepat lambat pasien saat setelah sebelum masuk keluar pertama kali
senin selasa rabu kamis jumat monday tuesday wednesday thursday friday good morning afternoon
evening night today tomorrow now sekarang besok year years month months
pemula first kehilangan lose missing dicuri stolen kecopetan damaged damage broken sobek robek
patah pudar terbakar basah memperpanjang diperpanjang renewing extend extension penggantian
replacement expired penuh full habis perubahan changed update koreksi salah correction chip
ordinary regular percepatan kilat express expedited urgent out leaving arriving pendatang
telat terlambat late
""".split())

# "berlaku 10 tahun", "valid for 5 years": a validity stated as a number names which product
# (a 10-year passport); it does not ask how long the product is valid.
PERIOD_WORDS = frozenset("tahun year years bulan month months".split())
VALIDITY_WORDS = frozenset("berlaku valid validity".split())

SUFFIXES = ("nya", "kah", "lah", "pun")

# When two services are named, the one after a "for" word is the subject ("KTP untuk bikin
# paspor") and the one after a "with" word is a means ("berobat pakai BPJS").
SUBJECT_MARKERS = frozenset("untuk buat urus daftar for apply get make register".split())
MEANS_MARKERS = frozenset(
    "pakai dengan with using ada bawa perlu butuh need punya harus pake via lewat".split()
)


VOWELS = frozenset("aeiou")


def _skeleton(word: str) -> str:
    """The first letter and the consonants after it: "perpanjang" and "prpnjang" -> "prpnjng"."""
    return word[:1] + "".join(ch for ch in word[1:] if ch not in VOWELS)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower().replace("'s ", " ").replace("'", "")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _expand(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        out.extend(SLANG.get(token, token).split())
    return out


def tokens_of(text: str) -> list[str]:
    """Folded, slang-expanded tokens: 'Brp biaya e-KTP?' -> ['berapa', 'biaya', 'e', 'ktp']."""
    return _expand(_fold(text).split())


def _stated_validity(tokens: list[str]) -> set[int]:
    """Positions of a validity stated as a number, such as "berlaku 10 tahun"."""
    stated: set[int] = set()
    for index, token in enumerate(tokens[:-1]):
        if token.isdigit() and tokens[index + 1] in PERIOD_WORDS:
            before = index - 1
            while before >= 0 and tokens[before] in ("for", "selama"):
                before -= 1
            if before >= 0 and tokens[before] in VALIDITY_WORDS:
                stated |= set(range(before, index + 2))
    return stated


@dataclass
class Match:
    service_id: str | None  # a service id, "office", or None when abstaining
    topic: str | None
    score: float  # 0-100: how sure the matcher is of the service
    suggestions: list[str] = field(default_factory=list)  # service ids, closest first


_Phrase = tuple[tuple[str, ...], str, float]  # words, topic, weight


def _index_phrases(phrases: Iterable[_Phrase]) -> dict[str, list[_Phrase]]:
    index: dict[str, list[_Phrase]] = {}
    for phrase in phrases:
        if phrase[0]:
            index.setdefault(phrase[0][0], []).append(phrase)
    return index


@dataclass(frozen=True)
class _Alias:
    service_id: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class _Hit:
    service_id: str
    start: int
    end: int  # exclusive
    size: int  # alias tokens matched
    score: float


CONFIDENT = 80.0  # below this service score the matcher abstains
CONFIDENT_FEE = 90.0  # a wrong fee is worse than none: a typo in a one-word name is too much
PARTIAL = 84.0  # one distinctive word of a service's name


class Matcher:
    """Indexes the knowledge base once; ``match`` is then cheap per question."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._aliases_by_token: dict[str, list[_Alias]] = {}
        # Topic phrases by their first word; a service's own topic words come first.
        self._service_topics: dict[str, dict[str, list[_Phrase]]] = {}
        for service in kb.services.values():
            for phrase in {*service.all_names(), service.id.replace("-", " ")}:
                self._add_alias(service.id, tokens_of(phrase))
            self._service_topics[service.id] = _index_phrases(
                (tuple(tokens_of(word)), topic, 3.0)
                for topic, words in service.topic_aliases.items()
                for word in words.all()
            )
        office_phrases = [tokens_of(p) for p in OFFICE_WORDS]
        self._office_phrases = sorted({tuple(p) for p in office_phrases if p}, key=len,
                                      reverse=True)
        self._topics_index = _index_phrases(
            (tuple(tokens_of(p)), t, w) for p, (t, w) in TOPIC_WORDS.items()
        )
        topic_vocab = {
            tok for bucket in self._topics_index.values() for phrase, _t, _w in bucket
            for tok in phrase
        }
        office_vocab = {tok for phrase in self._office_phrases for tok in phrase}
        self._alias_vocab = {
            tok for bucket in self._aliases_by_token.values() for a in bucket for tok in a.tokens
        }
        # The words of a service's cases ("PT", "CV", "balita", "motor") are read as written,
        # never "corrected" into another word ("pt" is no "peta").
        case_vocab = {
            tok for service in kb.services.values()
            for keywords in (*(g.keywords for g in service.requirements),
                             *(v.keywords for v in service.fee.variants))
            for phrase in keywords.all() for tok in tokens_of(phrase)
        }
        self._known = self._alias_vocab | topic_vocab | office_vocab | STOPWORDS | case_vocab | {
            tok for value in SLANG.values() for tok in value.split()
        }
        # Typo tolerance only corrects towards content words, longest first to keep it stable.
        self._correctable = sorted(
            (w for w in self._alias_vocab | topic_vocab if len(w) >= 4),
            key=lambda w: (-len(w), w),
        )
        self._correct = lru_cache(maxsize=4096)(self._correct_uncached)
        # Chat writing drops vowels ("prpnjang", "bya", "mch"): such a word is the one content
        # word with the same consonants, when exactly one has them.
        skeletons: dict[str, set[str]] = {}
        for word in self._alias_vocab | topic_vocab:
            if len(word) >= 3 and word.isalpha():
                skeletons.setdefault(_skeleton(word), set()).add(word)
        for short, word in SLANG.items():  # "perpanjang" -> "perpanjangan" for "prpnjang"
            if len(short) >= 4 and " " not in word and sum(ch in VOWELS for ch in short) > 1:
                skeletons.setdefault(_skeleton(short), set()).add(word)
        self._skeletons = {k: next(iter(v)) for k, v in skeletons.items() if len(v) == 1}
        # A content word only one service uses ("kelahiran", "immigration") still points to
        # it when the rest of its name is missing, with less certainty than a full name.
        owners: dict[str, set[str]] = {}
        for bucket in self._aliases_by_token.values():
            for alias in bucket:
                for tok in alias.tokens:
                    owners.setdefault(tok, set()).add(alias.service_id)
        generic = STOPWORDS | topic_vocab | office_vocab
        self._distinctive = {
            tok: next(iter(ids)) for tok, ids in owners.items()
            if len(ids) == 1 and len(tok) >= 4 and tok not in generic
        }
        # The unit that serves a service ("Disdukcapil", "Polres") only suggests it: one unit
        # serves several services. Its words are known, so "jam layanan disdukcapil" is an
        # office-hours question rather than a question about something unknown.
        for service in kb.services.values():
            for tok in tokens_of(f"{service.location.unit.id} {service.location.unit.en or ''}"):
                owners.setdefault(tok, set()).add(service.id)
                self._known.add(tok)
        self._owners = {tok: sorted(ids) for tok, ids in owners.items() if tok not in generic}

    def _add_alias(self, service_id: str, tokens: list[str]) -> None:
        if not tokens:
            return
        variants = {tuple(tokens)}
        if len(tokens) > 1:
            # "e ktp" is also typed "ektp", "ktp el" as "ktpel".
            variants.add(("".join(tokens),))
        for variant in variants:
            alias = _Alias(service_id, variant)
            bucket = self._aliases_by_token.setdefault(variant[0], [])
            if alias not in bucket:
                bucket.append(alias)

    # --- normalisation ----------------------------------------------------------------------

    def _correct_uncached(self, token: str) -> tuple[str, bool]:
        """A known word for ``token``: itself, without a suffix, or the nearest by one or two
        edits. The flag says whether it was changed by typo tolerance."""
        if token in self._known or token.isdigit():
            return token, False
        for suffix in SUFFIXES:
            stem = token.removesuffix(suffix)
            if stem != token and stem in self._known:
                return stem, False
        for suffix, replacement in (("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("d", "")):
            stem = token.removesuffix(suffix)
            if stem != token and stem + replacement in self._known:
                return stem + replacement, False
        if sum(ch in VOWELS for ch in token[1:]) <= 1 and token.isalpha():
            word = self._skeletons.get(_skeleton(token))
            if word is not None:
                return word, True
        if len(token) < 4:
            return token, False
        # A misspelt word with a suffix ("syratnya") is corrected without it.
        for candidate in dict.fromkeys((token, *(token.removesuffix(s) for s in SUFFIXES))):
            if len(candidate) < 4:
                continue
            max_edits = 1 if len(candidate) <= 6 else 2
            found = process.extractOne(
                candidate, self._correctable, scorer=Levenshtein.distance,
                score_cutoff=max_edits,
            )
            if found is not None:
                return found[0], True
        return token, False

    def normalise(self, question: str) -> tuple[list[str], list[bool]]:
        """Tokens of the question with slang expanded and typos corrected, plus which were
        corrected (those count for less)."""
        tokens, fuzzy = [], []
        for token in tokens_of(question):
            word, corrected = self._correct(token)
            tokens.append(word)
            fuzzy.append(corrected)
        return tokens, fuzzy

    # --- matching ---------------------------------------------------------------------------

    def is_known(self, token: str) -> bool:
        """Whether the word is one the matcher reads (a name, topic, office or common word)."""
        return token in self._known

    def topic_of(self, tokens: list[str], service_id: str | None = None) -> str | None:
        """The strongest topic named in normalised tokens (None when none is)."""
        return self._topics(tokens, service_id)

    def service_hits(self, tokens: list[str], fuzzy: list[bool]) -> list[_Hit]:
        """Where services are named in normalised tokens (see ``normalise``)."""
        return self._service_hits(tokens, fuzzy)

    def _service_hits(self, tokens: list[str], fuzzy: list[bool]) -> list[_Hit]:
        hits: list[_Hit] = []
        for start, token in enumerate(tokens):
            for alias in self._aliases_by_token.get(token, ()):
                end = start + len(alias.tokens)
                if tuple(tokens[start:end]) != alias.tokens:
                    continue
                corrected = sum(fuzzy[start:end])
                # One corrected token in a long alias costs less than in a short one.
                score = 100.0 - 18.0 * corrected / len(alias.tokens)
                hits.append(_Hit(alias.service_id, start, end, len(alias.tokens), score))
        for index, token in enumerate(tokens):
            owner = self._distinctive.get(token)
            if not owner or any(h.start <= index < h.end for h in hits):
                continue
            # A word we do not know next to it makes it part of another name: "pajak
            # kendaraan" (vehicle tax) is not the tax number, nor "vehicle tax" in English.
            neighbours = tokens[max(0, index - 1) : index] + tokens[index + 1 : index + 2]
            if any(word not in self._known for word in neighbours):
                continue
            hits.append(_Hit(owner, index, index + 1, 1, PARTIAL - 18.0 * fuzzy[index]))
        return hits

    @staticmethod
    def _role(tokens: list[str], hit: _Hit) -> int:
        """+1 when the service is named as the subject, -1 as a means, 0 when unclear."""
        before = set(tokens[max(0, hit.start - 2) : hit.start])
        if before & MEANS_MARKERS:
            return -1
        if before & SUBJECT_MARKERS:
            return 1
        return 0

    def _topics(
        self, tokens: list[str], service_id: str | None, used: set[int] | None = None
    ) -> str | None:
        """The strongest topic named in the question outside the positions already ``used``
        (by the service's name: "change of address" is not a location question). Longer
        phrases claim their words first, so "berapa lama" is duration, not "berapa" (fee)."""
        spans = self.topic_spans(tokens, service_id, used)
        weights: dict[str, float] = {}
        first: dict[str, int] = {}
        for start, _end, topic, weight in spans:
            weights[topic] = weights.get(topic, 0.0) + weight
            first[topic] = min(first.get(topic, start), start)
        if not weights:
            return None
        return max(weights, key=lambda t: (weights[t], -first[t]))

    def topic_spans(
        self, tokens: list[str], service_id: str | None, used: set[int] | None = None
    ) -> list[tuple[int, int, str, float]]:
        """Every topic phrase in the question as (start, end, topic, weight), longest phrases
        claiming their words first, outside the positions already ``used``."""
        used = set(used or ())
        indexes = [self._service_topics.get(service_id or "", {}), self._topics_index]
        found: list[tuple[int, int, str, float]] = []
        for start, token in enumerate(tokens):
            for index in indexes:
                for phrase, topic, weight in index.get(token, ()):
                    if tuple(tokens[start : start + len(phrase)]) == phrase:
                        found.append((len(phrase), start, topic, weight))
        found.sort(key=lambda item: (-item[0], item[1]))
        spans: list[tuple[int, int, str, float]] = []
        for size, start, topic, weight in found:
            span = set(range(start, start + size))
            if used & span:
                continue
            used |= span
            spans.append((start, start + size, topic, weight))
        return spans

    def _mentions_office(self, tokens: list[str]) -> bool:
        for phrase in self._office_phrases:
            size = len(phrase)
            if any(tuple(tokens[i : i + size]) == phrase for i in range(len(tokens) - size + 1)):
                return True
        return False

    def _suggest(self, tokens: list[str], hits: list[_Hit], limit: int = 3) -> list[str]:
        """Services named (even in part) in the question, best first; then those sharing a
        word of their names with it ("certificate")."""
        ranked: list[str] = []
        for hit in sorted(hits, key=lambda h: (-h.score, -h.size, h.start)):
            if hit.service_id not in ranked:
                ranked.append(hit.service_id)
        for token in tokens:
            for service_id in self._owners.get(token, ()):
                if service_id not in ranked:
                    ranked.append(service_id)
        return ranked[:limit]

    def match(self, question: str, lang: str = "id") -> Match:
        """The (service, topic) the question is about; service None when not confident.

        ``lang`` is the user's language; topic words of both languages are always read,
        because citizens mix them ("biaya passport").
        """
        del lang  # both languages' words are always read, see above
        tokens, fuzzy = self.normalise(question)
        hits = self._service_hits(tokens, fuzzy)
        if hits:
            best = max(hits, key=lambda h: (h.score, h.size, -h.start))
            topic = self._topics(tokens, best.service_id, set(range(best.start, best.end)))
            # Other services named on tokens the best hit does not cover, as clearly; for a fee
            # even a partly named one is enough doubt ("birth or death certificate price").
            rivals = [
                h for h in hits
                if h.service_id != best.service_id
                and (h.end <= best.start or h.start >= best.end)
                and (h.score >= PARTIAL if topic == "fee"
                     else h.size >= best.size and h.score >= max(best.score - 10, CONFIDENT))
            ]
            tied = False
            if rivals:
                ranked = sorted([best, *rivals], key=lambda h: (-self._role(tokens, h), h.start))
                tied = self._role(tokens, ranked[0]) == self._role(tokens, ranked[1])
                if ranked[0] is not best:
                    best = ranked[0]
                    topic = self._topics(tokens, best.service_id, set(range(best.start, best.end)))
            if topic == "product" and (stated := _stated_validity(tokens)):
                # "biaya paspor berlaku 10 tahun": the price of the 10-year one is asked.
                used = set(range(best.start, best.end)) | stated
                if self._topics(tokens, best.service_id, used) == "fee":
                    topic = "fee"
            if topic is None and best.score <= PARTIAL:
                # One word of a name and nothing asked about it: too little to go on.
                return Match(None, None, best.score, self._suggest(tokens, hits))
            topic = topic or "overview"
            needed = CONFIDENT_FEE if topic == "fee" else CONFIDENT
            if best.score < needed or (tied and topic == "fee"):
                return Match(None, None, best.score, self._suggest(tokens, hits))
            return Match(best.service_id, topic, best.score)
        topic = self._topics(tokens, None)
        if self._mentions_office(tokens) and topic in (None, "hours", "location", "overview"):
            return Match(OFFICE_ID, topic or "overview", 90.0)
        # A word we do not know ("jadwal kereta") means the question is about something else.
        all_known = all(token in self._known for token in tokens)
        if all_known and (topic == "hours" or (topic == "location" and len(tokens) <= 6)):
            # "jam buka?", "alamatnya dimana?": with no service named, the office is meant (a
            # long "where" question naming nothing we know is more likely about elsewhere).
            return Match(OFFICE_ID, topic, 85.0)
        return Match(None, None, 0.0, self._suggest(tokens, hits))
