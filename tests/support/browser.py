"""Debian's chromium driven by Playwright, for browser tests of the web UI.

Playwright must never download its own browser (that fails without internet): it launches the
system chromium that scripts/test_services.sh installs, headless, with a temporary profile.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAUNCH_TIMEOUT_MS = 60_000
PAGE_TIMEOUT_MS = 15_000
# Chromium crashes when /dev/shm is small (Docker's default is 64 MB); Debian's launcher script
# is meant to add this flag then, but its check breaks when /dev/shm is mounted more than once.
_MIN_DEV_SHM_BYTES = 1 << 30


def chromium_flags() -> list[str]:
    flags = list(CHROMIUM_FLAGS)
    try:
        small_shm = shutil.disk_usage("/dev/shm").free < _MIN_DEV_SHM_BYTES
    except OSError:
        small_shm = True
    if small_shm:
        flags.append("--disable-dev-shm-usage")
    return flags


@contextmanager
def chromium_page(viewport: tuple[int, int] = (1280, 900)) -> Iterator[Page]:
    """A page in a fresh headless chromium; the browser and Playwright stop on exit."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} not found: run scripts/test_services.sh")
    width, height = viewport
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_flags(),
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            try:
                page = context.new_page()
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                yield page
            finally:
                context.close()
        finally:
            browser.close()


def screenshot_dir() -> Path:
    """Where browser tests save screenshots (test-output/ is git-ignored)."""
    path = Path(os.environ.get("TETHER_TEST_OUTPUT", "test-output")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
