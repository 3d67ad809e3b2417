"""Render the LTV marts as one self-contained HTML report.

Usage (from the project root, after `make build`):

    .venv/bin/python scripts/render_report.py [--target duckdb|postgres] [--out PATH]

The report reads the published marts as the service does (serve/app/core/snapshot.py:
one consistent copy, the DuckDB file opened read-only, PostgreSQL in one read-only
snapshot transaction as LTV_SERVE_READ_ROLE, default `ltv_analyst`, empty: the login
role), with the settings of the dbt profile (serve/app/core/config.py): the target
(`--target`, else DBT_TARGET, else `duckdb`), DBT_DUCKDB_PATH, DBT_SCHEMA and PG*.

The output (default `target/ltv_report.html`) is a single file that works offline: CSS
inline, plotly.js embedded once, every chart a plotly figure of serve/app/charts.py
(the dashboard's specs) in a `<figure data-chart="NAME">`. Money keeps the marts'
precision until it is formatted for display.
"""

import argparse
import os
import sys
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path

import plotly.io
import plotly.offline

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from serve.app import charts, queries, verdict  # noqa: E402
from serve.app.core.config import Settings  # noqa: E402
from serve.app.core.snapshot import NoPublishedBuild, source_for  # noqa: E402

TARGETS = ("duckdb", "postgres")
HORIZONS = ("3m", "6m", "12m", "lifetime")
HORIZON_TITLES = {"3m": "3 months", "6m": "6 months", "12m": "12 months",
                  "lifetime": "Lifetime"}  # fmt: skip
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

COLOUR_TEXT = "#1f2933"
COLOUR_MUTED = "#616e7c"
COLOUR_GRID = "#e4e7eb"
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Liberation Sans", "DejaVu Sans", sans-serif'
)


# ---------------------------------------------------------------------- reading marts


def read_marts(settings: Settings) -> dict:
    """The rows the report shows, by name, from one copy of the published marts.
    The backtest's measures and deciles are None when they are not published."""
    source = source_for(settings)
    try:
        version = source.version()
        if version is None:
            raise NoPublishedBuild(f"no warehouse at {settings.duckdb_path}")
        snapshot = source.load(version)
    except NoPublishedBuild as error:
        raise SystemExit(f"No published marts ({error}): build the project first")
    try:
        return {
            "summary": snapshot.rows(queries.SUMMARY),
            "segments": snapshot.rows(queries.SEGMENTS),
            "distribution": snapshot.rows(queries.DISTRIBUTION, [None, None]),
            "cohorts": snapshot.rows(queries.COHORTS),
            "channels": snapshot.rows(queries.CHANNELS),
            "top_customers": snapshot.rows(queries.TOP_CUSTOMERS),
            "clv_segments": snapshot.rows(queries.CLV_SEGMENTS),
            "clv_parameters": snapshot.rows(queries.CLV_PARAMETERS),
            "clv_backtest": snapshot.rows(queries.CLV_BACKTEST),
            "backtest_measures": snapshot.rows_if_present(
                queries.BACKTEST_MEASURES_TABLE, queries.BACKTEST_MEASURES),
            "backtest_deciles": snapshot.rows_if_present(
                queries.BACKTEST_DECILES_TABLE, queries.BACKTEST_DECILES),
        }  # fmt: skip
    finally:
        snapshot.connection.close()


# ------------------------------------------------------------------------ formatting


def format_money(value) -> str:
    """USD for display, to the cent: $1,234.56 (an em dash for null)."""
    if value is None:
        return "\u2014"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def format_count(value) -> str:
    """An integer with thousands separators (an em dash for null)."""
    return "\u2014" if value is None else f"{int(value):,}"


def format_share(value) -> str:
    """A fraction as a percentage with one decimal (an em dash for null)."""
    return "\u2014" if value is None else f"{float(value) * 100:.1f}%"


def chart(name: str, figure) -> str:
    """A plotly figure as a <figure data-chart=NAME>; plotly.js is in the head."""
    div = plotly.io.to_html(
        figure, full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
        config=PLOTLY_CONFIG, default_width="100%",
    )  # fmt: skip
    return f'<figure data-chart="{escape(name)}">{div}</figure>'


def table(header: list, rows: list, class_: str = "segments") -> str:
    """A table: header labels, rows of ready cells (<th> or <td>)."""
    head = "".join(f"<th>{label}</th>" for label in header)
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in rows)
    return (f'<table class="{class_}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")  # fmt: skip


def row_header(value) -> str:
    return f'<th scope="row">{escape(str(value))}</th>'


def num(text: str) -> str:
    return f'<td class="num">{text}</td>'


def share_cell(value) -> str:
    """A table cell with a percentage and a small inline bar."""
    width = 0 if value is None else max(0.0, min(float(value), 1.0)) * 100
    return (
        f'<td class="num share"><span class="share-bar" style="width:{width:.1f}%">'
        f"</span><span>{format_share(value)}</span></td>"
    )


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


def distribution_section(marts: dict) -> str:
    """A histogram per horizon."""
    figures = [
        chart(f"distribution-{horizon}", charts.distribution(marts["distribution"], horizon))
        for horizon in HORIZONS
        if any(row["horizon"] == horizon for row in marts["distribution"])
    ]
    return (
        "<section><h2>Distribution of LTV</h2>"
        '<p class="lead">Users per revenue bucket among the users whose horizon is '
        "complete (hover a bar for its revenue).</p>"
        f'<div class="grid-2">{"".join(figures)}</div></section>'
    )


def cohort_section(marts: dict) -> str:
    return (
        "<section><h2>LTV by signup cohort</h2>"
        '<p class="lead">Cumulative revenue per user of each monthly signup cohort by '
        "month of life; a cohort's row stops where its youngest user has not "
        "completed the month yet. Month 2, 5 and 11 hold the cohort's mean 3-, 6- and "
        "12-month LTV.</p>"
        f"{chart('cohorts', charts.cohorts(marts['cohorts']))}</section>"
    )


def channel_section(marts: dict) -> str:
    return (
        "<section><h2>LTV against acquisition cost by channel</h2>"
        '<p class="lead">Mean 12-month LTV of each acquisition channel next to its '
        "acquisition cost (CAC). The black tick is the recommended maximum CAC (mean "
        "LTV divided by the target ratio): a CAC bar above it costs too much.</p>"
        f"{chart('channels', charts.channels(marts['channels']))}</section>"
    )


def segment_section(marts: dict) -> str:
    """The segment table: users, lifetime revenue and its spread per segment."""
    rows = [
        [row_header(row["ltv_segment"]), num(format_count(row["users"])),
         share_cell(row["share_of_users"]), num(format_money(row["revenue_lifetime"])),
         share_cell(row["share_of_revenue"]), num(format_money(row["ltv_mean_lifetime"])),
         num(format_money(row["min_revenue_lifetime"])),
         num(format_money(row["max_revenue_lifetime"]))]
        for row in marts["segments"]
    ]  # fmt: skip
    header = ["Segment", "Users", "Share of users", "Lifetime revenue",
              "Share of revenue", "Mean LTV", "Min LTV", "Max LTV"]  # fmt: skip
    return (
        "<section><h2>Segments</h2>"
        '<p class="lead">New: the 3-month horizon is still open. The others rank '
        "lifetime revenue among the remaining users; with the default cut-offs "
        "(project vars) VIP is the top 5%, High the next 20%, Medium the next 50%, "
        f"Low the rest.</p>{table(header, rows)}"
        f"{chart('segments', charts.segments(marts['segments']))}</section>"
    )


def top_customers_section(marts: dict) -> str:
    """The 25 users of the highest lifetime revenue."""
    rows = [
        [row_header(row["user_id"]), f"<td>{escape(row['ltv_segment'])}</td>",
         f"<td>{escape(str(row['acquisition_channel']))}</td>",
         num(format_count(row["orders_lifetime"])),
         *(num(format_money(row[f"revenue_{h}"])) for h in HORIZONS)]
        for row in marts["top_customers"]
    ]  # fmt: skip
    header = ["User", "Segment", "Channel", "Orders", "Revenue 3m", "Revenue 6m",
              "Revenue 12m", "Lifetime revenue"]  # fmt: skip
    return (
        "<section><h2>Top customers</h2>"
        f'<p class="lead">The {len(rows)} users of the highest lifetime revenue '
        "(user_ltv). A horizon that is still open shows the revenue so far.</p>"
        f'{table(header, rows, "segments top-customers")}</section>'
    )


P_ALIVE_TEXT = (
    "<strong>Share alive</strong> is the mean P(alive): the BG/NBD model's probability "
    "that a customer still buys. In the model a customer can drop out only right after "
    "a repeat purchase, so a one-time buyer has not yet shown a dropout, and the model "
    "calls them alive (P(alive) = 1). A segment full of one-time "
    "buyers therefore looks fully alive: read its expected purchases, and the share "
    "alive among repeat buyers, beside it."
)


def clv_section(marts: dict) -> str:
    """Predicted CLV by segment, the fit's parameters, the backtest and its verdict."""
    if not marts["clv_parameters"]:
        return (
            "<section><h2>Predicted CLV</h2><p class=\"lead\">No CLV fit of this "
            "source: run <code>make fit-clv</code> and build again.</p></section>"
        )
    rows = [
        [row_header(row["ltv_segment"]), num(format_count(row["users"])),
         num(format_money(row["predicted_clv_12m_mean"])),
         num(format_money(row["predicted_clv_12m_total"])),
         share_cell(row["share_alive"]), num(format_count(row["one_time_buyers"])),
         share_cell(row["share_alive_repeat"]),
         num("\u2014" if row["expected_purchases_365d"] is None
             else f"{float(row['expected_purchases_365d']):,.0f}")]
        for row in marts["clv_segments"]
    ]  # fmt: skip
    header = ["Segment", "Users scored", "Mean predicted CLV", "Total predicted CLV",
              "Share alive", "One-time buyers (alive by construction)",
              "Share alive of repeat buyers", "Expected purchases (365 days)"]  # fmt: skip
    fitted = marts["clv_parameters"][0]["fitted_as_of_date"]
    parameters = ", ".join(
        f"{escape(row['parameter'])} = {float(row['value']):.4g}"
        for row in marts["clv_parameters"]
    )
    return (
        "<section><h2>Predicted CLV (next 12 months)</h2>"
        f"<p class=\"lead\">BG/NBD and Gamma-Gamma fitted as of {fitted} ({parameters};"
        " time in days), discounted monthly (mart user_clv).</p>"
        f'<p class="lead p-alive">{P_ALIVE_TEXT}</p>'
        f'{table(header, rows, "segments clv-segments")}'
        + backtest_part(marts) + "</section>"
    )


# Who is better on a measure, by verdict.model_wins (None: a value is missing).
BETTER = {True: "model", False: "baseline or tie", None: "not compared"}


def backtest_part(marts: dict) -> str:
    """The repeat-purchase backtest, and the model against the naive baseline."""
    parts = []
    if marts["clv_backtest"]:
        end = marts["clv_backtest"][0]["calibration_end_date"]
        parts.append(
            "<h3>Backtest of repeat purchases</h3>"
            f'<p class="lead">Fitted as of {end}; repeat purchases from then to the '
            "as-of date, by repeat purchases before.</p>"
            + chart("clv_backtest", charts.clv_backtest(marts["clv_backtest"]))
        )
    result = verdict.verdict(marts["backtest_measures"])
    parts.append(
        "<h3>Verdict: the model against a naive baseline</h3>"
        f'<p class="lead verdict" data-status="{result["status"]}">'
        f"{escape(result['text'])}</p>"
    )
    if result["status"] == "ok":
        rows = [
            [row_header(m["label"]), num(verdict.shown(m["measure"], m["model"])),
             num(verdict.shown(m["measure"], m["baseline"])),
             num(BETTER[m["model_wins"]])]
            for m in result["measures"]
        ]  # fmt: skip
        parts.append(table(["Measure", "Model", "Baseline", "Better"], rows,
                           "segments verdict-measures"))
    if marts["backtest_deciles"]:
        parts.append(chart("backtest_calibration",
                           charts.backtest_calibration(marts["backtest_deciles"])))
    return "".join(parts)


STYLE = f"""
:root {{ color: {COLOUR_TEXT}; background: #f5f7fa; }}
body {{ margin: 0; font: 15px/1.45 {FONT_STACK}; font-variant-numeric: tabular-nums; }}
main {{ max-width: 1200px; margin: 0 auto; padding: 28px 24px 40px; }}
header h1 {{ margin: 0 0 4px; font-size: 28px; }}
header p {{ margin: 0; color: {COLOUR_MUTED}; }}
h2 {{ font-size: 20px; margin: 34px 0 4px; }}
h3 {{ font-size: 16px; margin: 22px 0 4px; }}
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
.card dt {{ color: {COLOUR_MUTED}; }}
.card dd {{ margin: 0; text-align: right; font-weight: 600; white-space: nowrap; }}
figure {{ margin: 12px 0 0; padding: 8px; }}
.grid-2 {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }}
.grid-2 figure {{ margin: 0; min-width: 0; }}
table.segments {{ border-collapse: separate; border-spacing: 0; width: 100%;
  overflow: hidden; margin-bottom: 12px; }}
table.segments th, table.segments td {{ padding: 9px 14px; text-align: left;
  border-bottom: 1px solid {COLOUR_GRID}; }}
table.segments tbody tr:last-child > * {{ border-bottom: 0; }}
table.segments thead th {{ font-size: 13px; color: {COLOUR_MUTED}; font-weight: 600;
  background: #fafbfc; vertical-align: bottom; }}
table.segments .num {{ text-align: right; }}
table.segments thead th:not(:first-child) {{ text-align: right; }}
table.top-customers thead th:nth-child(2), table.top-customers thead th:nth-child(3)
  {{ text-align: left; }}
td.share {{ position: relative; min-width: 80px; }}
td.share span {{ position: relative; }}
td.share .share-bar {{ position: absolute; left: 0; top: 25%; height: 50%;
  background: #dbe7f3; border-radius: 0 3px 3px 0; }}
footer {{ margin-top: 30px; font-size: 13px; color: {COLOUR_MUTED}; }}
"""


def render_report(marts: dict, source: str) -> str:
    """The whole report as one HTML document."""
    as_of = marts["summary"][0]["as_of_date"] if marts["summary"] else None
    as_of_text = as_of.isoformat() if as_of is not None else "unknown date"
    sections = [
        "<header>",
        f"<h1>Customer Lifetime Value &mdash; as of {as_of_text}</h1>",
        f"<p>Orders dated before {as_of_text} (the as-of date is exclusive). "
        "Amounts in USD. Horizons count only users who have completed them.</p>",
        "</header>",
        headline_cards(marts["summary"]),
        distribution_section(marts),
        cohort_section(marts),
        channel_section(marts),
        segment_section(marts),
        top_customers_section(marts),
        clv_section(marts),
        f"<footer>Source: {escape(source)} &middot; charts of serve/app/charts.py "
        "&middot; rendered by scripts/render_report.py</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer LTV report as of {as_of_text}</title>"
        f"<style>{STYLE}</style>"
        f'<script id="plotly-js">{plotly.offline.get_plotlyjs()}</script></head>\n'
        f"<body><main>{''.join(sections)}</main></body></html>\n"
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


def describe_source(settings: Settings) -> str:
    """Where the marts were read from, for the report's footer."""
    if settings.dbt_target == "duckdb":
        return f"DuckDB {settings.duckdb_path.name}, schema {settings.dbt_schema}"
    return f"PostgreSQL database {settings.pgdatabase}, schema {settings.dbt_schema}"


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = Settings(dbt_target=args.target)
    html = render_report(read_marts(settings), describe_source(settings))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(html, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
