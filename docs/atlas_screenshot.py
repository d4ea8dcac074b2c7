"""Take docs/atlas.png: the atlas page of the built-in model's block3a_expand_activation in
headless Chromium (Debian's chromium package, driven by Playwright; no browser download).

    samplevis atlas --layers block3a_expand_activation --steps 32 --size 64 --batch 4 --out atlas
    python docs/atlas_screenshot.py atlas/index.html docs/atlas.png
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1060, "height": 720}
COLOURS = 96  # a palette keeps the PNG small; the thumbnails are textures


def main(page_path: str, out: str) -> int:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(Path(page_path).resolve().as_uri())
            page.wait_for_function(
                "[...document.querySelectorAll('a.ch img')].filter(img => "
                "img.getBoundingClientRect().top < innerHeight).every(img => "
                "img.complete && img.naturalWidth > 0)"
            )
            shot = page.screenshot()
        finally:
            browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB").quantize(COLOURS)
    image.save(out, optimize=True)
    print(out, Path(out).stat().st_size // 1024, "KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
