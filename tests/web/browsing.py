"""Driving the web pages in a real browser: Debian's headless Chromium through Selenium
(nothing downloaded), the pages served on 127.0.0.1 by an event loop in a thread, and the
helpers the browser tests share (wait for a text, click through the nav, a screenshot)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.core.team.dashboard_types import DashboardData
from bot.health import bound_port
from bot.web.app import start_web
from tests.web.conftest import DESKTOP

TOKEN = "browser-token-0123456789"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev extra)")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WHILE_LOADING = (StaleElementReferenceException, NoSuchElementException)


class ServedPages:
    """The web pages over ``data``, served on 127.0.0.1 by an event loop in a thread."""

    def __init__(self, data: DashboardData) -> None:
        self.data = data

    def __enter__(self) -> str:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        start = start_web("127.0.0.1", 0, self.data, token=TOKEN, header_timeout=5)
        self.runner = asyncio.run_coroutine_threadsafe(start, self.loop).result(10)
        return f"http://127.0.0.1:{bound_port(self.runner)}"

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def see(driver: Any, text: str) -> None:
    """Wait until the page shows ``text`` (the body's visible text)."""
    WebDriverWait(driver, 30, ignored_exceptions=WHILE_LOADING).until(
        lambda d: text in d.find_element(By.TAG_NAME, "body").text,
        message=f"the page never showed {text!r}",
    )


def shoot(driver: Any, folder: Path, name: str) -> None:
    """A screenshot of the whole page at desktop width (the viewport stretched to the page's
    height for the shot)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": DESKTOP[0], "height": min(int(height), 6000), "deviceScaleFactor": 1}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": False})
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def go(driver: Any, label: str, heading: str) -> None:
    """Click the nav link ``label`` and wait for the page's ``heading``."""
    driver.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, label).click()
    WebDriverWait(driver, 30, ignored_exceptions=WHILE_LOADING).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == heading
    )
