"""Pages: the gallery and the atlas page, written from the templates in templates/.

    from samplevis import pages

    strip = pages.Strip("chain 0", (pages.Tile("s_000.png", "0.91"),))
    pages.save_gallery("index.html", [pages.GallerySection("channel 12", strips=(strip,))])

Every value a page shows is HTML-escaped (templating.py); every page is written atomically.
"""

from samplevis.pages.atlas import save_atlas_page
from samplevis.pages.gallery import (
    Crop,
    GallerySection,
    Strip,
    Tile,
    gallery_html,
    save_gallery,
)

__all__ = [
    "Crop",
    "GallerySection",
    "Strip",
    "Tile",
    "gallery_html",
    "save_atlas_page",
    "save_gallery",
]
