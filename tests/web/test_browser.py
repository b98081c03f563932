"""The web pages in a real browser: Debian's headless Chromium, driven by Selenium, signs in
through the form, visits every page, removes a taught example, marks a gap handled and tries
a question, all through clicks, over the fake ``DashboardData``. Screenshots of each page go
to ``PLAYBOOK_SCREENS_DIR`` when set (else the test's temporary folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browsing import PHONE, TOKEN, ServedPages, go, see, shoot
from tests.web.fake_dashboard import SCRIPT, FakeDashboard

pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev extra)")
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


def test_a_maintainer_signs_in_and_uses_every_page(browser, tmp_path: Path) -> None:
    screens = tmp_path  # docs/screens come from the test over real data
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
