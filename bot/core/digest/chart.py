"""The 8-week trend chart: learning vs failing per week, with the learning rate as a line.

Rendered with matplotlib's object-oriented API on the non-interactive Agg canvas (no pyplot, so no
global figure state and no display needed). Sized for a chat preview: few, large labels. Readable
without colour: the two bar kinds differ in hatching as well as hue, every bar and rate point
carries its number, and the rate line has markers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.core.digest.figures import WeekOutcomes

SIZE_INCHES = (8.0, 4.0)
DPI = 100
SIZE_PIXELS = (int(SIZE_INCHES[0] * DPI), int(SIZE_INCHES[1] * DPI))
LEARNING = {"color": "#2a9d8f", "hatch": "//", "label": "learning"}
FAILING = {"color": "#e9c46a", "hatch": "xx", "label": "failing"}
INK = "#222222"


def trend_chart(trend: Sequence[WeekOutcomes]) -> bytes:
    """The chart as PNG bytes (`SIZE_PIXELS`). Pure: the same trend gives the same bytes.

    Two panels share the weeks: the learning rate on top (a gap where nothing was decided), the
    learning and failing counts below, so no label sits on another.
    """
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    rate, bars = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1.7))
    figure.subplots_adjust(left=0.08, right=0.98, top=0.83, bottom=0.09, hspace=0.12)
    x = list(range(len(trend)))

    rates = [w.rate for w in trend]
    rate.plot(
        x,
        [float("nan") if r is None else r for r in rates],
        color=INK,
        linewidth=2,
        marker="o",
        markersize=7,
        label="learning rate",
    )
    for i, r in zip(x, rates, strict=True):
        if r is not None:
            rate.annotate(
                f"{r:.0%}",
                (i, r),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=11,
                fontweight="bold",
                color=INK,
            )
    rate.set_ylim(-0.1, 1.45)
    rate.set_yticks([0, 1])
    rate.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))

    width = 0.38
    tallest = max((max(w.learning, w.failing) for w in trend), default=0)
    for offset, kind, values in (
        (-width / 2, LEARNING, [w.learning for w in trend]),
        (width / 2, FAILING, [w.failing for w in trend]),
    ):
        drawn = bars.bar(
            [i + offset for i in x],
            values,
            width,
            color=kind["color"],
            hatch=kind["hatch"],
            edgecolor=INK,
            linewidth=1,
            label=kind["label"],
        )
        bars.bar_label(drawn, labels=[str(v) if v else "" for v in values], fontsize=11, padding=2)
    bars.set_ylim(0, max(tallest, 1) * 1.3)
    bars.yaxis.get_major_locator().set_params(integer=True)
    bars.set_xticks(x, [_week_label(w.week.monday) for w in trend])

    for axes in (rate, bars):
        axes.tick_params(labelsize=11)
        axes.spines[["top", "right"]].set_visible(False)
    handles = [*bars.get_legend_handles_labels()[0], *rate.get_legend_handles_labels()[0]]
    figure.legend(handles=handles, loc="upper right", ncols=3, frameon=False, fontsize=12)
    figure.text(0.02, 0.92, f"Last {len(trend)} weeks", fontsize=15, fontweight="bold", color=INK)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _week_label(monday: date) -> str:
    return f"{monday.day} {monday:%b}"
