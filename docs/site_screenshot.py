"""Take docs/site.png: `render`'s page of the documentation site in headless Chromium (Debian's
chromium package, driven by Playwright; no browser download), served from a built site.

    mkdocs build --strict
    python docs/site_screenshot.py site docs/site.png
"""

from __future__ import annotations

import functools
import http.server
import io
import sys
import threading
from pathlib import Path

from atlas_screenshot import CHROMIUM, FLAGS
from PIL import Image
from playwright.sync_api import sync_playwright

VIEWPORT = {"width": 1280, "height": 800}
PAGE = "api/render/"
COLOURS = 128  # a palette keeps the PNG small: text and flat colours


def main(site: str, out: str) -> int:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/{PAGE}")
                page.wait_for_load_state("networkidle")
                shot = page.screenshot()
            finally:
                browser.close()
    finally:
        server.shutdown()
    image = Image.open(io.BytesIO(shot)).convert("RGB").quantize(COLOURS)
    image.save(out, optimize=True)
    print(out, Path(out).stat().st_size // 1024, "KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
