"""The IKM chart as a PNG: the elements' NRR against the grade bands, and the index trend."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.surveys import ikm  # noqa: E402
from bot.surveys.questionnaire import SurveyConfig  # noqa: E402
from bot.surveys.report import Period, Report  # noqa: E402

BAND_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


def render_chart(
    report: Report,
    trend: Sequence[tuple[Period, ikm.Score | None, int]],
    config: SurveyConfig,
    *,
    title: str,
    trend_title: str,
) -> bytes:
    """Bars of each element's NRR (the 1-4 scale as index points, x25, so the bands of the
    rule apply) with the band edges as lines; below, the index over the last periods."""
    rule = report.rule
    # A Figure of its own rather than pyplot's global state: charts render in report threads
    # (bot/core/offload.py), possibly two at once.
    figure = Figure(figsize=(8, 7.5))
    bars_axis, trend_axis = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    try:
        codes = [e.code for e in config.elements]
        values = [
            float(v) * ikm.INDEX_FACTOR if (v := report.overall.nrr[c]) is not None else 0.0
            for c in codes
        ]
        colours = [BAND_COLOURS[rule.grade(v)] if v else "#9e9e9e" for v in values]
        bars_axis.bar(codes, values, color=colours)
        for code, value in zip(codes, values, strict=True):
            if value:
                bars_axis.annotate(
                    f"{value:.1f}", (code, value), ha="center", va="bottom", fontsize=8
                )
        _band_lines(bars_axis, rule)
        bars_axis.set_ylim(ikm.INDEX_FACTOR, 100)
        score = report.overall.score
        headline = f" — {score.index} ({score.grade})" if score else ""
        bars_axis.set_title(f"{title}{headline}", fontsize=11)
        bars_axis.set_ylabel("NRR × 25")

        labels = [p.label for p, _score, _n in trend]
        points = [float(s.index) if s else None for _p, s, _n in trend]
        xs = [i for i, v in enumerate(points) if v is not None]
        trend_axis.plot(xs, [points[i] for i in xs], marker="o", color="#37474f")
        for i in xs:
            trend_axis.annotate(f"{points[i]:.2f}", (i, points[i]), ha="center", va="bottom",
                                fontsize=8, xytext=(0, 4), textcoords="offset points")
        trend_axis.set_xticks(range(len(labels)), labels, fontsize=8)
        _band_lines(trend_axis, rule)
        trend_axis.set_ylim(ikm.INDEX_FACTOR, 100)
        trend_axis.set_xlim(-0.5, len(labels) - 0.5)
        trend_axis.set_title(trend_title, fontsize=10)
        figure.text(0.99, 0.005, rule.title, ha="right", va="bottom", fontsize=7, color="#616161")
        figure.tight_layout()
        figure.subplots_adjust(right=0.9)  # room for the band names in the margin
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        # Breaks the figure's reference cycles now: `servicebot serve` runs the cyclic
        # collector rarely (bot/webhook/server.py, GC_THRESHOLD).
        figure.clear()


def _band_lines(axis: Axes, rule: ikm.Rule) -> None:
    """Each grade's band lightly shaded, its lower edge dashed and named in the margin."""
    top = 100.0
    for band in rule.bands:
        colour = BAND_COLOURS[band.grade]
        axis.axhspan(float(band.lowest), top, color=colour, alpha=0.06, linewidth=0)
        if band is not rule.bands[-1]:
            axis.axhline(float(band.lowest), color=colour, linestyle="--", linewidth=0.8)
        axis.text(1.01, (float(band.lowest) + top) / 2, f"{band.grade}\n≥{band.lowest}",
                  transform=axis.get_yaxis_transform(), va="center", ha="left", fontsize=7,
                  color=colour)
        top = float(band.lowest)
