"""The overview's charts, drawn by pygal as SVG on the server: no script, no CDN.

Each chart is an SVG image in a `data:` URL, so the page's Content-Security-Policy (no inline style or script)
holds: the chart's own styling lives inside the image, which the browser renders isolated from the page.
"""

from __future__ import annotations

import base64
from datetime import date

import pygal
from pygal.style import Style

from webapp.domain.money import Money, exponent

_STYLE = Style(background="white", plot_background="white", foreground="#1f2937", foreground_strong="#1f2937",
               foreground_subtle="#e5e7eb", colors=("#4338ca", "#047857", "#b45309"), font_family="sans-serif",
               label_font_size=13, major_label_font_size=13, legend_font_size=13, title_font_size=15)
_CONFIG = {"width": 720, "height": 300, "style": _STYLE, "js": [], "disable_xml_declaration": True,
           "show_legend": True, "legend_at_bottom": True, "legend_at_bottom_columns": 2, "show_minor_x_labels": False,
           "x_label_rotation": 0, "margin": 12, "explicit_size": False, "truncate_label": -1}


def _labels(days: list[date]) -> tuple[list[str], list[str]]:
    labels = [d.strftime("%d %b") for d in days]
    return labels, labels[::7]


def data_url(chart: pygal.Graph) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(chart.render(is_unicode=True).encode()).decode()


def volume_chart(days: list[date], currency: str, gross: list[int], net: list[int]) -> str:
    """Gross and net volume per day. The chart is drawn in major units (a picture, not an amount: the figures
    next to it are the exact ones), and its labels are formatted back as money."""
    scale = 10 ** exponent(currency)
    chart = pygal.Line(**_CONFIG, fill=False, dots_size=2,
                       value_formatter=lambda v: Money(round(v * scale), currency).format())
    chart.x_labels, chart.x_labels_major = _labels(days)
    chart.add("Gross volume", [v / scale for v in gross])
    chart.add("Net volume", [v / scale for v in net])
    return data_url(chart)


def payments_chart(days: list[date], counts: list[int]) -> str:
    """Succeeded payments per day."""
    chart = pygal.Bar(**_CONFIG, value_formatter=lambda v: f"{int(v)}")
    step = max(1, -(-max(counts, default=0) // 5))  # whole numbers only: about five gridlines
    chart.y_labels = list(range(0, max(counts, default=0) + step + 1, step))
    chart.x_labels, chart.x_labels_major = _labels(days)
    chart.add("Succeeded payments", counts)
    return data_url(chart)
