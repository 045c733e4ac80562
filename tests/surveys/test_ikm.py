"""The index formula, the grade bands at their edges and the Krejcie-Morgan sample size."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.surveys import ikm

WORKED_EXAMPLE = [3.2, 3.0, 2.8, 3.9, 3.1, 3.3, 3.5, 2.9, 3.0]


def test_worked_example_of_the_domain_notes():
    result = ikm.score(WORKED_EXAMPLE)
    assert float(ikm.weighted_nrr(WORKED_EXAMPLE)) == pytest.approx(3.1889, abs=1e-4)
    assert result.index == Decimal("79.72")
    assert (result.grade, result.meaning_id, result.rule) == ("B", "Baik", "14/2017")


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        ("25.00", "D"),
        ("64.99", "D"),
        ("65.00", "C"),
        ("76.60", "C"),
        ("76.61", "B"),
        ("88.30", "B"),
        ("88.31", "A"),
        ("100.00", "A"),
    ],
)
def test_band_edges_2017(value, grade):
    assert ikm.RULE_2017.grade(Decimal(value)) == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        ("64.994", "D"),  # rounds to 64.99
        ("64.995", "C"),  # rounds half up to 65.00
        ("76.604", "C"),
        ("76.605", "B"),
        ("88.304", "B"),
        ("88.305", "A"),
    ],
)
def test_index_is_rounded_to_two_decimals_before_grading(value, grade):
    assert ikm.RULE_2017.grade(Decimal(value)) == grade


def test_rounding_is_exact_not_binary_float():
    # NRRs whose mean is exactly 2.5998 -> 64.995: a float product lands just below.
    nrrs = [Fraction(25998, 10000)] * 9
    assert ikm.index(nrrs) == Fraction(64995, 1000)
    assert ikm.score(nrrs).index == Decimal("65.00")
    assert ikm.score(nrrs).grade == "C"
    assert ikm.round_index(64.995) == Decimal("65.00")


@pytest.mark.parametrize(
    ("value", "grade"),
    [("43.75", "D"), ("43.76", "C"), ("62.50", "C"), ("62.51", "B"), ("81.25", "B"),
     ("81.26", "A")],
)
def test_band_edges_2004(value, grade):
    assert ikm.RULE_2004.grade(Decimal(value)) == grade


def test_fourteen_element_rule_uses_weight_one_fourteenth():
    nrrs = [3.0] * 13 + [3.14]
    result = ikm.score(nrrs, rule_code="25/2004")
    assert result.index == ikm.round_index(25 * (13 * 3.0 + 3.14) / 14)
    assert result.index == Decimal("75.25")
    assert result.grade == "B"  # B under 25/2004 (62.51-81.25) but C under 14/2017
    assert ikm.score(nrrs).grade == "C"


def test_custom_weights_must_sum_to_one():
    assert ikm.index([4, 2], [Fraction(3, 4), Fraction(1, 4)]) == 25 * Fraction(7, 2)
    with pytest.raises(ValueError, match="sum to"):
        ikm.index([4, 2], [0.5, 0.4])
    with pytest.raises(ValueError, match="2 elements but 3 weights"):
        ikm.index([4, 2], [0.5, 0.25, 0.25])


def test_element_nrr_skips_unanswered_and_rejects_out_of_scale():
    assert ikm.element_nrr([4, 3, None, 2]) == 3
    assert ikm.element_nrr([None]) is None
    with pytest.raises(ValueError):
        ikm.element_nrr([5])


def test_extremes_of_the_scale():
    assert ikm.score([1] * 9).index == Decimal("25.00")
    assert ikm.score([4] * 9).index == Decimal("100.00")


@pytest.mark.parametrize(
    ("population", "sample"),
    [(0, 0), (1, 1), (9, 9), (10, 10), (12, 12), (15, 14), (16, 16), (41, 40), (100, 80), (101, 86),
     (108, 86), (150, 108), (1000, 278), (75_000, 382), (75_001, 384), (100_000, 384),
     (1_000_000, 384), (10**9, 384)],
)
def test_krejcie_morgan(population, sample):
    # Between two rows the next larger one counts: 100,000 reads the 1,000,000 row (384),
    # where the formula alone gives 383.
    assert ikm.minimum_sample(population) == sample


def _formula(population: int) -> Decimal:
    chi, p, d = Decimal("3.841"), Decimal("0.5"), Decimal("0.05")
    return chi * population * p * (1 - p) / (d**2 * (population - 1) + chi * p * (1 - p))


def test_every_published_row_and_never_below_the_formula():
    rows = ikm.KREJCIE_MORGAN_TABLE
    assert len(rows) == 90 and rows[0] == (10, 10) and rows[-1] == (1_000_000, 384)
    for population, sample in rows:
        assert ikm.minimum_sample(population) == sample
        # The table is the formula rounded to the nearest respondent at its own rows.
        assert abs(sample - _formula(population)) <= Decimal("0.5")
    for population in (*range(10, 3000, 7), 12_345, 60_000, 99_999, 500_000):
        assert ikm.minimum_sample(population) >= _formula(population) - Decimal("0.5")
        assert ikm.minimum_sample(population) <= ikm.minimum_sample(population + 1)


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="unknown rule"):
        ikm.rule("1/1999")
