"""The IKM chart as a PNG: the elements' NRR, each named, against the grade bands on an axis
from zero, and the index trend."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.surveys import ikm  # noqa: E402
from bot.surveys.questionnaire import SurveyConfig  # noqa: E402
from bot.surveys.report import Period, Report  # noqa: E402

NAME_WIDTH = 28  # characters of an element's name on one line of the chart
BAND_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


def render_chart(
    report: Report,
    trend: Sequence[tuple[Period, ikm.Score | None, int]],
    config: SurveyConfig,
    *,
    title: str,
    trend_title: str,
    locale: str,
) -> bytes:
    """The chart as a PNG (see chart_figure)."""
    figure = chart_figure(report, trend, config, title=title, trend_title=trend_title,
                          locale=locale)
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        # Breaks the figure's reference cycles now: `servicebot serve` runs the cyclic
        # collector rarely (bot/webhook/server.py, GC_THRESHOLD).
        figure.clear()


def chart_figure(
    report: Report,
    trend: Sequence[tuple[Period, ikm.Score | None, int]],
    config: SurveyConfig,
    *,
    title: str,
    trend_title: str,
    locale: str,
) -> Figure:
    """Each element's NRR as a bar named after the element in ``locale`` (the 1-4 scale as
    index points, x25, so the bands of the rule apply), on an axis from zero, with the band
    edges as lines; below, the index over the last periods, also from zero."""
    rule = report.rule
    # A Figure of its own rather than pyplot's global state: charts render in report threads
    # (bot/core/offload.py), possibly two at once.
    figure = Figure(figsize=(8, 8.5))
    bars_axis, trend_axis = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    elements = config.elements
    names = [textwrap.fill(e.name.get(locale), NAME_WIDTH) for e in elements]
    values = [
        float(v) * ikm.INDEX_FACTOR if (v := report.overall.nrr[e.code]) is not None else 0.0
        for e in elements
    ]
    colours = [BAND_COLOURS[rule.grade(v)] if v else "#9e9e9e" for v in values]
    # The first element on top, as the questionnaire asks them.
    places = list(range(len(elements)))[::-1]
    bars_axis.barh(places, values, color=colours, height=0.7)
    bars_axis.set_yticks(places, names, fontsize=8)
    for place, value in zip(places, values, strict=True):
        if value:
            bars_axis.annotate(f"{value:.1f}", (value, place), ha="left", va="center",
                               fontsize=8, xytext=(3, 0), textcoords="offset points")
    _band_lines(bars_axis, rule, vertical=True)
    bars_axis.set_xlim(0, 100)
    score = report.overall.score
    headline = f" — {score.index} ({score.grade})" if score else ""
    bars_axis.set_title(f"{title}{headline}", fontsize=11, pad=16)
    bars_axis.set_xlabel("NRR × 25")

    labels = [p.label for p, _score, _n in trend]
    points = [float(s.index) if s else None for _p, s, _n in trend]
    xs = [i for i, v in enumerate(points) if v is not None]
    trend_axis.plot(xs, [points[i] for i in xs], marker="o", color="#37474f")
    for i in xs:
        trend_axis.annotate(f"{points[i]:.2f}", (i, points[i]), ha="center", va="bottom",
                            fontsize=8, xytext=(0, 4), textcoords="offset points")
    trend_axis.set_xticks(range(len(labels)), labels, fontsize=8)
    _band_lines(trend_axis, rule, vertical=False)
    trend_axis.set_ylim(0, 100)
    trend_axis.set_xlim(-0.5, len(labels) - 0.5)
    trend_axis.set_title(trend_title, fontsize=10)
    figure.text(0.99, 0.005, rule.title, ha="right", va="bottom", fontsize=7, color="#616161")
    figure.tight_layout()
    figure.subplots_adjust(right=0.9, top=0.93)  # room for the band names in the margins
    return figure


def _band_lines(axis: Axes, rule: ikm.Rule, *, vertical: bool) -> None:
    """Each grade's band lightly shaded, its lower edge dashed and named in the margin (the
    band of the lowest grade reaches down to zero, below the scale's 25)."""
    top = 100.0
    for band in rule.bands:
        colour = BAND_COLOURS[band.grade]
        lowest = float(band.lowest) if band is not rule.bands[-1] else 0.0
        middle = (lowest + top) / 2
        label = f"{band.grade}\n≥{band.lowest}"
        if vertical:
            axis.axvspan(lowest, top, color=colour, alpha=0.06, linewidth=0)
            if band is not rule.bands[-1]:
                axis.axvline(lowest, color=colour, linestyle="--", linewidth=0.8)
            # Only the grade above a narrow band; its lowest value is on the trend's margin.
            axis.text(middle, 1.01, band.grade, transform=axis.get_xaxis_transform(),
                      va="bottom", ha="center", fontsize=8, color=colour)
        else:
            axis.axhspan(lowest, top, color=colour, alpha=0.06, linewidth=0)
            if band is not rule.bands[-1]:
                axis.axhline(lowest, color=colour, linestyle="--", linewidth=0.8)
            axis.text(1.01, middle, label, transform=axis.get_yaxis_transform(),
                      va="center", ha="left", fontsize=7, color=colour)
        top = lowest
