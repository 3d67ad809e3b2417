"""Render the LTV marts as one self-contained HTML report.

Usage (from the project root, after `make build`):

    .venv/bin/python scripts/render_report.py [--target duckdb|postgres] [--out PATH]

The report reads the marts `ltv_summary`, `ltv_segments`, `ltv_distribution`,
`ltv_cohorts` and `ltv_by_channel` from the target's schema, with the same environment
variables as the dbt profile (profiles.yml.example):

- target: `--target`, else DBT_TARGET, else `duckdb`;
- duckdb: DBT_DUCKDB_PATH (default `warehouse.duckdb`), opened read-only;
- postgres: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (defaults 127.0.0.1, 5432,
  postgres, empty, postgres);
- schema of the marts: DBT_SCHEMA (default `ltv`).

The output (default `target/ltv_report.html`) is a single file that works offline: CSS
inline, charts drawn here as inline SVG, no external resource. Each chart is an
`<svg data-chart="NAME">` with a `<title>`; its data marks (bars, lines) carry the class
`mark`. A tiny inline script writes, on load, how many charts have visible marks onto
`<body data-rendered-charts=N data-total-charts=M>` (used by the tests in a headless
browser). Money keeps the marts' precision until it is formatted for display.

Only the standard library is used, plus `duckdb` or `psycopg2` for the chosen target.
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path

TARGETS = ("duckdb", "postgres")
HORIZONS = ("3m", "6m", "12m", "lifetime")
HORIZON_TITLES = {
    "3m": "3 months",
    "6m": "6 months",
    "12m": "12 months",
    "lifetime": "Lifetime",
}
CHANNEL_HORIZON = "12m"
# With more cohorts than this, the cohort chart keeps the quarter-start cohorts only.
MAX_COHORT_LINES = 12

# Palette: blue against orange tells LTV from CAC also to colour-blind readers; the
# cohort ramp runs from dark blue (oldest) to orange (newest).
COLOUR_TEXT = "#1f2933"
COLOUR_MUTED = "#616e7c"
COLOUR_GRID = "#e4e7eb"
COLOUR_AXIS = "#9aa5b1"
COLOUR_BAR = "#2f6fb0"
COLOUR_ZERO_BAR = "#9aa5b1"
COLOUR_LTV = "#2f6fb0"
COLOUR_CAC = "#e08a2e"
COLOUR_CAC_OVER = "#c2362b"
COHORT_RAMP = ("#0d0887", "#6a00a8", "#b12a90", "#e16462", "#f2a33a")

FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Liberation Sans", "DejaVu Sans", sans-serif'
)


# ---------------------------------------------------------------------- reading marts


@dataclass
class Marts:
    """The rows of the report's marts, each a list of dicts, in display order."""

    summary: list
    segments: list
    distribution: list
    cohorts: list
    channels: list
    # Predicted CLV (user_clv by segment, clv_model_parameters, clv_backtest).
    clv_segments: list = field(default_factory=list)
    clv_parameters: list = field(default_factory=list)
    clv_backtest: list = field(default_factory=list)

    @property
    def as_of_date(self):
        """The as-of date of the build (every mart row carries the same one)."""
        return self.summary[0]["as_of_date"] if self.summary else None


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes, valid on DuckDB and PostgreSQL."""
    return '"' + name.replace('"', '""') + '"'


def mart_queries(schema: str) -> dict:
    """One select per mart, ordered for display."""
    prefix = quote_identifier(schema) + "."
    horizon_order = "coalesce(horizon_months, 1000)"
    return {
        "summary": f"select * from {prefix}ltv_summary order by {horizon_order}",
        "segments": f"select * from {prefix}ltv_segments order by segment_order",
        "distribution": (
            f"select * from {prefix}ltv_distribution order by horizon, bucket_order"
        ),
        "cohorts": (
            f"select * from {prefix}ltv_cohorts"
            " order by signup_month, months_since_signup"
        ),
        "channels": (
            f"select * from {prefix}ltv_by_channel order by acquisition_channel, "
            f"{horizon_order}"
        ),
        "clv_segments": (
            "select user_ltv.ltv_segment, count(*) as users,"
            " avg(user_clv.predicted_clv_12m) as predicted_clv_12m_mean,"
            " sum(user_clv.predicted_clv_12m) as predicted_clv_12m_total,"
            " avg(user_clv.probability_alive) as share_alive,"
            " sum(user_clv.expected_purchases_365d) as expected_purchases_365d"
            f" from {prefix}user_clv as user_clv inner join {prefix}user_ltv as user_ltv"
            " on user_clv.user_id = user_ltv.user_id"
            " group by user_ltv.ltv_segment order by user_ltv.ltv_segment"
        ),
        "clv_parameters": (
            f"select * from {prefix}clv_model_parameters order by model, parameter"
        ),
        "clv_backtest": f"select * from {prefix}clv_backtest order by bin_order",
    }


def connect(target: str):
    """A DB-API connection to the target, with the dbt profile's settings."""
    if target == "duckdb":
        import duckdb

        path = os.environ.get("DBT_DUCKDB_PATH", "warehouse.duckdb")
        if not Path(path).exists():
            raise SystemExit(f"DuckDB file {path} not found: build the project first")
        return duckdb.connect(path, read_only=True)
    import psycopg2

    from ensure_postgres import connection_settings  # beside this script

    return psycopg2.connect(
        dbname=os.environ.get("PGDATABASE", "postgres"), **connection_settings()
    )


def fetch_rows(connection, sql: str) -> list:
    """The rows of a query as dicts keyed by column name."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def load_marts(connection, schema: str) -> Marts:
    """Read the five marts of the report from a schema."""
    return Marts(
        **{
            name: fetch_rows(connection, sql)
            for name, sql in mart_queries(schema).items()
        }
    )


# ------------------------------------------------------------------------ formatting


def format_money(value) -> str:
    """USD for display, to the cent: $1,234.56 (an em dash for null)."""
    if value is None:
        return "\u2014"
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def format_money_short(value) -> str:
    """USD for axes and bucket labels: $50, $250, $2.5k, $1.2M."""
    value = float(value)
    for threshold, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            number = f"{value / threshold:.1f}".rstrip("0").rstrip(".")
            return f"${number}{suffix}"
    return f"${value:,.0f}" if value == int(value) else f"${value:,.2f}"


def format_count(value) -> str:
    """An integer with thousands separators (an em dash for null)."""
    return "\u2014" if value is None else f"{int(value):,}"


def format_share(value) -> str:
    """A fraction as a percentage with one decimal (an em dash for null)."""
    return "\u2014" if value is None else f"{float(value) * 100:.1f}%"


def format_ratio(value) -> str:
    """A ratio such as LTV:CAC: 14.4x (an em dash for null)."""
    return "\u2014" if value is None else f"{float(value):.1f}\u00d7"


def bucket_tick_lines(row: dict) -> list:
    """A short label for a distribution bucket from its bounds, in one or two lines:
    ['$0'], ['$1k-', '$2.5k'], ['$5k+']."""
    lower, upper = row["lower_bound"], row["upper_bound"]
    if upper is None:
        return [f"{format_money_short(lower)}+"]
    if lower == upper == 0:
        return ["$0"]
    return [f"{format_money_short(lower)}\u2013", format_money_short(upper)]


# ------------------------------------------------------------------- SVG primitives


def attributes(**attrs) -> str:
    """HTML attributes from keywords (class_ -> class, stroke_width -> stroke-width)."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{escape(str(value))}"')
    return " ".join(parts)


def svg_text(x, y, content, **attrs) -> str:
    """A <text> element with escaped content."""
    position = attributes(x=float(x), y=float(y), **attrs)
    return f"<text {position}>{escape(content)}</text>"


def svg_rect(x, y, width, height, tooltip=None, **attrs) -> str:
    """A <rect>, with an optional hover tooltip."""
    geometry = attributes(
        x=float(x), y=float(y), width=float(max(width, 0)), height=float(max(height, 0))
    )
    tag = f"<rect {geometry} {attributes(**attrs)}"
    if tooltip is None:
        return tag + "/>"
    return f"{tag}><title>{escape(tooltip)}</title></rect>"


def svg_line(x1, y1, x2, y2, **attrs) -> str:
    """A straight <line>."""
    ends = attributes(x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2))
    return f"<line {ends} {attributes(**attrs)}/>"


def svg_chart(name: str, width: int, height: int, title: str, body: list) -> str:
    """A chart: <svg data-chart=NAME> with a <title> for tooltips and screen readers."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{escape(name)}" '
        f'role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


class LinearScale:
    """Maps [domain_min, domain_max] linearly onto [range_start, range_end]."""

    def __init__(self, domain_min, domain_max, range_start, range_end):
        self.domain_min = float(domain_min)
        self.domain_span = float(domain_max) - self.domain_min or 1.0
        self.range_start = range_start
        self.range_span = range_end - range_start

    def __call__(self, value) -> float:
        fraction = (float(value) - self.domain_min) / self.domain_span
        return self.range_start + fraction * self.range_span


def nice_ticks(maximum, target_count: int = 5) -> list:
    """Round tick values from 0 to at least `maximum` (1-2-2.5-5 steps)."""
    maximum = float(maximum or 0)
    if maximum <= 0:
        return [0.0, 1.0]
    raw_step = maximum / target_count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    return [i * step for i in range(math.ceil(maximum / step - 1e-9) + 1)]


def y_axis(ticks, scale, left, right, label_format, title, title_x, middle_y) -> list:
    """Horizontal grid lines with tick labels on the left, and a rotated axis title."""
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(svg_line(left, y, right, y, stroke=COLOUR_GRID))
        label = label_format(tick)
        parts.append(svg_text(left - 8, y + 4, label, text_anchor="end", class_="tick"))
    parts.append(
        svg_text(
            title_x, middle_y, title, text_anchor="middle", class_="axis-title",
            transform=f"rotate(-90 {title_x} {middle_y})",
        )
    )
    return parts


def no_data_note(x, y, message: str) -> str:
    """A centred note in place of a chart's missing marks."""
    return svg_text(x, y, message, text_anchor="middle", class_="value-muted")


def colour_ramp(fraction: float, stops=COHORT_RAMP) -> str:
    """A colour at `fraction` (0..1) along a ramp of hex colour stops."""
    fraction = min(max(fraction, 0.0), 1.0) * (len(stops) - 1)
    index = min(int(fraction), len(stops) - 2)
    local = fraction - index
    start = [int(stops[index][i : i + 2], 16) for i in (1, 3, 5)]
    end = [int(stops[index + 1][i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(
        f"{round(a + (b - a) * local):02x}" for a, b in zip(start, end)
    )


# ------------------------------------------------------------------------------ charts


def bucket_tick(x, y, row: dict) -> str:
    """The x-axis label of a histogram bar, one line per element of its label."""
    lines = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if index == 0 else 14}">{escape(line)}</tspan>'
        for index, line in enumerate(bucket_tick_lines(row))
    )
    position = attributes(x=float(x), y=float(y), text_anchor="middle", class_="tick")
    return f"<text {position}>{lines}</text>"


def distribution_chart(horizon: str, rows: list) -> str:
    """Histogram of one horizon's eligible users over the revenue buckets."""
    width, height = 560, 310
    left, right, top, bottom = 64, 548, 40, 244
    ticks = nice_ticks(max((row["users"] for row in rows), default=0))
    users_scale = LinearScale(0, ticks[-1], bottom, top)
    slot = (right - left) / max(len(rows), 1)
    parts = y_axis(
        ticks, users_scale, left, right, lambda v: f"{v:,.0f}", "Users",
        16, (top + bottom) / 2,
    )
    for index, row in enumerate(rows):
        x = left + index * slot + slot * 0.12
        bar_width = slot * 0.76
        y = users_scale(row["users"])
        colour = COLOUR_ZERO_BAR if row["bucket_order"] == 0 else COLOUR_BAR
        tooltip = (
            f"{row['bucket_label']}: {format_count(row['users'])} users "
            f"({format_share(row['share_of_users'])}), "
            f"revenue {format_money(row['revenue'])}"
        )
        parts.append(
            svg_rect(x, y, bar_width, bottom - y, tooltip, fill=colour,
                     class_="mark bar")
        )
        centre = x + bar_width / 2
        parts.append(
            svg_text(centre, y - 18, format_count(row["users"]), text_anchor="middle",
                     class_="value")
        )
        parts.append(
            svg_text(centre, y - 5, format_share(row["share_of_users"]),
                     text_anchor="middle", class_="value-muted")
        )
        parts.append(bucket_tick(centre, bottom + 17, row))
    parts.append(svg_line(left, bottom, right, bottom, stroke=COLOUR_AXIS))
    parts.append(
        svg_text((left + right) / 2, height - 6, "Revenue per user in horizon (USD)",
                 text_anchor="middle", class_="axis-title")
    )
    title = f"Distribution of {HORIZON_TITLES[horizon].lower()} LTV over buckets"
    return svg_chart(f"distribution-{horizon}", width, height, title, parts)


def select_cohorts(cohorts: dict) -> list:
    """The signup months to draw: all, or the quarter starts when there are many."""
    months = sorted(cohorts)
    if len(months) <= MAX_COHORT_LINES:
        return months
    quarter_starts = [month for month in months if month.month in (1, 4, 7, 10)]
    return quarter_starts or months


def group_cohorts(rows: list) -> dict:
    """Cohort rows grouped by signup month, each list ordered by month of life."""
    cohorts = {}
    for row in rows:
        cohorts.setdefault(row["signup_month"], []).append(row)
    for points in cohorts.values():
        points.sort(key=lambda row: row["months_since_signup"])
    return cohorts


def month_ticks(last_month: int) -> list:
    """Month-of-life ticks every 1, 3, 6, 12 or 24 months, at most about 12 of them."""
    step = next((s for s in (1, 3, 6, 12, 24) if last_month / s <= 12), 48)
    return list(range(0, last_month + 1, step))


def cohort_chart(rows: list) -> str:
    """Cumulative LTV curves, one line per drawn signup cohort, coloured old to new."""
    width, height = 1100, 440
    left, right, top, bottom = 76, 950, 28, 380
    cohorts = group_cohorts(rows)
    months = select_cohorts(cohorts)
    drawn = [row for month in months for row in cohorts[month]]
    last_month = max((row["months_since_signup"] for row in drawn), default=1) or 1
    x_scale = LinearScale(0, last_month, left, right)
    ticks = nice_ticks(max((row["ltv_cumulative"] or 0 for row in drawn), default=0))
    y_scale = LinearScale(0, ticks[-1], bottom, top)
    parts = y_axis(
        ticks, y_scale, left, right, format_money_short,
        "Cumulative revenue per cohort user (USD)", 18, (top + bottom) / 2,
    )
    parts += horizon_markers(x_scale, top, bottom, last_month)
    for tick in month_ticks(last_month):
        parts.append(svg_line(x_scale(tick), bottom, x_scale(tick), bottom + 5,
                              stroke=COLOUR_AXIS))
        parts.append(svg_text(x_scale(tick), bottom + 20, str(tick),
                              text_anchor="middle", class_="tick"))
    parts.append(svg_line(left, bottom, right, bottom, stroke=COLOUR_AXIS))
    parts.append(
        svg_text((left + right) / 2, height - 14,
                 "Months since signup (m; the point at m covers months 0 to m)",
                 text_anchor="middle", class_="axis-title")
    )
    if not drawn:
        parts.append(no_data_note((left + right) / 2, (top + bottom) / 2,
                                  "No cohort has completed its first month yet"))
    steps = max(len(months) - 1, 1)
    colours = [colour_ramp(index / steps) for index in range(len(months))]
    for month, colour in zip(months, colours):
        parts.append(cohort_line(month, cohorts[month], x_scale, y_scale, colour))
    parts += cohort_legend(months, colours, len(cohorts), right + 40, top)
    return svg_chart("cohorts", width, height, "Cumulative LTV by signup cohort", parts)


def horizon_markers(x_scale, top, bottom, last_month) -> list:
    """Dashed verticals at m = 2, 5 and 11, where the curves reach the 3/6/12m LTV."""
    parts = []
    for month, label in ((2, "3m"), (5, "6m"), (11, "12m")):
        if month > last_month:
            continue
        x = x_scale(month)
        parts.append(svg_line(x, top, x, bottom, stroke=COLOUR_AXIS,
                              stroke_dasharray="4 4"))
        parts.append(svg_text(x + 4, top + 12, label, class_="value-muted"))
    return parts


def cohort_line(month, points, x_scale, y_scale, colour) -> str:
    """One cohort's curve as a <path>, with a tooltip naming the cohort."""
    coordinates = " L ".join(
        f"{x_scale(row['months_since_signup']):.1f} "
        f"{y_scale(row['ltv_cumulative'] or 0):.1f}"
        for row in points
    )
    last = points[-1]
    tooltip = (
        f"Cohort {month:%Y-%m} ({format_count(last['cohort_users'])} users): "
        f"{format_money(last['ltv_cumulative'])} per user after "
        f"{last['months_since_signup'] + 1} months"
    )
    if len(points) == 1:  # a single point: draw it as a short tick so it shows
        x, y = coordinates.split(" ")
        coordinates = f"{float(x) - 3:.1f} {y} L {float(x) + 3:.1f} {y}"
    return (
        f'<path class="mark line" d="M {coordinates}" fill="none" stroke="{colour}" '
        f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round">'
        f"<title>{escape(tooltip)}</title></path>"
    )


def cohort_is_labelled(months: list, index: int) -> bool:
    """Whether the legend names a cohort: all of a few, else the first, each January,
    and the last when it is not right under a labelled January."""
    if len(months) <= MAX_COHORT_LINES or index == 0:
        return True
    if index == len(months) - 1:
        return all(month.month != 1 for month in months[-3:-1])
    return months[index].month == 1


def cohort_legend(months, colours, cohort_count, x, top) -> list:
    """A discrete colour bar, one swatch per drawn cohort, labelled at each January."""
    swatch = min(16.0, 300 / max(len(months), 1))
    parts = [svg_text(x, top + 4, "Signup cohort", class_="axis-title")]
    for index, (month, colour) in enumerate(zip(months, colours)):
        y = top + 16 + index * swatch
        parts.append(svg_rect(x, y, 16, swatch + 0.5, fill=colour))
        if cohort_is_labelled(months, index):
            parts.append(svg_line(x + 16, y + swatch / 2, x + 21, y + swatch / 2,
                                  stroke=COLOUR_AXIS))
            parts.append(svg_text(x + 25, y + swatch / 2 + 4, f"{month:%Y-%m}",
                                  class_="legend"))
    if len(months) < cohort_count:
        note_y = top + 16 + len(months) * swatch + 22
        parts.append(svg_text(x, note_y, f"{len(months)} of {cohort_count} cohorts:",
                              class_="value-muted"))
        parts.append(svg_text(x, note_y + 16, "quarter starts", class_="value-muted"))
    return parts


def channel_chart(rows: list) -> str:
    """Per channel, mean 12-month LTV against CAC, with the LTV:CAC ratio."""
    rows = sorted(
        (row for row in rows if row["horizon"] == CHANNEL_HORIZON),
        key=lambda row: (row["ltv_to_cac"] is None, -(row["ltv_to_cac"] or 0),
                         row["acquisition_channel"]),
    )
    row_height, top, left, right = 50, 44, 150, 920
    height = top + row_height * len(rows) + 50
    width = 1100
    values = [v for row in rows for v in (row["ltv_mean"], row["cac"]) if v is not None]
    ticks = nice_ticks(max(values, default=0), 8)
    x_scale = LinearScale(0, ticks[-1], left, right)
    bottom = top + row_height * len(rows)
    parts = channel_legend(left, 18)
    for tick in ticks:
        x = x_scale(tick)
        parts.append(svg_line(x, top - 6, x, bottom, stroke=COLOUR_GRID))
        parts.append(svg_text(x, bottom + 18, format_money_short(tick),
                              text_anchor="middle", class_="tick"))
    parts.append(svg_text((left + right) / 2, bottom + 40,
                          "USD per acquired user", text_anchor="middle",
                          class_="axis-title"))
    parts.append(svg_text(right + 24, top - 12, "LTV : CAC", class_="axis-title"))
    if not rows:
        parts.append(no_data_note((left + right) / 2, top + 20, "No channel data"))
    for index, row in enumerate(rows):
        parts += channel_row(row, top + index * row_height, left, right, x_scale)
    title = "Mean 12-month LTV against acquisition cost (CAC) by channel"
    return svg_chart("channels", width, height, title, parts)


def channel_legend(x, y) -> list:
    """The legend of the channel chart: LTV bar, CAC bar, recommended max CAC tick."""
    entries = (
        (COLOUR_LTV, "Mean LTV, 12 months"),
        (COLOUR_CAC, "CAC"),
        (COLOUR_CAC_OVER, "CAC above the recommended max"),
    )
    parts = []
    for colour, label in entries:
        parts.append(svg_rect(x, y - 10, 14, 12, fill=colour))
        parts.append(svg_text(x + 20, y, label, class_="legend"))
        x += 40 + 7.5 * len(label)
    parts.append(svg_line(x, y - 12, x, y + 3, stroke=COLOUR_TEXT, stroke_width=2))
    parts.append(svg_text(x + 8, y, "Recommended max CAC", class_="legend"))
    return parts


def channel_row(row: dict, y: float, left, right, x_scale) -> list:
    """One channel: its name, the LTV and CAC bars with values, and the ratio."""
    ltv, cac, max_cac = row["ltv_mean"], row["cac"], row["recommended_max_cac"]
    name = row["acquisition_channel"]
    parts = [svg_text(left - 12, y + 26, name, text_anchor="end", class_="label")]
    if ltv is None:
        parts.append(
            svg_text(left + 6, y + 22, "no eligible users yet", class_="value-muted")
        )
        return parts
    ltv_end = x_scale(ltv)
    parts.append(svg_rect(
        left, y + 6, ltv_end - left, 18,
        f"{name}: mean 12-month LTV {format_money(ltv)} "
        f"({format_count(row['eligible_users'])} eligible users)",
        fill=COLOUR_LTV, class_="mark bar",
    ))
    parts.append(svg_text(ltv_end + 6, y + 20, format_money(ltv), class_="value"))
    if cac is None:
        note_x = x_scale(max_cac) + 8 if max_cac is not None else left + 6
        parts.append(svg_text(note_x, y + 39, "no CAC on record", class_="value-muted"))
    else:
        over = max_cac is not None and cac > max_cac
        cac_end = x_scale(cac)
        parts.append(svg_rect(
            left, y + 28, cac_end - left, 12, f"{name}: CAC {format_money(cac)}",
            fill=COLOUR_CAC_OVER if over else COLOUR_CAC, class_="mark bar",
        ))
        parts.append(
            svg_text(cac_end + 6, y + 39, format_money(cac), class_="value-muted")
        )
    if max_cac is not None:
        x = x_scale(max_cac)
        parts.append(svg_line(x, y + 25, x, y + 43, stroke=COLOUR_TEXT, stroke_width=2))
    parts.append(svg_text(right + 24, y + 27, format_ratio(row["ltv_to_cac"]),
                          class_="ratio"))
    return parts


# ----------------------------------------------------------------------- HTML sections


def headline_cards(summary: list) -> str:
    """One card per horizon: mean LTV large, then median, p95, activity, max CAC."""
    cards = []
    for row in summary:
        horizon = row["horizon"]
        stats = [
            ("Median", format_money(row["ltv_median"])),
            ("95th percentile", format_money(row["ltv_p95"])),
            ("Active share", format_share(row["active_share"])),
            ("Recommended max CAC", format_money(row["recommended_max_cac"])),
        ]
        rows = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in stats)
        population = (
            f"{format_count(row['eligible_users'])} eligible users"
            if horizon != "lifetime"
            else f"all {format_count(row['eligible_users'])} users"
        )
        cards.append(
            f'<article class="card" data-horizon="{escape(horizon)}">'
            f"<h3>{HORIZON_TITLES.get(horizon, escape(horizon))}</h3>"
            f'<p class="big">{format_money(row["ltv_mean"])}</p>'
            f'<p class="caption">mean LTV of {population}<br>'
            f"{format_count(row['active_users'])} of them active</p>"
            f"<dl>{rows}</dl></article>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def distribution_section(distribution: list, summary: list) -> str:
    """A histogram per horizon, with its eligible users in the caption."""
    eligible = {row["horizon"]: row["eligible_users"] for row in summary}
    figures = []
    for horizon in HORIZONS:
        rows = [row for row in distribution if row["horizon"] == horizon]
        if not rows:
            continue
        figures.append(
            f"<figure><figcaption><strong>{HORIZON_TITLES[horizon]}</strong> "
            f"&middot; {format_count(eligible.get(horizon))} eligible users"
            f"</figcaption>{distribution_chart(horizon, rows)}</figure>"
        )
    return (
        "<section><h2>Distribution of LTV</h2>"
        '<p class="lead">Users per revenue bucket (count and share) among the users '
        "whose horizon is complete; the grey bar holds users without revenue.</p>"
        f'<div class="grid-2">{"".join(figures)}</div></section>'
    )


def cohort_section(cohorts: list) -> str:
    """The cohort curves and how to read them."""
    return (
        "<section><h2>LTV curves by signup cohort</h2>"
        '<p class="lead">Cumulative revenue per user of each monthly signup cohort by '
        "month of life; a cohort's curve stops where its youngest user has not "
        "completed the month yet. Dashed lines: at m = 2, 5 and 11 a curve equals the "
        "cohort's mean 3-, 6- and 12-month LTV. Colours run from the oldest cohort "
        "(dark blue) to the newest (orange).</p>"
        f"<figure>{cohort_chart(cohorts)}</figure></section>"
    )


def channel_section(channels: list) -> str:
    """LTV against CAC by channel."""
    return (
        "<section><h2>LTV against acquisition cost by channel</h2>"
        '<p class="lead">Mean 12-month LTV of each acquisition channel next to its '
        "acquisition cost (CAC), sorted by the LTV:CAC ratio. The black tick is the "
        "recommended maximum CAC (mean LTV divided by the target ratio); a red CAC bar "
        "is above it.</p>"
        f"<figure>{channel_chart(channels)}</figure></section>"
    )


def share_cell(value) -> str:
    """A table cell with a percentage and a small inline bar."""
    width = 0 if value is None else max(0.0, min(float(value), 1.0)) * 100
    return (
        f'<td class="num share"><span class="share-bar" style="width:{width:.1f}%">'
        f"</span><span>{format_share(value)}</span></td>"
    )


def segment_table(segments: list) -> str:
    """The segment table: users, lifetime revenue and its spread per segment."""
    header = (
        "<tr><th>Segment</th><th>Users</th><th>Share of users</th>"
        "<th>Lifetime revenue</th><th>Share of revenue</th><th>Mean LTV</th>"
        "<th>Min LTV</th><th>Max LTV</th></tr>"
    )
    body = "".join(
        f"<tr><th scope=\"row\">{escape(row['ltv_segment'])}</th>"
        f"<td class=\"num\">{format_count(row['users'])}</td>"
        f"{share_cell(row['share_of_users'])}"
        f"<td class=\"num\">{format_money(row['revenue_lifetime'])}</td>"
        f"{share_cell(row['share_of_revenue'])}"
        f"<td class=\"num\">{format_money(row['ltv_mean_lifetime'])}</td>"
        f"<td class=\"num\">{format_money(row['min_revenue_lifetime'])}</td>"
        f"<td class=\"num\">{format_money(row['max_revenue_lifetime'])}</td></tr>"
        for row in segments
    )
    return (
        "<section><h2>Segments</h2>"
        '<p class="lead">New: the 3-month horizon is still open. The others rank '
        "lifetime revenue among the remaining users; with the default cut-offs "
        "(project vars) VIP is the top 5%, High the next 20%, Medium the next 50%, "
        "Low the rest.</p>"
        f'<table class="segments"><thead>{header}</thead><tbody>{body}</tbody></table>'
        "</section>"
    )


def clv_section(marts: Marts) -> str:
    """Predicted CLV by segment, the fit's parameters and its backtest."""
    if not marts.clv_parameters:
        return (
            "<section><h2>Predicted CLV</h2><p class=\"lead\">No CLV fit of this "
            "source: run <code>make fit-clv</code> and build again.</p></section>"
        )
    segments = "".join(
        f"<tr><th scope=\"row\">{escape(row['ltv_segment'])}</th>"
        f"<td class=\"num\">{format_count(row['users'])}</td>"
        f"<td class=\"num\">{format_money(row['predicted_clv_12m_mean'])}</td>"
        f"<td class=\"num\">{format_money(row['predicted_clv_12m_total'])}</td>"
        f"{share_cell(row['share_alive'])}"
        f"<td class=\"num\">{float(row['expected_purchases_365d']):,.0f}</td></tr>"
        for row in marts.clv_segments
    )
    fitted = marts.clv_parameters[0]["fitted_as_of_date"]
    parameters = ", ".join(
        f"{escape(row['parameter'])} = {float(row['value']):.4g}"
        for row in marts.clv_parameters
    )
    backtest = "".join(
        f"<tr><th scope=\"row\">{escape(row['frequency_bin'])}</th>"
        f"<td class=\"num\">{format_count(row['customers'])}</td>"
        f"<td class=\"num\">{format_count(row['actual_repeat_purchases'])}</td>"
        f"<td class=\"num\">{float(row['expected_repeat_purchases']):,.1f}</td></tr>"
        for row in marts.clv_backtest
    )
    backtest_part = (
        "<h3>Backtest</h3>"
        f"<p class=\"lead\">Fitted as of {marts.clv_backtest[0]['calibration_end_date']}"
        ", repeat purchases from then to the as-of date by repeat purchases before."
        "</p><table class=\"segments\"><thead><tr><th>Repeat purchases before</th>"
        "<th>Users</th><th>Actual</th><th>Expected</th></tr></thead>"
        f"<tbody>{backtest}</tbody></table>"
        if marts.clv_backtest else ""
    )
    return (
        "<section><h2>Predicted CLV (next 12 months)</h2>"
        f"<p class=\"lead\">BG/NBD and Gamma-Gamma fitted as of {fitted} ({parameters};"
        " time in days), discounted monthly (mart user_clv).</p>"
        "<table class=\"segments\"><thead><tr><th>Segment</th><th>Users scored</th>"
        "<th>Mean predicted CLV</th><th>Total predicted CLV</th><th>Share alive</th>"
        "<th>Expected purchases (365 days)</th></tr></thead>"
        f"<tbody>{segments}</tbody></table>{backtest_part}</section>"
    )


STYLE = f"""
:root {{ color: {COLOUR_TEXT}; background: #f5f7fa; }}
body {{ margin: 0; font: 15px/1.45 {FONT_STACK}; font-variant-numeric: tabular-nums; }}
main {{ max-width: 1200px; margin: 0 auto; padding: 28px 24px 40px; }}
header h1 {{ margin: 0 0 4px; font-size: 28px; }}
header p {{ margin: 0; color: {COLOUR_MUTED}; }}
h2 {{ font-size: 20px; margin: 34px 0 4px; }}
.lead {{ margin: 0 0 14px; color: {COLOUR_MUTED}; max-width: 900px; }}
.cards {{ display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 14px;
  margin-top: 22px; }}
.card, figure, table.segments {{ background: #fff; border: 1px solid {COLOUR_GRID};
  border-radius: 8px; }}
.card {{ padding: 14px 16px; }}
.card h3 {{ margin: 0; font-size: 14px; text-transform: uppercase;
  letter-spacing: .05em; color: {COLOUR_MUTED}; }}
.card .big {{ margin: 4px 0 0; font-size: 30px; font-weight: 700; }}
.card .caption {{ margin: 0 0 10px; font-size: 13px; color: {COLOUR_MUTED}; }}
.card dl {{ display: grid; grid-template-columns: 1fr auto; gap: 4px 8px; margin: 0;
  font-size: 13.5px; }}
.card dt {{ color: {COLOUR_MUTED}; white-space: nowrap; }}
.card dd {{ margin: 0; text-align: right; font-weight: 600; white-space: nowrap; }}
figure {{ margin: 0; padding: 12px 14px 8px; }}
figcaption {{ font-size: 14px; color: {COLOUR_MUTED}; }}
figcaption strong {{ color: {COLOUR_TEXT}; }}
.grid-2 {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }}
svg {{ display: block; max-width: 100%; height: auto; font-family: {FONT_STACK}; }}
svg .tick {{ font-size: 12px; fill: {COLOUR_MUTED}; }}
svg .axis-title {{ font-size: 13px; fill: {COLOUR_TEXT}; }}
svg .value {{ font-size: 12px; font-weight: 600; fill: {COLOUR_TEXT}; }}
svg .value-muted {{ font-size: 12px; fill: {COLOUR_MUTED}; }}
svg .legend {{ font-size: 13px; fill: {COLOUR_TEXT}; }}
svg .label {{ font-size: 14px; fill: {COLOUR_TEXT}; }}
svg .ratio {{ font-size: 16px; font-weight: 700; fill: {COLOUR_TEXT}; }}
table.segments {{ border-collapse: separate; border-spacing: 0; width: 100%;
  overflow: hidden; }}
table.segments th, table.segments td {{ padding: 9px 14px; text-align: left;
  border-bottom: 1px solid {COLOUR_GRID}; }}
table.segments tbody tr:last-child > * {{ border-bottom: 0; }}
table.segments thead th {{ font-size: 13px; color: {COLOUR_MUTED}; font-weight: 600;
  background: #fafbfc; }}
table.segments .num {{ text-align: right; }}
table.segments thead th:not(:first-child) {{ text-align: right; }}
td.share {{ position: relative; min-width: 110px; }}
td.share span {{ position: relative; }}
td.share .share-bar {{ position: absolute; left: 0; top: 25%; height: 50%;
  background: #dbe7f3; border-radius: 0 3px 3px 0; }}
footer {{ margin-top: 30px; font-size: 13px; color: {COLOUR_MUTED}; }}
"""

# Offline self-check for headless browsers: how many charts have visible marks.
RENDER_CHECK_SCRIPT = """
window.addEventListener("load", function () {
  var charts = document.querySelectorAll("svg[data-chart]");
  var rendered = 0;
  charts.forEach(function (svg) {
    var box = svg.getBBox();
    var marks = svg.querySelectorAll(".mark");
    var visible = Array.prototype.some.call(marks, function (mark) {
      var b = mark.getBBox();
      return b.width > 0 && (b.height > 0 || mark.tagName === "path");
    });
    if (box.width > 0 && box.height > 0 && visible) { rendered += 1; }
  });
  document.body.setAttribute("data-total-charts", String(charts.length));
  document.body.setAttribute("data-rendered-charts", String(rendered));
});
"""


def render_report(marts: Marts, source: str) -> str:
    """The whole report as one HTML document."""
    as_of = marts.as_of_date
    as_of_text = as_of.isoformat() if as_of is not None else "unknown date"
    sections = [
        "<header>",
        f"<h1>Customer Lifetime Value &mdash; as of {as_of_text}</h1>",
        f"<p>Orders dated before {as_of_text} (the as-of date is exclusive). "
        "Amounts in USD. Horizons count only users who have completed them.</p>",
        "</header>",
        headline_cards(marts.summary),
        distribution_section(marts.distribution, marts.summary),
        cohort_section(marts.cohorts),
        channel_section(marts.channels),
        segment_table(marts.segments),
        clv_section(marts),
        f"<footer>Source: {escape(source)} &middot; marts ltv_summary, ltv_segments, "
        "ltv_distribution, ltv_cohorts, ltv_by_channel, user_clv, clv_model_parameters, "
        "clv_backtest &middot; rendered by "
        "scripts/render_report.py</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer LTV report as of {as_of_text}</title>"
        f"<style>{STYLE}</style></head>\n"
        f"<body><main>{''.join(sections)}</main>"
        f"<script>{RENDER_CHECK_SCRIPT}</script></body></html>\n"
    )


# ------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    """The command line: --target and --out, with defaults from the environment."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default=os.environ.get("DBT_TARGET", "duckdb"),
        help="warehouse to read the marts from (default: $DBT_TARGET or duckdb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("target/ltv_report.html"),
        help="HTML file to write (default: target/ltv_report.html)",
    )
    args = parser.parse_args(argv)
    if args.target not in TARGETS:  # argparse does not check a default from the env
        parser.error(f"DBT_TARGET={args.target!r} is not one of {', '.join(TARGETS)}")
    return args


def describe_source(target: str, schema: str) -> str:
    """Where the marts were read from, for the report's footer."""
    if target == "duckdb":
        location = Path(os.environ.get("DBT_DUCKDB_PATH", "warehouse.duckdb")).name
        return f"DuckDB {location}, schema {schema}"
    database = os.environ.get("PGDATABASE", "postgres")
    return f"PostgreSQL database {database}, schema {schema}"


def main(argv=None) -> int:
    args = parse_args(argv)
    schema = os.environ.get("DBT_SCHEMA", "ltv")
    connection = connect(args.target)
    try:
        marts = load_marts(connection, schema)
    finally:
        connection.close()
    html = render_report(marts, describe_source(args.target, schema))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(html, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
