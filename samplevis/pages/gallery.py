"""The gallery page (templates/gallery.html): loose images, and sections of text, strips of
tiles, a table and folded notes."""

from __future__ import annotations

import base64
import dataclasses
import mimetypes
import os
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from samplevis import io
from samplevis.pages.templating import render, scoped, write_page

INLINE_SCOPE = ".samplevis-gallery"  # the class of `gallery_html`'s block (gallery_inline.html)


@dataclasses.dataclass(frozen=True)
class Crop:
    """A rectangle of an image file, in px: e.g. one tile of a grid (`samplevis.io.grid`)."""

    left: int
    top: int
    width: int
    height: int
    file_width: int  # the whole file's width


@dataclasses.dataclass(frozen=True)
class Tile:
    """One picture of a strip: an image file (`src`, relative to the page), or a `crop` of one,
    with a short `caption` under it, a longer `title` shown on hovering, and a `mark`: a CSS
    class of gallery.css that sets it apart ("off-target": a draw not from the density the run
    states), none when empty."""

    src: str
    caption: str
    crop: Crop | None = None
    title: str = ""
    mark: str = ""


@dataclasses.dataclass(frozen=True)
class Strip:
    """One row of tiles that never wraps (it scrolls sideways when the page is too narrow), with
    a `label` on its left, `aside` tiles on its right that stay in view, and a `note` (a line
    of text above the row; none when empty)."""

    label: str
    tiles: tuple[Tile, ...]
    aside: tuple[Tile, ...] = ()
    note: str = ""


@dataclasses.dataclass(frozen=True)
class GallerySection:
    """A titled part of a gallery page, in this order: `lines` of text, `strips`, a `table`
    (its first row the header) with `table_note` under it, `rows` of (caption, image file)
    pairs, then `details`: (title, lines) folded away until clicked. Each row starts on a new
    line and wraps to the page's width; its images show at their own size, scaled down to the
    page's width when wider."""

    heading: str
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[tuple[str, str], ...], ...] = ()
    strips: tuple[Strip, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    table_note: str = ""
    details: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _is_pair(entry: object) -> bool:
    return (
        isinstance(entry, (tuple, list))
        and len(entry) == 2
        and all(isinstance(part, str) for part in entry)
    )


def _is_section(entry: object) -> bool:
    return (
        isinstance(entry, GallerySection)
        and isinstance(entry.heading, str)
        and all(isinstance(line, str) for line in entry.lines)
        and all(_is_pair(pair) for row in entry.rows for pair in row)
        and all(isinstance(t, Tile) for strip in entry.strips for t in (*strip.tiles, *strip.aside))
    )


def save_gallery(
    path: str | os.PathLike,
    entries: Sequence[tuple[str, str] | GallerySection],
    title: str = "samplevis gallery",
) -> Path:
    """Write an HTML page (a .html or .htm path) showing, in order, (caption, image file relative
    to the page) pairs of strings as thumbnails and `GallerySection`s, atomically.

    File names are URL-quoted, so '#', '?' and '%' in them still resolve."""
    io.check_suffix(path, ".html", ".htm")
    entries = list(entries)
    bad = [e for e in entries if not (_is_pair(e) or _is_section(e))]
    if bad:
        raise ValueError(
            f"gallery entries are (caption, image file) pairs of strings, e.g. "
            f"('chain 0', 'sample_000.png'), or GallerySections of such pairs; got "
            f"{bad[0]!r}."
        )
    return write_page(path, "gallery.html", title=title, entries=entries)


def gallery_html(sections: Sequence[GallerySection], folder: str | os.PathLike) -> str:
    """`sections` as one HTML block to show inside another page (a notebook cell's output), as
    `save_gallery` shows them: its style scoped to the block, and every image file they name
    (relative to `folder`) inline as a data URI, so that the block needs no files."""
    bad = [s for s in sections if not _is_section(s)]
    if bad:
        raise ValueError(f"gallery_html shows GallerySections; got {bad[0]!r}.")
    style = scoped(render("gallery.css"), INLINE_SCOPE)
    return _inlined(render("gallery_inline.html", style=style, sections=list(sections)), folder)


def _inlined(page: str, folder: str | os.PathLike) -> str:
    """`page` with each src naming a file of `folder` replaced by the file's bytes as a data URI
    (each file read once, however many tiles crop it)."""
    uris: dict[str, str] = {}

    def data_uri(match: re.Match) -> str:
        name = match.group(1)
        if name not in uris:
            path = Path(folder) / urllib.parse.unquote(name)
            if not path.is_file():
                return match.group(0)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            uris[name] = f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()
        return f'src="{uris[name]}"'

    return re.sub(r'src="([^":]+)"', data_uri, page)
