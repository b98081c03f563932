"""The web pages over the bot's real data, in a real browser: a database seeded through the
bot's own code paths (questions asked on Slack and Discord, a 👎 and the section then picked,
a checklist ticked; ``tests/seeding.py``) and the index of the bundled page. Headless
Chromium signs in, reads every page, marks a gap handled, removes the taught example, tries a
question and teaches a section for it — and each change is checked in the database too.

The screenshots of ``docs/screens/`` come from this test
(``PLAYBOOK_SCREENS_DIR=docs/screens``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.team.dashboard import Dashboard
from bot.core.team.learning import gather
from tests.seeding import MARKUP, OFF_TOPIC, OFF_TOPIC_EN, ON_TOPIC, seeded_assistant
from tests.web.browsing import PHONE, TOKEN, ServedPages, go, see, shoot

pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev extra)")
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

TRIED = "Comment vendre une version hébergée de notre logiciel ?"


@pytest.fixture
def real(engine, tmp_path):
    assistant = seeded_assistant(engine, f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield Dashboard(assistant, skipped=lambda: ["drafts/broken.md: front matter never closes"])
    engine.learn([])
    assistant.store.close()


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def second_section(real: Dashboard) -> str:
    """The tried question's second section among the candidates (the one to teach)."""
    sections = dict.fromkeys(c["section"] for c in real.try_question(TRIED)["candidates"])
    return list(sections)[1]


def rank_of(real: Dashboard, section: str) -> int:
    """The best rank of ``section`` among the tried question's candidates."""
    return next(
        c["rank"] for c in real.try_question(TRIED)["candidates"] if c["section"] == section
    )


def test_a_maintainer_reads_and_changes_the_bots_real_data(browser, screens: Path, real):
    store = real.assistant.store
    with ServedPages(real) as base:
        browser.get(base + "/gaps")
        see(browser, "Enter the access token")  # refused without the token
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        see(browser, "Mark handled")  # signed in, back on the page asked for

        browser.get(base + "/")
        see(browser, "Questions per day")
        see(browser, "drafts/broken.md: front matter never closes")
        assert browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
        shoot(browser, screens, "overview")
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        browser.refresh()
        see(browser, "Questions per day")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        browser.save_screenshot(str(screens / "overview-phone.png"))
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        go(browser, "Gaps", "Gaps")
        see(browser, OFF_TOPIC)
        see(browser, OFF_TOPIC_EN)  # the English phrasing is the same gap
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        shoot(browser, screens, "gaps")
        gap = next(
            a for a in browser.find_elements(By.CSS_SELECTOR, "article.gap") if OFF_TOPIC in a.text
        )
        gap.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        see(browser, "2 questions marked handled.")
        assert OFF_TOPIC not in main_text(browser)

        go(browser, "Feedback", "Feedback")
        see(browser, ON_TOPIC)
        see(browser, "Open core")  # the section Alice picked after her 👎
        shoot(browser, screens, "feedback")

        go(browser, "Taught examples", "Taught examples")
        see(browser, ON_TOPIC)
        shoot(browser, screens, "examples")
        browser.find_element(By.CSS_SELECTOR, "tr[id^=example-] button").click()
        see(browser, "removed.")
        assert ON_TOPIC not in main_text(browser)
        assert gather(store.taught(real.assistant.knowledge))[0] == []

        go(browser, "Try a question", "Try a question")
        browser.find_element(By.ID, "q").send_keys(TRIED)
        browser.find_element(By.CSS_SELECTOR, "main form[method=get] button").click()
        see(browser, "Candidates")
        assert browser.find_element(By.TAG_NAME, "mark").text
        rows = browser.find_elements(By.CSS_SELECTOR, "table.scores tbody tr")
        assert len(rows) >= 3
        shoot(browser, screens, "try")
        before = rank_of(real, label := second_section(real))
        choice = Select(browser.find_element(By.ID, "section"))
        choice.select_by_visible_text(label)
        browser.find_element(By.CSS_SELECTOR, "main form[method=post] button").click()
        see(browser, "will be cited first for this question")
        (example,) = gather(store.taught(real.assistant.knowledge))[0]
        assert example.question == TRIED and example.platforms == ("web",)
        assert rank_of(real, label) < before  # the next question ranks it higher

        go(browser, "Checklists", "Checklists")
        see(browser, "Alice")
        see(browser, "slack #C1")
        assert "U1" not in main_text(browser)  # a name, never a user id
        shoot(browser, screens, "checklists")

        go(browser, "Try a question", "Try a question")
        browser.find_element(By.ID, "q").send_keys(MARKUP)
        browser.find_element(By.CSS_SELECTOR, "main form[method=get] button").click()
        see(browser, "Candidates")
        assert browser.find_element(By.ID, "q").get_attribute("value") == MARKUP  # as text
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018

        browser.get(base + "/?lang=fr")
        see(browser, "Questions par jour")
        shoot(browser, screens, "overview-fr")
