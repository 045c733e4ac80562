"""The satisfaction index (IKM) arithmetic of PermenPAN-RB 14/2017 and KEPMENPAN 25/2004."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

SCALE_MIN = 1
SCALE_MAX = 4
INDEX_FACTOR = 25  # a 1-4 average times 25 gives the 25-100 index

# Krejcie and Morgan (1970), "Determining sample size for research activities", Table 1:
# (population, sample) as published (chi-square 3.841, P = 0.5, d = 0.05), ascending.
KREJCIE_MORGAN_TABLE: tuple[tuple[int, int], ...] = (
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44),
    (55, 48), (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76),
    (100, 80), (110, 86), (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118),
    (180, 123), (190, 127), (200, 132), (210, 136), (220, 140), (230, 144), (240, 148), (250, 152),
    (260, 155), (270, 159), (280, 162), (290, 165), (300, 169), (320, 175), (340, 181), (360, 186),
    (380, 191), (400, 196), (420, 201), (440, 205), (460, 210), (480, 214), (500, 217), (550, 226),
    (600, 234), (650, 242), (700, 248), (750, 254), (800, 260), (850, 265), (900, 269), (950, 274),
    (1000, 278), (1100, 285), (1200, 291), (1300, 297), (1400, 302), (1500, 306), (1600, 310),
    (1700, 313), (1800, 317), (1900, 320), (2000, 322), (2200, 327), (2400, 331), (2600, 335),
    (2800, 338), (3000, 341), (3500, 346), (4000, 351), (4500, 354), (5000, 357), (6000, 361),
    (7000, 364), (8000, 367), (9000, 368), (10_000, 370), (15_000, 375), (20_000, 377),
    (30_000, 379), (40_000, 380), (50_000, 381), (75_000, 382), (1_000_000, 384),
)

Number = int | float | Fraction | Decimal


@dataclass(frozen=True)
class Band:
    grade: str  # A, B, C, D
    lowest: Decimal  # lowest index (already rounded to 2 decimals) that earns this grade
    meaning_id: str
    meaning_en: str

    def meaning(self, locale: str) -> str:
        return self.meaning_id if locale == "id" else self.meaning_en


@dataclass(frozen=True)
class Rule:
    """One regulation's way to grade: how many elements it expects and its grade bands."""

    code: str
    title: str
    element_count: int
    bands: tuple[Band, ...]  # best first

    def band(self, index: Number) -> Band:
        """The band of an index, after rounding it to 2 decimals as the regulation says.

        The official tables leave gaps (64.99 | 65.00, 76.60 | 76.61, 88.30 | 88.31); no value
        with two decimals falls into one, so "at least the band's lowest value" is exact.
        """
        rounded = round_index(index)
        for band in self.bands:
            if rounded >= band.lowest:
                return band
        return self.bands[-1]

    def grade(self, index: Number) -> str:
        return self.band(index).grade


RULE_2017 = Rule(
    code="14/2017",
    title="PermenPAN-RB 14/2017",
    element_count=9,
    bands=(
        Band("A", Decimal("88.31"), "Sangat Baik", "Very good"),
        Band("B", Decimal("76.61"), "Baik", "Good"),
        Band("C", Decimal("65.00"), "Kurang Baik", "Less than good"),
        Band("D", Decimal("25.00"), "Tidak Baik", "Not good"),
    ),
)

RULE_2004 = Rule(
    code="25/2004",
    title="KEPMENPAN 25/2004",
    element_count=14,
    bands=(
        Band("A", Decimal("81.26"), "Sangat Baik", "Very good"),
        Band("B", Decimal("62.51"), "Baik", "Good"),
        Band("C", Decimal("43.76"), "Kurang Baik", "Less than good"),
        Band("D", Decimal("25.00"), "Tidak Baik", "Not good"),
    ),
)

RULES: dict[str, Rule] = {RULE_2017.code: RULE_2017, RULE_2004.code: RULE_2004}
DEFAULT_RULE = RULE_2017.code


def rule(code: str) -> Rule:
    try:
        return RULES[code]
    except KeyError:
        raise ValueError(f"unknown rule {code!r} (use {' or '.join(RULES)})") from None


def _exact(value: Number) -> Fraction:
    # Fractions keep the arithmetic exact, so 64.995 really rounds up instead of landing on
    # 64.99499999 as binary floats would.
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def round_index(value: Number) -> Decimal:
    """An index rounded half up to 2 decimals, the precision the bands are written in."""
    exact = _exact(value)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def nrr(total: int, count: int) -> Fraction | None:
    """Nilai rata-rata per element: the sum of answers over the number who answered it."""
    if count <= 0:
        return None
    return Fraction(total, count)


def element_nrr(answers: Sequence[int | None]) -> Fraction | None:
    """The NRR of one element from raw answers; unanswered (None) ones are not counted."""
    given = [a for a in answers if a is not None]
    for answer in given:
        if not SCALE_MIN <= answer <= SCALE_MAX:
            raise ValueError(f"answer {answer} is outside {SCALE_MIN}-{SCALE_MAX}")
    return nrr(sum(given), len(given))


def equal_weights(count: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(1, count) for _ in range(count))


def weighted_nrr(nrrs: Sequence[Number], weights: Sequence[Number] | None = None) -> Fraction:
    """sum(NRR_i * w_i), the weighted average on the 1-4 scale; equal weights by default."""
    if not nrrs:
        raise ValueError("no elements")
    exact_weights = equal_weights(len(nrrs)) if weights is None else tuple(map(_exact, weights))
    if len(exact_weights) != len(nrrs):
        raise ValueError(f"{len(nrrs)} elements but {len(exact_weights)} weights")
    if abs(sum(exact_weights) - 1) > Fraction(1, 10**6):
        raise ValueError(f"weights sum to {float(sum(exact_weights)):.6f}, not 1")
    return sum((_exact(v) * w for v, w in zip(nrrs, exact_weights, strict=True)), Fraction(0))


def index(nrrs: Sequence[Number], weights: Sequence[Number] | None = None) -> Fraction:
    """IKM = 25 * sum(NRR_i * w_i): 25 (everyone answered 1) to 100 (everyone answered 4)."""
    return INDEX_FACTOR * weighted_nrr(nrrs, weights)


@dataclass(frozen=True)
class Score:
    """An index as a report shows it: rounded, graded, under a named rule."""

    index: Decimal
    grade: str
    meaning_id: str
    meaning_en: str
    rule: str

    def meaning(self, locale: str) -> str:
        return self.meaning_id if locale == "id" else self.meaning_en


def score(
    nrrs: Sequence[Number], weights: Sequence[Number] | None = None, rule_code: str = DEFAULT_RULE
) -> Score:
    value = index(nrrs, weights)
    band = rule(rule_code).band(value)
    return Score(round_index(value), band.grade, band.meaning_id, band.meaning_en, rule_code)


def minimum_sample(population: int) -> int:
    """The Krejcie-Morgan minimum sample for ``population``, read from the published table.

    A population between two rows takes the next larger row (100,000 -> 384, the row for
    1,000,000; the formula alone gives 383): a sample large enough for a larger population is
    enough for a smaller one, and offices check their reports against this table. Beyond the
    last row the sample stays 384. Never more than the population itself.
    """
    if population <= 0:
        return 0
    row = bisect_left(KREJCIE_MORGAN_TABLE, population, key=lambda entry: entry[0])
    sample = KREJCIE_MORGAN_TABLE[min(row, len(KREJCIE_MORGAN_TABLE) - 1)][1]
    return min(population, sample)
