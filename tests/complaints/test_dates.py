"""The day of a complaint as citizens write it, in Indonesian and English, typed at the date
question or found in the description."""

from __future__ import annotations

from datetime import date

import pytest

from bot.complaints.access import InvalidInput
from bot.complaints.dates import day_in_text, parse_occurred_on, recent_days

TODAY = date(2026, 11, 19)  # a Thursday


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("kemarin siang", date(2026, 11, 18)),
        ("tadi pagi", TODAY),
        ("hari ini", TODAY),
        ("2 hari lalu", date(2026, 11, 17)),
        ("dua hari yang lalu", date(2026, 11, 17)),
        ("kemarin lusa", date(2026, 11, 17)),
        ("senin kemarin", date(2026, 11, 16)),
        ("Senin lalu", date(2026, 11, 16)),
        ("hari senin", date(2026, 11, 16)),
        ("kamis lalu", date(2026, 11, 12)),  # today is Thursday: last week's
        ("minggu lalu", date(2026, 11, 12)),  # last week, not a Sunday
        ("hari minggu", date(2026, 11, 15)),
        ("tadi malam", date(2026, 11, 18)),
        ("kemarin jam 10", date(2026, 11, 18)),
        ("pukul 10.30 WIB kemarin", date(2026, 11, 18)),
        ("12 Nov", date(2026, 11, 12)),
        ("12 november 2025", date(2025, 11, 12)),
        ("12 Des", date(2025, 12, 12)),  # this year's is still to come: last year's
        ("17 Agustus 2026", date(2026, 8, 17)),
        ("12/11", date(2026, 11, 12)),
        ("17/08/2026", date(2026, 8, 17)),
        ("2026-11-17", date(2026, 11, 17)),
        ("17-11-26", date(2026, 11, 17)),
        ("yesterday afternoon", date(2026, 11, 18)),
        ("this morning", TODAY),
        ("last night", date(2026, 11, 18)),
        ("3 days ago", date(2026, 11, 16)),
        ("last monday", date(2026, 11, 16)),
        ("Nov 3", date(2026, 11, 3)),
    ],
)
def test_days_in_words(typed: str, day: date) -> None:
    assert parse_occurred_on(typed, TODAY) == day


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("besok", "bad_date"),
        ("besok lusa", "bad_date"),
        ("pagi", "bad_date"),
        ("2 minggu", "bad_date"),
        ("31 Feb", "bad_date"),
        ("soon", "bad_date"),
        ("21/11/2026", "future_date"),
        ("12 Nov 2027", "future_date"),
    ],
)
def test_what_is_not_a_past_day(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_occurred_on(typed, TODAY)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("story", "day"),
    [
        ("Tadi pagi saya dimintai uang di loket 3", TODAY),
        ("kemarin siang dimintai uang Rp50.000", date(2026, 11, 18)),
        ("I was asked for money yesterday at counter 2", date(2026, 11, 18)),
        ("On 12 Nov the officer shouted at my mother", date(2026, 11, 12)),
        ("hari senin saya datang jam 8, baru dilayani jam 12", date(2026, 11, 16)),
        # Nothing that names a day: the date question is asked.
        ("Petugas loket 3 meminta uang Rp50.000 agar KTP cepat jadi.", None),
        ("sudah 2 minggu menunggu KTP", None),  # two weeks, not a Sunday
        ("antre dari jam 8 pagi sampai siang", None),
        ("dimintai uang", None),
    ],
)
def test_the_day_a_description_names(story: str, day: date | None) -> None:
    assert day_in_text(story, TODAY) == day


def test_the_other_days_offered_as_buttons() -> None:
    days = recent_days(TODAY)
    assert days[0] == date(2026, 11, 17) and days[-1] == date(2026, 11, 11) and len(days) == 7
