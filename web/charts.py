"""Charts for report pages: SVG drawn on the server by pygal in the app's colours (app.css),
embedded in the page as it is; numbers written the reader's locale's way, labels as the page
translated them, a font that has Chinese glyphs. No JavaScript: every figure a chart shows is
also in a table beside it."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_skeleton
from markupsafe import Markup

from i18n import Formatter
from web.chart_engine import Style, pygal

# app.css's accent, green, yellow, red, then the header's navy and muted grey.
SERIES_COLOURS = ("#1f5fa8", "#1f8a4c", "#c99a06", "#c62828", "#17324d", "#66717e", "#7e57c2")
# app.css's body font, with the CJK fonts Linux machines have (Noto, WenQuanYi) named, so that
# Chinese labels render in the SVG wherever the page's own font has no Chinese glyphs.
FONT = (
    'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
)
LABEL_FONT_SIZE = 12
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#dde3ea",
    opacity="0.9",
    opacity_hover="1",
    colors=SERIES_COLOURS,
    font_family=FONT,
    label_font_size=LABEL_FONT_SIZE,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=11,
    tooltip_font_size=12,
)
# pygal always writes its tooltips' settings as an inline script; the page runs none.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
Values = Sequence[Decimal | float | int | None]


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Values]],
    fmt: Formatter,
    horizontal: bool = False,
    stacked: bool = False,
    width: int = 700,
    value_labels: int | None = None,
    colours: Sequence[str] | None = None,
) -> Markup:
    """A bar chart (one bar per label and series) as inline SVG, drawn `width` wide (its text
    scales with it: a narrower drawing reads larger in a small box); `value_labels` keeps that
    many of the value axis's labels (a narrow drawing has no room for pygal's ten or more);
    `colours`, one per series, keep a measure's colour when another chart leaves a series out
    (SERIES_COLOURS in turn otherwise)."""
    kind = {
        (False, False): pygal.Bar,
        (False, True): pygal.StackedBar,
        (True, False): pygal.HorizontalBar,
        (True, True): pygal.HorizontalStackedBar,
    }[(horizontal, stacked)]
    chart = kind(
        style=STYLE if colours is None else _coloured(colours),
        title=title,
        width=width,
        height=340 if not horizontal else max(220, 100 + 30 * len(labels) * len(series)),
        explicit_size=False,  # scales to the width of its box (CSS)
        js=[],  # no script: the CSP forbids inline scripts, and nothing needs one
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(4, max(1, len(series))),
        x_label_rotation=0 if horizontal or len(labels) <= 6 else 35,
        truncate_label=-1,
        truncate_legend=-1,
        print_values=False,
        value_formatter=lambda value: number_text(fmt, value),
        margin=12,
        margin_left=12 + _wide_extra(labels) if horizontal else 12,
        **({} if value_labels is None else _fewer_value_labels(value_labels, horizontal)),
    )
    # A horizontal chart draws its first label at the bottom: reversed, it reads as the table.
    order = slice(None, None, -1) if horizontal else slice(None)
    chart.x_labels = list(labels)[order]
    for name, values in series:
        chart.add(name, [None if v is None else float(v) for v in values][order])
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def _coloured(colours: Sequence[str]) -> Style:
    style = copy.copy(STYLE)
    style.colors = tuple(colours)
    return style


def _fewer_value_labels(count: int, horizontal: bool) -> dict[str, object]:
    """pygal's options for `count` labels on the value axis (x when the bars lie down)."""
    if horizontal:  # and room at the right for the last label, centred on the axis's end
        return {"x_labels_major_count": count, "show_minor_x_labels": False, "margin_right": 32}
    return {"y_labels_major_count": count, "show_minor_y_labels": False}


def _wide_extra(labels: Sequence[str]) -> int:
    """The room pygal's text measure leaves out beside horizontal bars: it counts each character
    as narrow, a Chinese one is about twice as wide (half the label font size more each)."""
    wide = [sum(1 for ch in label if ord(ch) > 0x2E7F) for label in labels]
    return max(wide, default=0) * LABEL_FONT_SIZE // 2


def month_label(fmt: Formatter, month: str) -> str:
    """A month (2026-01) as the reader's locale writes it: "Jan 2026", "2026年1月"."""
    year, number = (int(part) for part in month.split("-"))
    return format_skeleton("yMMM", date(year, number, 1), locale=fmt.locale)


def number_text(fmt: Formatter, value: Decimal | float | int) -> str:
    """A figure (hours, counts) with the locale's separators: 1,234.5 or 1,234.5."""
    return fmt.number(Decimal(str(value)))
