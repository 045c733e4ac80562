"""Variants of a service (new, lost, damaged, renewal; SIM A/C/D; class III): which one a
question asks about, among a service's requirement groups and fee lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.qa.knowledge import Service
from bot.qa.matching import STOPWORDS, TOPIC_WORDS, tokens_of

# The words citizens use for a case, in both languages -> one canonical word. Labels in the
# knowledge base are read through the same table, so "Lost or damaged passport" and "KK
# hilang" both carry "hilang".
CASE_WORDS: dict[str, tuple[str, ...]] = {
    "baru": ("baru", "new", "pemula", "pertama", "first"),
    "hilang": ("hilang", "kehilangan", "lost", "lose", "missing", "hilangnya", "dicuri",
               "stolen", "kecopetan"),
    "rusak": ("rusak", "damaged", "damage", "broken", "sobek", "robek", "patah", "pudar",
              "terbakar", "basah"),
    "perpanjangan": ("perpanjangan", "memperpanjang", "diperpanjang", "renew", "renewal",
                     "renewing", "extend", "extension"),
    "penggantian": ("penggantian", "replacement", "replace", "expired", "kedaluwarsa",
                    "kadaluarsa", "penuh", "full", "habis"),
    "perubahan": ("perubahan", "ubah", "change", "changed", "update", "koreksi", "salah",
                  "tambah", "correction"),
    "elektronik": ("elektronik", "electronic", "epaspor", "epassport", "chip"),
    "biasa": ("biasa", "ordinary", "regular", "nonelektronik", "nonelectronic"),
    "percepatan": ("percepatan", "kilat", "express", "expedited", "urgent", "cepat", "fast",
                   "faster", "quick", "quicker", "sooner", "rush", "secepatnya", "mendesak"),
    "keluar": ("keluar", "out", "leaving"),
    "datang": ("datang", "arriving", "masuk", "pendatang"),
}
CANONICAL = {word: key for key, words in CASE_WORDS.items() for word in words}
# Written apart from the word they qualify ("non-elektronik", "e-paspor"): read together.
PREFIXES = frozenset(("non", "e"))
# Two readings of one dimension cannot both hold: a follow-up's word replaces the remembered
# one ("biaya SIM A" then "yang perpanjangan?" keeps A, "kalau SIM D?" replaces it).
CASES = frozenset(CASE_WORDS)
CLASS_MARKERS = frozenset(("sim", "kelas", "class", "golongan", "gol", "type", "tipe", "jenis"))
CLASS_VALUES = {"a": "a", "b": "b", "c": "c", "d": "d", "i": "1", "ii": "2", "iii": "3",
                "1": "1", "2": "2", "3": "3", "b1": "b1", "b2": "b2"}
AGE_UNITS = frozenset(("tahun", "years", "year", "yo"))
AGE_MARKERS = frozenset(("umur", "usia", "age", "aged", "berumur", "berusia"))
# Age ranges in a label: "di bawah 5 tahun", "under 5", "5 sampai 17 tahun", "aged 5 to 17".
UNDER_RE = re.compile(r"\b(?:di bawah|dibawah|under|below|kurang dari)\s+(\d+)")
RANGE_RE = re.compile(r"\b(\d+)\s*(?:sampai|hingga|to|-)\s*(\d+)\b")
NUMBER_WORDS = {"satu": "1", "dua": "2", "tiga": "3", "one": "1", "two": "2", "three": "3"}


def variant_words(tokens: Iterable[str], extra: frozenset[str] = frozenset()) -> list[str]:
    """The canonical variant words among ``tokens``: case words, a class after its marker
    ("sim d", "kelas III" -> "3"), an age ("umur 10 tahun" -> "age:10"), and any of ``extra``
    (a service's own variant keywords)."""
    words: list[str] = []
    previous = ""
    tokens = list(tokens)
    skip = False
    for n, token in enumerate(tokens):
        following = tokens[n + 1] if n + 1 < len(tokens) else ""
        if skip:  # the word after a prefix, read with it
            skip = False
            previous = token
            continue
        if token in PREFIXES and token + following in CANONICAL:
            word = CANONICAL[token + following]  # "non-elektronik" is "biasa"
            skip = True
        elif token.isdigit() and (following in AGE_UNITS or previous in AGE_MARKERS):
            word = f"age:{int(token)}"
        elif previous in CLASS_MARKERS and token in CLASS_VALUES | NUMBER_WORDS.keys():
            word = "class:" + (CLASS_VALUES.get(token) or NUMBER_WORDS[token])
        elif token in CANONICAL:
            word = CANONICAL[token]
        elif token in extra:
            word = token
        elif singular(token) in extra:  # "companies" in a label, "company" asked
            word = singular(token)
        else:
            previous = token
            continue
        if word not in words:
            words.append(word)
        previous = token
    return words


def merge(remembered: Iterable[str], new: Iterable[str]) -> tuple[str, ...]:
    """A follow-up's variant words on top of the remembered ones, one per dimension."""
    new = list(new)
    new_has_case = any(w in CASES for w in new)
    # The kind asked: a class ("SIM D") or a case's own keyword ("motor", "perusahaan"); a new
    # one replaces the remembered kind ("biaya SIM A", then "kalau yang motor?").
    new_has_kind = any(_is_kind(w) for w in new)
    kept = [
        w for w in remembered
        if not ((w in CASES and new_has_case) or (_is_kind(w) and new_has_kind))
    ]
    return tuple(dict.fromkeys([*kept, *new]))


def _is_kind(word: str) -> bool:
    return word not in CASES and not word.startswith("age:")


TOPIC_VOCABULARY = frozenset(t for phrase in TOPIC_WORDS for t in tokens_of(phrase))


@dataclass(frozen=True)
class Option:
    """One requirement group or fee line, with the variant words that describe it."""

    index: int
    words: frozenset[str]
    ages: tuple[int, int] | None = None  # the ages it is for, both ends included

    def fits_age(self, asked: set[str]) -> bool:
        if self.ages is None:
            return False
        low, high = self.ages
        return any(low <= int(w[4:]) <= high for w in asked if w.startswith("age:"))


def _ages(*texts: str | None) -> tuple[int, int] | None:
    for text in texts:
        folded = " ".join(tokens_of(text or ""))
        under = UNDER_RE.search(folded)
        if under:
            return 0, int(under.group(1)) - 1
        between = RANGE_RE.search(folded)
        if between:
            return int(between.group(1)), int(between.group(2))
    return None


def singular(word: str) -> str:
    """English plural to singular, enough for labels ("companies" -> "company")."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3 and sum(
        ch in "aeiou" for ch in word
    ) > 1:  # not an acronym ("bpjs")
        return word[:-1]
    return word


def _label_words(*texts: str | None, keywords: Iterable[str] = ()) -> frozenset[str]:
    words: set[str] = set()
    for text in (*texts, *keywords):
        if text:
            tokens = tokens_of(text)
            words.update(variant_words(tokens, frozenset(tokens)))
            # "non-elektronik" says what the line is not: neither word describes it.
            negated = {n + 1 for n, t in enumerate(tokens) if t == "non"}
            words.update(singular(t) for n, t in enumerate(tokens)
                         if n not in negated and t != "non")
    return frozenset(words)


def requirement_options(service: Service) -> list[Option]:
    options = []
    for i, group in enumerate(service.requirements):
        texts = (group.label.id, group.label.en) if group.label else ()
        options.append(Option(i, _label_words(group.variant, *texts,
                                              keywords=group.keywords.all()), _ages(*texts)))
    return options


def fee_options(service: Service) -> list[Option]:
    """Index 0 is the main amount (``fee.label``), then the variants from 1."""
    fee = service.fee
    options = []
    if fee.amount is not None:
        label = fee.label
        options.append(Option(0, _label_words(label.id if label else None,
                                              label.en if label else None)))
    for i, variant in enumerate(fee.variants, 1):
        options.append(Option(i, _label_words(variant.label.id, variant.label.en,
                                              keywords=variant.keywords.all())))
    return options


def service_keywords(service: Service) -> frozenset[str]:
    """Words that point to one of the service's variants: its variants' keywords ('balita'
    for a KIA group, 'motor' for SIM C) and the distinctive words of their labels
    ('companies', 'pisah'). Common words, topic words and, in labels, the service's own name
    ("di bawah lima tahun", "paspor", "iuran") do not point to a variant on their own."""
    declared = [k for group in service.requirements for k in group.keywords.all()]
    declared += [k for variant in service.fee.variants for k in variant.keywords.all()]
    labels = [g.label for g in service.requirements if g.label] + [v.label for v in
                                                                     service.fee.variants]
    if service.fee.label:
        labels.append(service.fee.label)
    texts = [t for label in labels for t in (label.id, label.en) if t]
    named = {t for name in service.all_names() for t in tokens_of(name)}

    def words_of(text: str, *, skip: set[str], shortest: int = 3) -> set[str]:
        return {
            singular(t) for t in tokens_of(text)
            if len(t) >= shortest and t.isalpha() and t not in STOPWORDS and t not in skip
            and t not in TOPIC_VOCABULARY
        }

    # A keyword given for a case counts even when it is also in one of the service's names
    # ("motor" for SIM C, though "SIM motor" names the service); a label's words do not.
    words = set().union(*(words_of(k, skip=set(), shortest=2) for k in declared))  # "PT"
    return frozenset(words.union(*(words_of(t, skip=named) for t in texts)))


def pick(options: list[Option], asked: Iterable[str]) -> int | None:
    """The option the asked variant words fit best; None when none fits or nothing told apart
    (then the answer lists them all). Ties go to the first listed (the usual case)."""
    best = picks(options, asked)
    return best[0] if best else None


def picks(options: list[Option], asked: Iterable[str]) -> list[int]:
    """Every option the asked variant words fit best, in order ("paspor 10 tahun": the
    ordinary and the electronic one); empty when none fits."""
    asked = set(asked)
    if not asked or len(options) < 2:
        return []
    scores = [len(asked & option.words) + option.fits_age(asked) for option in options]
    best = max(scores)
    if best == 0:
        return []
    return [option.index for option, score in zip(options, scores, strict=True) if score == best]
