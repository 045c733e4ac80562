"""The satisfaction index (IKM) arithmetic of PermenPAN-RB 14/2017 and KEPMENPAN 25/2004."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

SCALE_MIN = 1
SCALE_MAX = 4
INDEX_FACTOR = 25  # a 1-4 average times 25 gives the 25-100 index

# Krejcie-Morgan constants: chi-square for 1 degree of freedom at 95 %, proportion, margin.
KM_CHI_SQUARE = Decimal("3.841")
KM_PROPORTION = Decimal("0.5")
KM_MARGIN = Decimal("0.05")

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
    """Krejcie-Morgan: s = X2*N*P(1-P) / (d2*(N-1) + X2*P(1-P)).

    Rounded half up to a whole respondent, which reproduces the published table (N=15 -> 14,
    N=100 -> 80, N=1000 -> 278, N=1,000,000 -> 384); rounding up instead would give 15 for
    N=15. Never more than the population itself.
    """
    if population <= 0:
        return 0
    n = Decimal(population)
    pq = KM_PROPORTION * (1 - KM_PROPORTION)
    s = KM_CHI_SQUARE * n * pq / (KM_MARGIN**2 * (n - 1) + KM_CHI_SQUARE * pq)
    return min(population, int(s.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
