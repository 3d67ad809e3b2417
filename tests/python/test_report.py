"""The HTML report of scripts/render_report.py, checked as a file and in a browser.

The demo (default source: the seeds in seeds/demo) is built once on DuckDB, in a file
of our own under pytest's tmp dir, with the demo's fixed as-of date. The report must be
self-contained (plotly.js embedded once, no external resource), state its as-of date,
agree with the marts on the headline numbers, the segments' order and the top
customers, and hold every chart as a plotly figure. Then headless Chromium (Debian's
`chromium`; through selenium and chromedriver as for the dashboard) opens it from disk:
every chart must be drawn with visible marks, no two texts of the cards and tables
may overlap, and the screenshot must not be blank. The CLV backtest's verdict is
the demo's own, and on copies of the demo with hand-made backtest marts (none, empty,
and rows that decide it).

Chromium is required: without it these tests fail (`make browser`).
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from harness import PROJECT_DIR
from harness.backtest import VERDICT_START, warehouse_with_backtest
from harness.browser import OVERLAPS_JS
from harness.dbt_runs import DBT, project_args

AS_OF_DATE = "2026-07-01"
SCHEMA = "ltv_report"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver")
WINDOW = (1280, 4000)
# The demo has a CLV fit (clv_backtest) but no backtest measures yet.
EXPECTED_CHARTS = {
    "distribution-3m",
    "distribution-6m",
    "distribution-12m",
    "distribution-lifetime",
    "cohorts",
    "channels",
    "segments",
    "clv_backtest",
    "backtest_calibration",
}
CHROMIUM_TIMEOUT_SECONDS = 120
PLOTLY_JS = re.compile(r'<script id="plotly-js">.*?</script>', re.DOTALL)


# ------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def demo_warehouse(work_dir, profiles_dir) -> Path:
    """The demo built on a DuckDB file of our own; its path.

    dbt runs in a subprocess, not in-process (invoke_dbt): dbt-duckdb keeps
    its database open until the process ends, and that lock would stop the report
    script (another process) from opening the file.
    """
    path = work_dir / "demo.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(path), "DBT_SCHEMA": SCHEMA}
    command = [
        DBT, "build",
        *project_args(
            "duckdb", json.dumps({"ltv_as_of_date": AS_OF_DATE}), work_dir, profiles_dir
        ),
    ]
    result = subprocess.run(
        command, cwd=work_dir, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-5000:]}"
    return path


def render(warehouse: Path, out: Path) -> Path:
    """The report rendered by the script's command line, as a user runs it."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "DBT_SCHEMA": SCHEMA}
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "render_report.py"),
         "--target", "duckdb", "--out", str(out)],
        cwd=out.parent, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def report_path(demo_warehouse, work_dir) -> Path:
    return render(demo_warehouse, work_dir / "ltv_report.html")


@pytest.fixture(scope="module")
def report_html(report_path) -> str:
    return report_path.read_text(encoding="utf-8")


def query(warehouse: Path, sql: str) -> list:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


# ------------------------------------------------------------------ HTML inspection


class Tags(HTMLParser):
    """Every start tag with its attributes; the cells of each table, by class."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.tables = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parsed(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def body_rows(tags: Tags, class_: str) -> list:
    """The rows of the table of this class, without its header row."""
    return tags.tables[class_][1:]


def money(value) -> str:
    return f"${value:,.2f}"


# ------------------------------------------------------------------------ chromium


def find_chromium() -> str:
    """Chromium's path. Called in the tests, not in a fixture, so that a missing browser
    is a test failure (CI must have it), never a skip or a setup error."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the report tests need a headless "
            "browser; install it with `make browser`",
            pytrace=False,
        )
    return CHROMIUM


def run_chromium(profile_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium, offline and with a throwaway profile."""
    command = [
        find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile_dir}", *args,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_SECONDS
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def browser(report_path):
    """Headless Chromium (selenium) on the report, opened from disk."""
    find_chromium()
    if CHROMEDRIVER is None:
        pytest.fail("chromium-driver is required (make browser)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     f"--window-size={WINDOW[0]},1600"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.get(report_path.as_uri())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and driver.execute_script(
        "return document.querySelectorAll('figure[data-chart] .main-svg').length"
        " < document.querySelectorAll('figure[data-chart]').length"
    ):
        time.sleep(0.2)
    yield driver
    driver.quit()


# Per chart: plotly's div, its svg, and its data marks with a visible box.
CHART_MARKS_JS = """
const found = {};
for (const figure of document.querySelectorAll('figure[data-chart]')) {
  const plot = figure.querySelector('.js-plotly-plot');
  const marks = plot ? [...plot.querySelectorAll(
    '.main-svg .trace path, .main-svg .hm image, .main-svg .trace .point')] : [];
  found[figure.dataset.chart] = {
    plot: plot !== null,
    svg: plot ? plot.querySelectorAll('svg.main-svg').length : 0,
    traces: plot ? plot.querySelectorAll('.main-svg .trace, .main-svg .hm').length : 0,
    visible: marks.filter((m) => {
      const b = m.getBoundingClientRect();
      return b.width > 0 && b.height > 0;
    }).length,
  };
}
return found;
"""

# The texts of the cards and tables, which must not overlap.
TEXTS = "h1, h2, h3, .lead, .card .big, .card .caption, .card dt, .card dd, th, td"


# --------------------------------------------------------------------- PNG decoding


def decode_png(data: bytes) -> tuple:
    """(width, height, channels, rows) of an 8-bit RGB/RGBA PNG; rows of raw bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    position, chunks, idat = 8, {}, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        (idat.append(body) if kind == b"IDAT" else chunks.setdefault(kind, body))
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(
        ">IIBBBBB", chunks[b"IHDR"]
    )
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, "unsupported PNG"
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]),
                       previous, channels)
        rows.append(bytes(row))
        previous = row
    return width, height, channels, rows


def unfilter(kind: int, row: bytearray, previous: bytearray, bpp: int) -> bytearray:
    """Undo one scanline's PNG filter (None, Sub, Up, Average, Paeth)."""
    if kind == 0:
        return row
    if kind == 2:
        return bytearray((a + b) & 0xFF for a, b in zip(row, previous))
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 1:
            predictor = left
        elif kind == 3:
            predictor = (left + previous[i]) >> 1
        else:
            predictor = paeth(left, previous[i], previous[i - bpp] if i >= bpp else 0)
        row[i] = (row[i] + predictor) & 0xFF
    return row


def paeth(left: int, up: int, up_left: int) -> int:
    """The PNG Paeth predictor: the neighbour closest to left + up - up_left."""
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    return (left, up, up_left)[distances.index(min(distances))]


def colour_statistics(rows: list, channels: int, background: bytes) -> tuple:
    """Distinct RGB colours, and the share of pixels not of the background colour."""
    colours, other = set(), 0
    total = 0
    for row in rows:
        pixels = [row[i : i + 3] for i in range(0, len(row), channels)]
        colours.update(pixels)
        other += sum(pixel != background for pixel in pixels)
        total += len(pixels)
    return len(colours), other / total


# ---------------------------------------------------------------------------- tests


def test_report_is_self_contained(report_html):
    """plotly.js embedded once; beside it, no URL and no reference to a resource."""
    assert len(PLOTLY_JS.findall(report_html)) == 1, "plotly.js must be inlined once"
    assert report_html.count("* plotly.js v") == 1
    text = PLOTLY_JS.sub("", report_html)
    assert not re.findall(r"https?://[^\s\"'<>)]*", text)
    for tag, attrs in parsed(report_html).tags:
        assert not {"src", "href"} & set(attrs), f"<{tag}> refers to a resource"
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
    assert "@import" not in text and "url(" not in text, "CSS refers to a resource"


def test_report_states_its_as_of_date(report_html):
    assert f"<title>Customer LTV report as of {AS_OF_DATE}</title>" in report_html
    assert re.search(rf"<h1>[^<]*as of {AS_OF_DATE}</h1>", report_html)


def test_headline_numbers_are_the_marts(report_html, demo_warehouse):
    """Each horizon's card shows its mean LTV and recommended max CAC, to the cent."""
    summary = query(demo_warehouse, "select horizon, ltv_mean, recommended_max_cac"
                    f" from {SCHEMA}.ltv_summary")  # fmt: skip
    assert len(summary) == 4
    for horizon, mean, max_cac in summary:
        card = re.search(
            rf'<article class="card" data-horizon="{horizon}">(.*?)</article>',
            report_html,
        )
        assert card, f"no card for horizon {horizon}"
        assert money(mean) in card.group(1)
        assert money(max_cac) in card.group(1)


def test_every_chart_is_a_plotly_figure(report_html):
    charts = {attrs["data-chart"] for tag, attrs in parsed(report_html).tags
              if tag == "figure" and "data-chart" in attrs}  # fmt: skip
    assert charts == EXPECTED_CHARTS
    assert "<svg" not in PLOTLY_JS.sub("", report_html), "a chart drawn by hand"
    for name in EXPECTED_CHARTS:
        assert f'id="chart-{name}" class="plotly-graph-div"' in report_html, name
        assert re.search(rf'Plotly\.newPlot\(\s*"chart-{name}"', report_html), name


def test_chromium_draws_every_chart_with_marks(browser):
    charts = browser.execute_script(CHART_MARKS_JS)
    assert set(charts) == EXPECTED_CHARTS
    for name, found in charts.items():
        assert found["plot"] and found["svg"] >= 1, f"{name}: plotly drew nothing"
        assert found["traces"] >= 1 and found["visible"] >= 1, f"{name}: no marks"


def test_no_two_texts_overlap_in_the_cards_and_tables(browser, work_dir):
    assert browser.execute_script(OVERLAPS_JS, TEXTS) == []
    assert browser.save_screenshot(str(work_dir / "report-top.png"))


def test_segments_are_in_the_projects_order(report_html, demo_warehouse):
    """The order of ltv_segments.segment_order (the model defines it once), in the
    segment table and in the predicted CLV's table."""
    order = [row[0] for row in query(
        demo_warehouse, f"select ltv_segment from {SCHEMA}.ltv_segments order by segment_order"
    )]  # fmt: skip
    assert order == ["VIP", "High", "Medium", "Low", "New"]
    tags = parsed(report_html)
    assert [row[0] for row in body_rows(tags, "segments")] == order
    assert [row[0] for row in body_rows(tags, "segments clv-segments")] == order


def test_top_customers_are_user_ltv(report_html, demo_warehouse):
    expected = query(demo_warehouse, f"""
        select user_id, ltv_segment, acquisition_channel, orders_lifetime, revenue_3m,
            revenue_6m, revenue_12m, revenue_lifetime
        from {SCHEMA}.user_ltv order by revenue_lifetime desc, user_id limit 25""")
    shown = body_rows(parsed(report_html), "segments top-customers")
    assert shown == [
        [str(user), segment, channel, f"{orders:,}", *(money(v) for v in revenue)]
        for user, segment, channel, orders, *revenue in expected
    ]


def test_p_alive_is_explained_beside_the_share_alive(report_html):
    clv = report_html[report_html.index("<h2>Predicted CLV"):]
    assert "one-time buyer has not yet shown a dropout" in clv
    assert "<th>Share alive</th>" in clv
    assert clv.index("one-time buyer") < clv.index("<th>Share alive</th>")


def test_the_demo_report_gives_the_verdict_of_its_backtest(report_html):
    assert 'data-status="ok"' in report_html
    assert "The model beats the naive baseline on" in report_html
    assert 'data-chart="backtest_calibration"' in report_html


def test_without_backtest_marts_the_verdict_is_skipped(demo_warehouse, work_dir):
    warehouse = warehouse_with_backtest(
        demo_warehouse, work_dir / "no_backtest.duckdb", SCHEMA, None, None
    )
    html = render(warehouse, work_dir / "no_backtest.html").read_text()
    assert 'data-status="missing"' in html and "not published yet" in html
    assert 'data-chart="backtest_calibration"' not in html


def test_empty_backtest_marts_ask_for_a_fit(demo_warehouse, work_dir):
    warehouse = warehouse_with_backtest(
        demo_warehouse, work_dir / "empty_backtest.duckdb", SCHEMA, [], []
    )
    html = render(warehouse, work_dir / "empty_backtest.html").read_text()
    assert 'data-status="empty"' in html and "run `make fit-clv`" in html
    assert 'data-chart="backtest_calibration"' not in html


def test_the_verdict_and_calibration_of_a_backtest(demo_warehouse, work_dir):
    warehouse = warehouse_with_backtest(
        demo_warehouse, work_dir / "backtest.duckdb", SCHEMA
    )
    html = render(warehouse, work_dir / "backtest.html").read_text()
    assert 'data-status="ok"' in html and VERDICT_START in html
    assert 'data-chart="backtest_calibration"' in html
    rows = body_rows(parsed(html), "segments verdict-measures")
    assert ["normalized Gini", "0.62", "0.41", "model"] in rows


def test_screenshot_is_not_blank(report_path, work_dir):
    screenshot = work_dir / "report.png"
    run_chromium(
        work_dir / "chromium-screenshot", "--virtual-time-budget=10000",
        f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        report_path.as_uri(),
    )
    assert screenshot.exists(), "chromium wrote no screenshot"
    width, height, channels, rows = decode_png(screenshot.read_bytes())
    assert (width, height) == WINDOW
    background = rows[0][:3]
    distinct, covered = colour_statistics(rows, channels, background)
    # Text, bars and a heatmap: far more than a blank or half-painted page.
    assert distinct >= 100, f"only {distinct} distinct colours"
    assert covered >= 0.05, f"only {covered:.1%} of the page is not background"
