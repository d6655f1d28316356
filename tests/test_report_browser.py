"""report.html as a reader sees it: opened in headless Chromium at 1280×800.

The report is made by the command line on the seed claims, once per module, and opened
once; each test asks one thing of that page. ``make browser-check`` runs these alone;
they skip without Chromium unless CASUALTY_MODELS_REQUIRE_BROWSER=1 (see tests/browser.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import HEIGHT, WIDTH, Page, chromium, require_browser

ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = ROOT / "seeds" / "ukraine_2022-03.csv"
REPORT_PLOTS = 3  # panels, claims and sources; more with running tallies or --trust
CLAIMS_TABLE = "//table[@id='claims-table']"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of ``casualty-models estimate`` on the seed claims (short MCMC run)."""
    require_browser()  # skip before the fit if there is nothing to open the page with
    from casualty_models.cli import main

    out = tmp_path_factory.mktemp("browser-report")
    args = ["estimate", str(SEED_CSV), "--out", str(out), "--draws", "500", "--tune", "500"]
    assert main([*args, "--seed", "1", "--quiet"]) == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator[Page]:
    with chromium() as p:
        p.open(report)
        yield p


def claims_in_file(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.mcmc
def test_viewport_is_1280_by_800(page: Page):
    assert page.viewport() == (WIDTH, HEIGHT)


@pytest.mark.mcmc
def test_every_image_loads(page: Page):
    images = page.images()
    assert len(images) >= REPORT_PLOTS
    broken = [img for img in images if not (img["complete"] and img["naturalWidth"] > 0)]
    assert broken == []


@pytest.mark.mcmc
def test_no_console_errors(page: Page):
    assert page.console_errors() == []


@pytest.mark.mcmc
def test_claims_table_has_one_row_per_claim(page: Page):
    from selenium.webdriver.common.by import By

    tables = page.xpath(CLAIMS_TABLE)
    assert len(tables) == 1, "the claims table (id claims-table) not found"
    table = tables[0]

    def text(el):  # the table sits in a closed <details>: read its text, not what shows
        return (el.get_attribute("textContent") or "").strip()

    header = [text(th) for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert header[0] == "#" and {"source", "side", "as_of", "citation"} <= set(header)
    rows = table.find_elements(By.CSS_SELECTOR, "tbody > tr")
    claims = claims_in_file(SEED_CSV)
    assert len(claims) == 4  # the seed file; guards the count below against an empty read
    assert len(rows) == len(claims)
    cells = [[text(td) for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert [c[0] for c in cells] == [str(i) for i in range(1, len(claims) + 1)]
    source = header.index("source")
    assert sorted(c[source] for c in cells) == sorted(c["source"] for c in claims)


@pytest.mark.mcmc
def test_the_summary_is_visible_without_scrolling(page: Page):
    (summary,) = page.rects("//*[@id='summary']")
    assert summary.height > 0
    assert summary.bottom <= page.viewport().height, (summary, page.viewport())


def test_the_checks_see_a_broken_page(tmp_path: Path):
    """The helpers report what they exist to catch: a missing image, a console error,
    an element below the fold."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>broken</title>"
        "<style>body{margin:0}</style></head><body>"
        '<img id=missing src="no-such-plot.png" alt="missing">'
        '<div id=low style="position:absolute;left:10px;top:900px;width:100px;height:50px">'
        "below the fold</div>"
        "<script>console.error('report script failed')</script>"
        "</body></html>",
        encoding="utf-8",
    )
    with chromium() as p:
        p.open(broken)
        assert p.viewport() == (WIDTH, HEIGHT)
        (img,) = p.images()
        assert img["src"] == "no-such-plot.png" and img["naturalWidth"] == 0
        errors = p.console_errors()
        assert any("report script failed" in e for e in errors), errors
        assert any("no-such-plot.png" in e for e in errors), errors
        (low,) = p.rects("//div[@id='low']")
        assert (low.x, low.y, low.width, low.height) == (10, 900, 100, 50)
        assert low.bottom > p.viewport().height  # not visible without scrolling


def _wait(page: Page, condition) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(page.driver, 5).until(lambda _driver: condition())


def _tooltip(page: Page) -> tuple[bool, str]:
    tip = page.driver.find_element("id", "cm-tip")
    return tip.is_displayed(), tip.text


@pytest.mark.mcmc
def test_hovering_a_claim_shows_its_source_figure_surprise_and_citation(page: Page):
    """Issue 30: the main figure is explorable; each claim's mark answers which claim it
    is, without scrolling to the claims table."""
    from selenium.webdriver.common.action_chains import ActionChains

    claims = claims_in_file(SEED_CSV)
    marks = page.xpath("//*[@id='main-figure']//*[@data-claim]")
    assert len(marks) == len(claims)  # each seed claim counts from the start: all drawn
    mark = next(m for m in marks if m.get_attribute("data-claim") == "1")  # the Pentagon
    ActionChains(page.driver).move_to_element(mark).perform()
    _wait(page, lambda: _tooltip(page)[0])
    _, text = _tooltip(page)
    pentagon = claims[1]
    assert pentagon["source"] in text and "neutral" in text
    assert "Figure as published: 2,000–4,000" in text
    assert "as of 2022-03-11" in text and "counting since 2022-02-24" in text
    assert "p = " in text and "99% predictive interval" in text
    assert pentagon["citation"] in text
    (link,) = page.driver.find_element("id", "cm-tip").find_elements("tag name", "a")
    assert link.get_attribute("href") == pentagon["url"]
    (box,) = page.rects("//*[@id='cm-tip']")
    assert box.bottom <= page.viewport().height and box.right <= page.viewport().width
    ActionChains(page.driver).move_by_offset(0, 400).perform()  # away: it closes
    _wait(page, lambda: not _tooltip(page)[0])
    assert page.console_errors() == []


@pytest.mark.mcmc
def test_a_claim_focused_from_the_keyboard_shows_its_tooltip(page: Page):
    mark = page.xpath("//*[@id='main-figure']//*[@data-claim='2']")[0]
    assert mark.get_attribute("tabindex") == "0"
    page.driver.execute_script("arguments[0].focus()", mark)
    _wait(page, lambda: _tooltip(page)[0])
    assert claims_in_file(SEED_CSV)[2]["source"] in _tooltip(page)[1]
    page.driver.execute_script("document.activeElement.blur()")
    _wait(page, lambda: not _tooltip(page)[0])


@pytest.mark.mcmc
def test_a_series_can_be_hidden_and_shown_again(page: Page):
    boxes = page.xpath("//*[@id='main-figure']//input[@data-series]")
    assert [b.find_element("xpath", "..").text.strip() for b in boxes] == [
        "russia killed",
        "ukraine killed",
    ]
    panel = page.xpath("//*[@id='cm-series-1']")[0]
    assert panel.is_displayed()
    boxes[1].click()
    assert not panel.is_displayed()
    boxes[1].click()
    assert panel.is_displayed()
    assert page.console_errors() == []
