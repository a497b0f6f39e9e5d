"""Debian's chromium through Playwright: load a page from a loopback server, click, screenshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.browser import chromium_page, screenshot_dir

pytestmark = pytest.mark.integration

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Tether smoke</title></head>
<body>
  <p id="status">waiting</p>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked'">Go</button>
</body></html>
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Keep request logs out of the test output."""


@pytest.fixture
def page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_click_changes_text_and_screenshot_is_saved(page_url: str) -> None:
    with chromium_page() as page:
        page.goto(page_url)
        status = page.locator("#status")
        assert status.text_content() == "waiting"
        page.click("#go")
        page.wait_for_function("document.getElementById('status').textContent === 'clicked'")
        assert status.text_content() == "clicked"

        shot = screenshot_dir() / "smoke.png"
        shot.unlink(missing_ok=True)
        page.screenshot(path=shot, full_page=True)

    data = shot.read_bytes()
    assert len(data) > len(PNG_SIGNATURE)
    assert data.startswith(PNG_SIGNATURE)
