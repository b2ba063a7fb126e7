"""Headless Chromium driven by Selenium through Debian's chromedriver (no download: Selenium Manager is bypassed
by naming the driver). `find_browser` says why there is none; `.ci/run` installs one."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def find_browser() -> tuple[str, str] | str:
    """(browser, driver) executables, or the reason they cannot be used."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = next((p for p in map(shutil.which, DRIVERS) if p), None)
    if browser is None or driver is None:
        return ("headless Chromium not found (on Debian: apt-get install chromium chromium-driver; "
                ".ci/run does it)")
    return browser, driver


def chrome(browser: str, driver: str, width: int = 1100, height: int = 800):
    """A headless Chromium session; media may play without a prior gesture (a script starts some players)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars",
                f"--window-size={width},{height}", "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(driver))


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Poll until `condition()` is truthy; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def full_page_png(driver, path, width: int) -> None:
    """A screenshot of the whole page at `width` CSS pixels (the window grown to the page's height)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, height + 140)  # the window includes the (headless) browser's chrome
    time.sleep(0.2)
    driver.save_screenshot(str(path))
