"""Headless Chromium for checks of the HTML report (the tests marked ``browser``).

Drives Debian's ``chromium`` through ``chromedriver`` with Selenium. :func:`chromium`
starts a fresh browser (its own empty profile) with a viewport of exactly ``width`` ×
``height`` CSS pixels and yields a :class:`Page`; a :class:`Page` opens a local file and
answers what the checks ask: the images and whether they decoded, the console errors,
the elements matching an XPath and their bounding rectangles (page coordinates, so "is
it visible without scrolling" is ``rect.bottom <= page.viewport().height``).

When the browser, its driver or Selenium is missing, :func:`require_browser` skips the
test with the reason, or fails it if ``CASUALTY_MODELS_REQUIRE_BROWSER=1`` (as in CI, so
the check cannot silently not run). ``CASUALTY_MODELS_CHROMIUM`` and
``CASUALTY_MODELS_CHROMEDRIVER`` override where the two are looked for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

REQUIRE_ENV = "CASUALTY_MODELS_REQUIRE_BROWSER"
CHROMIUM_ENV = "CASUALTY_MODELS_CHROMIUM"
CHROMEDRIVER_ENV = "CASUALTY_MODELS_CHROMEDRIVER"
WIDTH, HEIGHT = 1280, 800
# headless, and nothing that talks to the network or to a GPU; works as root
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PAGE_LOAD_TIMEOUT_S = 60


class Browser(NamedTuple):
    chromium: str
    chromedriver: str


def find_browser() -> Browser | str:
    """The browser and its driver, or the reason they cannot be used."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    chromium = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium")
    driver = os.environ.get(CHROMEDRIVER_ENV) or shutil.which("chromedriver")
    missing = [
        name
        for name, path in (("chromium", chromium), ("chromedriver", driver))
        if not path or not os.access(path, os.X_OK)
    ]
    if missing or chromium is None or driver is None:
        return (
            f"{' and '.join(missing)} not found (apt-get install chromium chromium-driver; "
            f"or set {CHROMIUM_ENV} / {CHROMEDRIVER_ENV})"
        )
    return Browser(chromium, driver)


def require_browser() -> Browser:
    """The browser; else skip the test, or fail it when ``$REQUIRE_ENV`` is ``1``."""
    found = find_browser()
    if isinstance(found, Browser):
        return found
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"browser check required ({REQUIRE_ENV}=1) but {found}", pytrace=False)
    pytest.skip(f"no headless browser: {found}")


@dataclass(frozen=True)
class Rect:
    """An element's bounding box in CSS pixels, relative to the top left of the page."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


class Viewport(NamedTuple):
    width: int
    height: int


_RECT_JS = """
const r = arguments[0].getBoundingClientRect();
return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
"""

_IMAGES_JS = """
return Array.from(document.images, img => ({
  src: img.getAttribute("src") || "",
  alt: img.getAttribute("alt") || "",
  complete: img.complete,
  naturalWidth: img.naturalWidth,
  naturalHeight: img.naturalHeight,
}));
"""


class Page:
    """One browser tab; ``open`` a file, then ask about what it shows."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self._console: list[dict[str, Any]] = []

    def open(self, path: Path) -> None:
        """Load ``path`` and wait until the document and its images have loaded."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get(Path(path).resolve().as_uri())
        WebDriverWait(self.driver, PAGE_LOAD_TIMEOUT_S).until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && "
                "Array.from(document.images).every(img => img.complete)"
            )
        )

    def viewport(self) -> Viewport:
        w, h = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        return Viewport(int(w), int(h))

    def images(self) -> list[dict[str, Any]]:
        """Every ``<img>``: src (data URIs cut short), alt, complete, natural size."""
        out = self.driver.execute_script(_IMAGES_JS)
        for img in out:
            if img["src"].startswith("data:"):
                img["src"] = img["src"][:40] + "…"
        return out

    def console(self) -> list[dict[str, Any]]:
        """Every console entry since the browser started (Chrome's log is read once)."""
        self._console += self.driver.get_log("browser")
        return list(self._console)

    def console_errors(self) -> list[str]:
        """Console entries at level SEVERE: errors, uncaught exceptions, failed loads."""
        return [e["message"] for e in self.console() if e.get("level") == "SEVERE"]

    def xpath(self, expr: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.XPATH, expr)

    def rect(self, element: Any) -> Rect:
        return Rect(*(float(v) for v in self.driver.execute_script(_RECT_JS, element)))

    def rects(self, expr: str) -> list[Rect]:
        """Bounding boxes (page coordinates) of the elements matching XPath ``expr``."""
        return [self.rect(e) for e in self.xpath(expr)]


@contextmanager
def chromium(width: int = WIDTH, height: int = HEIGHT) -> Iterator[Page]:
    """A fresh headless Chromium whose viewport is ``width`` × ``height``; skips if none."""
    found = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="cm-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = found.chromium
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(found.chromedriver))
        try:
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
            # the window includes no browser chrome in headless mode, but make the
            # viewport exact whatever the window manager or Chromium version does
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            yield Page(driver)
        finally:
            driver.quit()
