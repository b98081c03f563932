"""The browser tests' fixtures: headless Chromium, and where screenshots go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "install Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
DESKTOP = (1280, 900)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium through Debian's driver (nothing downloaded); the test skips, saying
    what to install, where they are missing (CI installs them, and fails on a skip)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev)")
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
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    """Where the screenshots go: ``PLAYBOOK_SCREENS_DIR`` when set, else the test's folder."""
    folder = Path(os.environ.get("PLAYBOOK_SCREENS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
