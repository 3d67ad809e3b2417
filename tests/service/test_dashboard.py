"""The dashboard at /: its files, charts and the CLV backtest's verdict through the
API, and the page in real headless Chromium (selenium): load, filter, sort, page, open
a user, and a screenshot whose texts do not overlap."""

import shutil
import socket
import threading
import time

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.select import Select

from fastapi.testclient import TestClient
from harness.backtest import VERDICT_START, warehouse_with_backtest
from harness.browser import OVERLAPS_JS
from serve.app.charts import CHARTS
from serve.app.main import create_app

CHROMEDRIVER = shutil.which("chromedriver")


def test_the_page_and_its_files_are_served(demo, client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/dashboard.js" in page.text
    for name in ("dashboard.js", "dashboard.css", "plotly.min.js"):
        assert client.get(f"/static/{name}").status_code == 200, name
    assert client.get("/static/missing.js").status_code == 404


def test_every_chart_is_a_figure_of_its_mart(client):
    figures = client.get("/api/v1/ltv/charts").json()
    assert set(figures) == set(CHARTS)
    for name, figure in figures.items():
        assert figure["layout"]["title"]["text"], name
        assert figure["data"], name


def test_the_demo_backtest_has_a_verdict(client):
    verdict = client.get("/api/v1/ltv/clv-verdict").json()
    assert verdict["status"] == "ok" and verdict["compared"] == 6
    assert verdict["text"].startswith("The model beats the naive baseline on")


@pytest.mark.parametrize("published", ["rows", "empty", "missing"])
def test_the_backtest_verdict_and_calibration(demos, tmp_path, published):
    """Over a copy of the DuckDB demo whose backtest marts are hand-made (or gone)."""
    demo = demos("duckdb")
    rows = {"rows": {}, "empty": {"measures": [], "deciles": []},
            "missing": {"measures": None, "deciles": None}}[published]  # fmt: skip
    path = warehouse_with_backtest(demo.settings.duckdb_path, tmp_path / "backtest.duckdb",
                                   demo.settings.dbt_schema, **rows)  # fmt: skip
    settings = demo.settings.model_copy(update={"dbt_duckdb_path": str(path)})
    with TestClient(create_app(settings)) as client:
        verdict = client.get("/api/v1/ltv/clv-verdict").json()
        calibration = client.get("/api/v1/ltv/charts").json()["backtest_calibration"]
    if published == "rows":
        assert verdict["status"] == "ok" and verdict["text"].startswith(VERDICT_START)
        assert (verdict["wins"], verdict["compared"]) == (4, 6)
        names = [trace["name"] for trace in calibration["data"]]
        assert names == ["model (BG/NBD + Gamma-Gamma)", "naive baseline",
                         "perfect calibration"]  # fmt: skip
        assert [len(trace["x"]) for trace in calibration["data"][:2]] == [10, 10]
    elif published == "empty":
        assert verdict["status"] == "empty" and "make fit-clv" in verdict["text"]
        assert calibration["data"] == []
    else:
        assert verdict["status"] == "missing" and "not published yet" in verdict["text"]
        assert calibration["data"] == []


# ------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def served_url(demos):
    """The service over the DuckDB demo on a free port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(demos("duckdb").settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if CHROMEDRIVER is None:
        pytest.fail("chromium-driver is required (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,2400"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # elements replaced while the page redraws
            pass
        time.sleep(0.1)
    raise AssertionError("the page did not get there in time")


def column(browser, index: int) -> list:
    return [row.find_elements("css selector", "td")[index].text
            for row in browser.find_elements("css selector", "#users tbody tr")]  # fmt: skip


# The texts that must not overlap.
TEXTS = ("h1, h2, h3, label, th, .card dt, .card dd, #page-info, .pager button, #as-of, "
         "#clv-verdict")


def test_the_page_filters_sorts_pages_and_opens_a_user(browser, served_url, demos, tmp_path):
    users = demos("duckdb").mart("user_ltv")
    browser.get(served_url)
    wait(lambda: len(browser.find_elements("css selector", "#users tbody tr")) == 50)
    wait(lambda: len(browser.find_elements("css selector", ".card")) == 4)
    wait(lambda: all(browser.find_elements("css selector", f"#chart-{name} .main-svg")
                     for name in CHARTS))  # fmt: skip
    verdict = browser.find_element("id", "clv-verdict")
    wait(lambda: verdict.get_attribute("data-status") == "ok")
    assert "The model beats the naive baseline on" in verdict.text
    info = browser.find_element("id", "page-info")
    assert f"{len(users):,} users" in info.text

    segment = Select(browser.find_element("css selector", "select[name=segment]"))
    segment.select_by_visible_text("VIP")
    browser.find_element("css selector", "#filters button").click()
    vips = sum(u["ltv_segment"] == "VIP" for u in users)
    wait(lambda: f"{vips:,} users" in info.text)
    assert set(column(browser, 3)) == {"VIP"}

    browser.find_element("css selector", "th[data-column=user_id]").click()
    wait(lambda: browser.find_element("css selector", "th[data-column=user_id]")
         .get_attribute("aria-sort") == "descending")  # fmt: skip
    vip_ids = sorted((u["user_id"] for u in users if u["ltv_segment"] == "VIP"), reverse=True)
    wait(lambda: column(browser, 0) == [str(i) for i in vip_ids[:50]])

    browser.find_element("id", "next").click()
    wait(lambda: info.text.startswith("Page 2 of"))
    wait(lambda: column(browser, 0) == [str(i) for i in vip_ids[50:100]])

    browser.find_element("css selector", "#users tbody tr").click()
    wait(lambda: browser.find_element("css selector", "#user h3").text == f"User {vip_ids[50]}")

    screenshot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 50_000
    assert browser.execute_script(OVERLAPS_JS, TEXTS) == []
