"""The day a complaint is about, as citizens write it: "17/08/2026", "kemarin siang",
"tadi pagi", "2 hari lalu", "senin kemarin", "yesterday afternoon", "12 Nov"; typed on its own
at the date question, or found in the description (then the question is not asked at all).

A part of the day or a time ("siang", "jam 10", "pukul 10.30 WIB") is read past: the ticket
keeps the day. Never a day in the future.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.complaints.access import InvalidInput

_MONTHS = {
    **dict.fromkeys(("jan", "januari", "january"), 1),
    **dict.fromkeys(("feb", "peb", "februari", "pebruari", "february"), 2),
    **dict.fromkeys(("mar", "maret", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("jun", "juni", "june"), 6),
    **dict.fromkeys(("jul", "juli", "july"), 7),
    **dict.fromkeys(("agu", "agt", "ags", "agus", "agustus", "aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("okt", "oktober", "oct", "october"), 10),
    **dict.fromkeys(("nov", "nop", "november", "nopember"), 11),
    **dict.fromkeys(("des", "desember", "dec", "december"), 12),
}
_WEEKDAYS = {
    **dict.fromkeys(("senin", "monday", "mon"), 0),
    **dict.fromkeys(("selasa", "tuesday", "tue"), 1),
    **dict.fromkeys(("rabu", "wednesday", "wed"), 2),
    **dict.fromkeys(("kamis", "thursday", "thu"), 3),
    **dict.fromkeys(("jumat", "jum'at", "friday", "fri"), 4),
    **dict.fromkeys(("sabtu", "saturday", "sat"), 5),
    **dict.fromkeys(("minggu", "ahad", "sunday", "sun"), 6),
}
_NUMBER_WORDS = {
    "se": 1, "satu": 1, "a": 1, "one": 1, "dua": 2, "two": 2, "tiga": 3, "three": 3,
    "empat": 4, "four": 4, "lima": 5, "five": 5, "enam": 6, "six": 6, "tujuh": 7, "seven": 7,
    "delapan": 8, "eight": 8, "sembilan": 9, "nine": 9, "sepuluh": 10, "ten": 10,
}
_TODAY = frozenset(("today", "tadi", "barusan"))
_YESTERDAY = frozenset(("kemarin", "kemaren", "kmrn", "kmarin", "yesterday", "semalam"))
_PAST = frozenset(("lalu", "kemarin", "kemaren", "kmrn", "last", "past", "previous"))
_AGO = frozenset(("lalu", "ago", "sebelumnya", "silam"))
_DAY_WORDS = frozenset(("hari", "day", "days"))
# Words around a day that do not change it: parts of the day, "on the", "sekitar", time zones.
_FILLERS = frozenset(
    "pagi siang sore malam subuh morning afternoon evening night noon tanggal tgl pada on the "
    "at sekitar kira around about yang wib wita wit am pm ini this".split()
)
# Phrases first, longest first, each to one word the reading below knows.
_PHRASES = (
    (r"\b(tadi|kemarin) malam\b|\blast night\b", "kemarin"),
    (r"\bhari ini\b|\bpagi ini\b|\bsiang ini\b|\bsore ini\b|\bthis (morning|afternoon)\b", "today"),
    (r"\bkemarin lusa\b|\bday before yesterday\b", "2 hari lalu"),
    (r"\bhari (minggu|ahad)\b", "sunday"),
    (r"\b(se)?minggu (yang )?(lalu|kemarin)\b|\blast week\b|\ba week ago\b", "7 hari lalu"),
)
# A time of day is read past: "jam 10", "pukul 10.30", "10:15".
_TIMES = re.compile(
    r"\b(?:jam|pukul|pkl|at)\s*\d{1,2}(?:[.:]\d{2})?\b|\b\d{1,2}[:.]\d{2}\b(?![./-]\d)"
)
_NUMERIC = (
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2})$"), ("d", "m", "yy")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})$"), ("d", "m")),
)
_OLDEST = 366  # days back a relative day may go ("400 hari lalu" is not a day anyone recalls)


def parse_occurred_on(text: str, today: date) -> date:
    """The day a citizen typed at the date question; raises InvalidInput 'bad_date' when it
    is not one, 'future_date' when it is after ``today``."""
    tokens = _tokens(text)
    day = _read(tokens, today, loose=True) if tokens else None
    if day is None:
        raise InvalidInput("bad_date")
    if day > today:
        raise InvalidInput("future_date")
    return day


def day_in_text(text: str, today: date) -> date | None:
    """The day a complaint's description names ("tadi pagi saya dimintai uang"), if it names
    one clearly; None otherwise (the date question is then asked). A weekday alone is not
    enough here ("2 minggu" is two weeks, not a Sunday)."""
    tokens = _tokens(text)
    for start in range(len(tokens)):
        if tokens[start] in _FILLERS:
            continue
        for size in (4, 3, 2, 1):
            window = tokens[start : start + size]
            if len(window) < size or window[-1] in _FILLERS:
                continue
            day = _read(window, today, loose=False)
            if day is not None and day <= today:
                return day
    return None


def recent_days(today: date, count: int = 7) -> list[date]:
    """The days before yesterday, newest first: the "another day" buttons."""
    return [today - timedelta(days=back) for back in range(2, 2 + count)]


def _tokens(text: str) -> list[str]:
    value = _TIMES.sub(" ", (text or "").lower())
    for pattern, replacement in _PHRASES:
        value = re.sub(pattern, replacement, value)
    value = re.sub(r"[,;!?()\"]|(?<!\d)[.](?!\d)", " ", value)
    return value.split()


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _read(tokens: list[str], today: date, *, loose: bool) -> date | None:
    """The day ``tokens`` name when every one of them is part of it (fillers aside)."""
    words = [t for t in tokens if t not in _FILLERS]
    if tokens and tokens[0] == "hari" and len(words) == 2 and words[1] in _WEEKDAYS:
        words = words[1:]  # "hari senin": a weekday named as such
        loose = True
    if not words:
        return None
    if len(words) == 1:
        word = words[0]
        if word in _TODAY:
            return today
        if word in _YESTERDAY:
            return today - timedelta(days=1)
        if word in _WEEKDAYS and loose:
            return today - timedelta(days=(today.weekday() - _WEEKDAYS[word]) % 7)
        return _numeric(word, today)
    if len(words) == 2:
        first, second = words
        if first in _WEEKDAYS and second in _PAST:
            return _weekday_before(today, _WEEKDAYS[first])
        if first in _PAST - _AGO and second in _WEEKDAYS:
            return _weekday_before(today, _WEEKDAYS[second])
        if second in _YESTERDAY and first in _WEEKDAYS:
            return _weekday_before(today, _WEEKDAYS[first])
        return _day_month(words, today)
    if len(words) == 3:
        count = _number(words[0])
        if count is not None and words[1] in _DAY_WORDS and words[2] in _AGO:
            return today - timedelta(days=count) if 0 < count <= _OLDEST else None
        return _day_month(words, today)
    return None


def _weekday_before(today: date, weekday: int) -> date:
    """The last ``weekday`` before today (a week ago when today is that weekday)."""
    back = (today.weekday() - weekday) % 7 or 7
    return today - timedelta(days=back)


def _numeric(token: str, today: date) -> date | None:
    for pattern, order in _NUMERIC:
        match = pattern.match(token)
        if match is None:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        if "y" in parts or "yy" in parts:
            return _date(parts.get("y") or 2000 + parts["yy"], parts["m"], parts["d"])
        return _latest(parts["d"], parts["m"], today)
    return None


def _day_month(words: list[str], today: date) -> date | None:
    """'12 nov', 'nov 12', '12 november 2026'."""
    year = None
    if len(words) == 3:
        if not (words[2].isdigit() and len(words[2]) == 4):
            return None
        year = int(words[2])
        words = words[:2]
    if words[0].isdigit() and words[1] in _MONTHS:
        day, month = int(words[0]), _MONTHS[words[1]]
    elif words[1].isdigit() and words[0] in _MONTHS:
        day, month = int(words[1]), _MONTHS[words[0]]
    else:
        return None
    if year is not None:
        return _date(year, month, day)
    return _latest(day, month, today)


def _latest(day: int, month: int, today: date) -> date | None:
    """A day and month without a year: this year's, or last year's when this year's is still
    to come."""
    found = _date(today.year, month, day)
    if found is not None and found > today:
        found = _date(today.year - 1, month, day)
    return found


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
