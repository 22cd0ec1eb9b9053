"""Debian's Chromium driven by Playwright, for the view's tests, benchmark and screenshots.

Never `playwright install`: it downloads a browser build; kgc uses the system's /usr/bin/chromium.
"""

from __future__ import annotations

import time
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FIRST_FRAME = "window.kgcView !== undefined && window.kgcView.firstRenderMs() !== null"


def wait_for_view(page: Any, timeout: float = 120.0) -> None:
    """Wait until the view painted its first frame. Polled with `evaluate` from here: Playwright's
    `wait_for_function` evaluates its predicate with eval(), which the page's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(FIRST_FRAME):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the view did not render within {timeout:.0f} s")
        page.wait_for_timeout(100)
