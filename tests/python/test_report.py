"""The HTML report of scripts/render_report.py, checked as a file and in a browser.

The demo (default source: the seeds in seeds/demo) is built once on DuckDB, in a file
of our own under pytest's tmp dir, with the demo's fixed as-of date. The report must be
self-contained (no external resource), state its as-of date, agree with the marts on
the headline numbers and have data in every chart. Then headless Chromium (Debian's
`chromium` package) opens it from disk: the screenshot must not be blank, and the
report's inline check must find every `svg[data-chart]` rendered with visible marks.

Chromium is required: without it these tests fail (`apt-get install chromium`).
"""

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from harness import PROJECT_DIR
from harness.dbt_runs import DBT, project_args

AS_OF_DATE = "2026-07-01"
SCHEMA = "ltv_report"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WINDOW = (1280, 4000)
EXPECTED_CHARTS = {
    "distribution-3m",
    "distribution-6m",
    "distribution-12m",
    "distribution-lifetime",
    "cohorts",
    "channels",
}
SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'
CHROMIUM_TIMEOUT_SECONDS = 120


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


@pytest.fixture(scope="module")
def report_path(demo_warehouse, work_dir) -> Path:
    """The report rendered by the script's command line, as a user runs it."""
    out = work_dir / "ltv_report.html"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(demo_warehouse), "DBT_SCHEMA": SCHEMA}
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "render_report.py"),
         "--target", "duckdb", "--out", str(out)],
        cwd=work_dir, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def report_html(report_path) -> str:
    return report_path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------ chromium


def find_chromium() -> str:
    """Chromium's path. Called in the tests, not in a fixture, so that a missing browser
    is a test failure (CI must have it), never a skip or a setup error."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the report tests need a headless "
            "browser; install it with `apt-get install chromium`",
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


# ------------------------------------------------------------------- HTML inspection


class ChartMarks(HTMLParser):
    """Per `<svg data-chart=NAME>`: its data marks (class `mark`) and its <title>."""

    def __init__(self):
        super().__init__()
        self.charts = {}
        self.titles = set()
        self._chart = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and "data-chart" in attrs:
            self._chart, self._depth = attrs["data-chart"], 0
            self.charts[self._chart] = {"rect": 0, "path": 0}
        elif self._chart is not None:
            if tag in ("rect", "path") and "mark" in attrs.get("class", "").split():
                self.charts[self._chart][tag] += 1
            if tag == "title" and self._depth == 0:
                self.titles.add(self._chart)
            self._depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._chart is not None and tag != "svg":
            self._depth -= 1

    def handle_endtag(self, tag):
        if self._chart is None:
            return
        if tag == "svg" and self._depth == 0:
            self._chart = None
        else:
            self._depth -= 1


def chart_marks(html: str) -> ChartMarks:
    parser = ChartMarks()
    parser.feed(html)
    return parser


def body_attribute(dom: str, name: str) -> str:
    match = re.search(rf'<body[^>]*\s{name}="([^"]*)"', dom)
    assert match, f"<body> has no {name} attribute in the rendered DOM"
    return match.group(1)


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
    """No URL to anything outside the file (the SVG namespace is a name, no fetch)."""
    text = report_html.replace(SVG_NAMESPACE, "")
    assert not re.findall(r"https?://[^\s\"'<>)]*", text)
    assert not re.search(r"\b(src|href)\s*=", text), "report refers to a resource"
    for external in ("<link", "<img", "<iframe", "<object", "<embed", "@import"):
        assert external not in text, f"report refers to a resource: {external}"
    assert "url(" not in text, "report refers to a resource in CSS"


def test_report_states_its_as_of_date(report_html):
    assert f"<title>Customer LTV report as of {AS_OF_DATE}</title>" in report_html
    assert re.search(rf"<h1>[^<]*as of {AS_OF_DATE}</h1>", report_html)


def test_headline_numbers_are_the_marts(report_html, demo_warehouse):
    """Each horizon's card shows its mean LTV and recommended max CAC, to the cent."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        summary = connection.execute(
            f"select horizon, ltv_mean, recommended_max_cac from {SCHEMA}.ltv_summary"
        ).fetchall()
    for horizon, mean, max_cac in summary:
        card = re.search(
            rf'<article class="card" data-horizon="{horizon}">(.*?)</article>',
            report_html,
        )
        assert card, f"no card for horizon {horizon}"
        assert f"${mean:,.2f}" in card.group(1)
        assert f"${max_cac:,.2f}" in card.group(1)


def test_every_chart_has_data(report_html, demo_warehouse):
    marks = chart_marks(report_html)
    assert set(marks.charts) == EXPECTED_CHARTS
    assert marks.titles == EXPECTED_CHARTS, "every chart needs its own <title>"
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        buckets, channels = connection.execute(
            "select"
            f" (select count(distinct bucket_order) from {SCHEMA}.ltv_distribution),"
            " (select count(distinct acquisition_channel)"
            f" from {SCHEMA}.ltv_by_channel)"
        ).fetchone()
    for horizon in ("3m", "6m", "12m", "lifetime"):
        assert marks.charts[f"distribution-{horizon}"]["rect"] == buckets
    assert marks.charts["cohorts"]["path"] >= 2, "cohort curves missing"
    assert marks.charts["channels"]["rect"] >= channels, "a channel has no LTV bar"


def test_chromium_renders_every_chart(report_path, work_dir):
    """The report's inline check, run by Chromium on load, finds every chart drawn."""
    rendered_dom = run_chromium(
        work_dir / "chromium-dom", "--dump-dom", report_path.as_uri()
    ).stdout
    total = int(body_attribute(rendered_dom, "data-total-charts"))
    rendered = int(body_attribute(rendered_dom, "data-rendered-charts"))
    assert total == len(EXPECTED_CHARTS)
    assert rendered == total, f"only {rendered} of {total} charts rendered"


def test_screenshot_is_not_blank(report_path, work_dir):
    screenshot = work_dir / "report.png"
    run_chromium(
        work_dir / "chromium-screenshot",
        f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        report_path.as_uri(),
    )
    assert screenshot.exists(), "chromium wrote no screenshot"
    width, height, channels, rows = decode_png(screenshot.read_bytes())
    assert (width, height) == WINDOW
    background = rows[0][:3]
    distinct, covered = colour_statistics(rows, channels, background)
    # Text, bars and a colour ramp: far more than a blank or half-painted page.
    assert distinct >= 100, f"only {distinct} distinct colours"
    assert covered >= 0.05, f"only {covered:.1%} of the page is not background"
