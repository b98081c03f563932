"""The web pages in a real browser: Debian's headless Chromium, driven by Selenium, signs in
through the form, visits every page, removes a taught example, marks a gap handled and tries
a question, all through clicks, over the fake ``DashboardData``. Screenshots of each page go
to ``PLAYBOOK_SCREENS_DIR`` when set (else the test's temporary folder)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.health import bound_port
from bot.web.app import start_web
from tests.web.fake_dashboard import SCRIPT, FakeDashboard

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "install Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
TOKEN = "browser-token"
DESKTOP = (1280, 900)
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev extra)")
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WHILE_LOADING = (StaleElementReferenceException, NoSuchElementException)


class ServedPages:
    """The web pages over a fake, served on 127.0.0.1 by an event loop in a thread."""

    def __init__(self, data: FakeDashboard) -> None:
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


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium through Debian's driver (nothing downloaded)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(INSTALL)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size={},{}".format(*DESKTOP))
    options.add_argument("--lang=en-GB")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    """Where the screenshots go."""
    folder = Path(os.environ.get("PLAYBOOK_SCREENS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def see(driver: webdriver.Chrome, text: str) -> None:
    """Wait until the page shows ``text`` (the body's visible text)."""
    WebDriverWait(driver, 10, ignored_exceptions=WHILE_LOADING).until(
        lambda d: text in d.find_element(By.TAG_NAME, "body").text,
        message=f"the page never showed {text!r}",
    )


def shoot(driver: webdriver.Chrome, folder: Path, name: str) -> None:
    """A screenshot of the whole page at desktop width (the viewport stretched to the page's
    height for the shot)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": DESKTOP[0], "height": min(int(height), 6000), "deviceScaleFactor": 1}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": False})
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def go(driver: webdriver.Chrome, label: str, heading: str) -> None:
    """Click the nav link ``label`` and wait for the page's ``heading``."""
    driver.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, label).click()
    WebDriverWait(driver, 10, ignored_exceptions=WHILE_LOADING).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == heading
    )


def test_a_maintainer_signs_in_and_uses_every_page(browser, screens: Path) -> None:
    data = FakeDashboard()
    with ServedPages(data) as base:
        browser.get(base + "/")
        see(browser, "Enter the access token")
        shoot(browser, screens, "signin")
        browser.find_element(By.ID, "token").send_keys("not it")
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        see(browser, "This token is not the right one.")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        see(browser, "Answer time")
        for text in ("67%", "412 ms", "1337", "drafts/notes.md", "Questions per day"):
            see(browser, text)
        assert browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
        shoot(browser, screens, "overview")

        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        browser.refresh()
        see(browser, "Answer time")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the overview scrolls sideways on a phone"
        browser.save_screenshot(str(screens / "overview-phone.png"))
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        go(browser, "Gaps", "Gaps")
        see(browser, "How do we handle trademark disputes?")
        see(browser, SCRIPT)  # a question with markup is text, not a script
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        shoot(browser, screens, "gaps")
        browser.find_element(By.CSS_SELECTOR, "article.gap button[type=submit]").click()
        see(browser, "2 questions marked handled.")
        assert data.handled == [["How do we handle trademark disputes?", "litiges de marque ?"]]

        go(browser, "Feedback", "Feedback")
        see(browser, "Grants rarely cover maintenance.")
        see(browser, "none — no section answers it")
        shoot(browser, screens, "feedback")

        go(browser, "Taught examples", "Taught examples")
        see(browser, "How do I price a support plan?")
        see(browser, "set aside")
        shoot(browser, screens, "examples")
        browser.find_element(By.CSS_SELECTOR, "#example-7 button").click()
        see(browser, "Example 7 removed.")
        assert (
            "How do I price a support plan?" not in browser.find_element(By.TAG_NAME, "main").text
        )
        assert data.removed == [7]

        go(browser, "Try a question", "Try a question")
        browser.find_element(By.ID, "q").send_keys("How should we price support?")
        browser.find_element(By.CSS_SELECTOR, "main form[method=get] button").click()
        see(browser, "Evidence 0.61 (the bot declines below 0.35)")
        assert browser.find_element(By.TAG_NAME, "mark").text == "per seat"
        assert len(browser.find_elements(By.CSS_SELECTOR, "table.scores tbody tr")) == 2
        shoot(browser, screens, "try")
        Select(browser.find_element(By.ID, "section")).select_by_visible_text("Funding › Grants")
        browser.find_element(By.CSS_SELECTOR, "main form[method=post] button").click()
        see(browser, "Taught: “How should we price support?” → funding#grants")
        assert data.taught == [("How should we price support?", "funding#grants")]

        go(browser, "Checklists", "Checklists")
        see(browser, "2 of 5 done")
        see(browser, "Pick a licence")
        shoot(browser, screens, "checklists")

        browser.get(base + "/?lang=fr")
        see(browser, "Temps de réponse")
        shoot(browser, screens, "overview-fr")

        browser.find_element(By.CSS_SELECTOR, "header form.signout button").click()
        see(browser, "Saisissez le jeton")
