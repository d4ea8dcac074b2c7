"""Writers for PNGs, image grids, GIFs, JSON, an HTML gallery and an atlas page, and a reader for
image files.

Every file is written whole or not at all: the bytes go to a temporary file in the same directory,
which then replaces the target in one step, so an interrupted run never leaves a truncated file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samplevis.runtime.checks import TensorLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure


import contextlib
import dataclasses
import glob
import html
import io as _io
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import numpy as np

from samplevis.runtime.checks import RESAMPLING_SLACK, is_int, is_number


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed."""
    path = _as_path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give a file path inside it, e.g. "
            f"{path / ('image' + (path.suffix or '.png'))}."
        )
    _make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def partial_writes(path: str | os.PathLike) -> list[Path]:
    """The temporary files that writes of `path` stopped midway (a SIGKILL, a power loss) left
    beside it; `path` itself is whole (see `atomic_path`)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.part"))


def _as_path(path: object) -> Path:
    """`path` as a Path; anything else is most likely the data given first (Lucid's order)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"the file path comes first, then the data, e.g. save_png('a.png', image); "
            f"got a {type(path).__name__} as the path."
        )
    return Path(path)


def _make_folder(folder: Path) -> None:
    """Create `folder` and its parents; a file in the way is an error naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        in_the_way = next(p for p in [folder, *folder.parents] if p.exists() and not p.is_dir())
        raise NotADirectoryError(
            f"cannot write into {folder}: {in_the_way} is a file, not a "
            "folder. Choose another folder."
        ) from None


def _check_suffix(path: str | os.PathLike, suffix: str, *others: str) -> None:
    """Refuse a file name whose suffix promises another format than the bytes written (`suffix`
    or one of `others`)."""
    path = _as_path(path)
    if path.suffix.lower() not in (suffix, *others):
        raise ValueError(
            f"this writes {suffix[1:].upper()} data; name the file with {suffix}, "
            f"e.g. {path.with_suffix(suffix)}; got {path}."
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def to_uint8(image: TensorLike) -> np.ndarray:
    """Image(s) → uint8 with the same shape: floats in [0, 1] (a resize's overshoot of up to 0.5
    is clipped; beyond that, or NaN, raises) or integers in 0..255."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    low, high = (image.min(), image.max()) if image.size else (0, 0)
    if np.issubdtype(image.dtype, np.integer):
        if low < 0 or high > 255:
            raise ValueError(
                f"integer images hold 0..255; these reach [{low}, {high}]. Nothing was written."
            )
        return image.astype(np.uint8)
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values; nothing was written.")
    if low < -RESAMPLING_SLACK or high > 1.0 + RESAMPLING_SLACK:  # clipping would hide them
        raise ValueError(
            f"float images are in [0, 1]; these reach [{low:g}, {high:g}]. Divide "
            "8-bit values by 255, or map [-1, 1] with (x + 1) / 2. Nothing was "
            "written."
        )
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _single_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"expected one image [H, W, 3] (or a batch of one); got shape {image.shape}. "
            "Write batches with save_grid or save_pngs."
        )
    return image


def png_bytes(image: TensorLike) -> bytes:
    """PNG encoding of one image [H, W, 3], RGBA [H, W, 4] or grey [H, W, 1] (see `to_uint8`
    for the values it takes)."""
    from PIL import Image

    pixels = to_uint8(_single_image(image))
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buffer = _io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path: str | os.PathLike, image: TensorLike) -> Path:
    """Write one image [H, W, 3] or RGBA [H, W, 4] (floats in [0, 1] or integers in 0..255) as
    a PNG (a .png path; RGBA keeps its alpha), atomically."""
    _check_suffix(path, ".png")
    return write_bytes(path, png_bytes(image))


def grid(
    images: TensorLike, ncols: int | None = None, pad: int = 2, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images [N, H, W, C] into one image, `ncols` per row (default: about square); the
    gaps are `pad_value` in every channel (opaque, for RGBA)."""
    if ncols is not None and not (is_int(ncols) and ncols >= 1):
        raise ValueError(
            f"ncols is the number of images per row, an int >= 1 or None; got {ncols!r}."
        )
    if not (is_int(pad) and pad >= 0):
        raise ValueError(f"pad is the gap between images in px, an int >= 0; got {pad!r}.")
    images = np.asarray(images)
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) else 1.0
    images = images.astype(np.float32) / scale
    if images.ndim != 4:
        raise ValueError(f"grid takes images [N, H, W, C]; got shape {images.shape}.")
    n, h, w, c = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), pad_value, np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        out[top : top + h, left : left + w] = image
    return out


def on_checkerboard(images: TensorLike, tile: int = 8) -> np.ndarray:
    """RGBA images [..., H, W, 4] in [0, 1] composited over a light checkerboard of `tile` px
    squares (Lucid's transparency notebook's greys, 0.95 and 0.6): RGB [..., H, W, 3], with
    the transparent parts showing the board. RGB images are returned as they are."""
    images = np.asarray(images, np.float32)
    if images.ndim < 3 or images.shape[-1] not in (3, 4):
        raise ValueError(
            f"on_checkerboard takes images [..., H, W, 4] (RGBA) or [..., H, W, 3]; got shape "
            f"{images.shape}."
        )
    if not (is_int(tile) and tile >= 1):
        raise ValueError(f"tile is the side of a square in px, an int >= 1; got {tile!r}.")
    if images.shape[-1] == 3:
        return images
    rows, cols = np.indices(images.shape[-3:-1]) // tile
    board = np.where((rows + cols) % 2 == 0, 0.95, 0.6).astype(np.float32)[..., None]
    rgb, alpha = images[..., :3], images[..., 3:]
    return rgb * alpha + board * (1.0 - alpha)


def save_grid(
    path: str | os.PathLike, images: TensorLike, ncols: int | None = None, pad: int = 2
) -> Path:
    """Write images [N, H, W, 3] (or RGBA [N, H, W, 4]) as one PNG grid, atomically."""
    return save_png(path, grid(images, ncols=ncols, pad=pad))


def save_pngs(
    directory: str | os.PathLike, images: TensorLike, prefix: str = "image"
) -> list[Path]:
    """Write images [N, H, W, 3] (or RGBA [N, H, W, 4]) as `prefix_000.png`, … in `directory`;
    returns the paths."""
    if not isinstance(prefix, str) or any(sep and sep in prefix for sep in (os.sep, os.altsep)):
        raise ValueError(
            f"prefix starts each file name and cannot hold a folder; got {prefix!r}. "
            "Give the folder as `directory`."
        )
    directory = _as_path(directory)
    _make_folder(directory)
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    return [save_png(directory / f"{prefix}_{i:03d}.png", im) for i, im in enumerate(images)]


def save_figure(path: str | os.PathLike, figure: Figure, dpi: float = 100.0) -> Path:
    """Write a matplotlib Figure as a PNG (a .png path), atomically. matplotlib renders PNGs
    with Agg whatever the figure's backend, so no display is needed."""
    _check_suffix(path, ".png")
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return write_bytes(path, buffer.getvalue())


def load_images(paths: str | os.PathLike | Sequence[str | os.PathLike], size: int) -> np.ndarray:
    """Image files (any format Pillow reads) as float32 [N, size, size, 3] in [0, 1]: each is
    cropped to its centre square and resized, as the images render and render_vis start from."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not (is_int(size) and size >= 1):
        raise ValueError(f"size is the side of the images in px, an int >= 1; got {size!r}.")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    images = []
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"load_images takes file paths; got a {type(path).__name__}.")
        try:
            with Image.open(path) as image:
                square = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
        except FileNotFoundError:
            raise FileNotFoundError(f"no image file {str(path)!r}.") from None
        except OSError as err:  # not an image, a truncated one, a folder, no permission
            why = "" if isinstance(err, UnidentifiedImageError) else f" ({err})"
            raise ValueError(
                f"cannot read {str(path)!r} as an image{why}; give a PNG, JPEG or "
                "another format Pillow reads."
            ) from None
        images.append(np.asarray(square, np.float32) / 255.0)
    if not images:
        raise ValueError("load_images needs at least one path.")
    return np.stack(images)


def save_gif(path: str | os.PathLike, frames: TensorLike, fps: float = 4.0, loop: int = 0) -> Path:
    """Write frames [T, H, W, 3] or grey [T, H, W, 1] (floats in [0, 1] or integers in 0..255) as
    an animated GIF (a .gif path) of T / fps seconds, atomically. A frame equal to the one before
    it is stored as a longer showing of that one (the GIF writer's way), so a reader may count
    fewer frames than T, never less time."""
    import imageio.v3 as iio

    _check_suffix(path, ".gif")
    if not (is_int(loop) and loop >= 0):
        raise ValueError(
            f"loop is how many times the GIF plays, an int >= 0 (0: forever); got {loop!r}."
        )
    if not is_number(fps) or fps <= 0:
        raise ValueError(f"fps must be a number of frames per second > 0; got {fps!r}.")
    frames = to_uint8(np.asarray(frames))
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(
            f"save_gif takes frames [T, H, W, 3] or [T, H, W, 1]; got shape {frames.shape}."
        )
    if frames.shape[-1] == 1:
        frames = frames[..., 0]  # grey frames: the GIF writer takes them without a colour axis
    data = iio.imwrite("<bytes>", frames, extension=".gif", duration=1000.0 / fps, loop=loop)
    return write_bytes(path, data)


def _plain(value):
    """`value` with numpy scalars and arrays as numbers and lists, and NaN and infinities as
    None: JSON has no token for them, and strict readers (JavaScript, jq) reject Python's."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write `obj` as indented standard JSON to a .json path, atomically: numpy scalars and
    arrays become numbers and lists, NaN and infinities become null."""
    _check_suffix(path, ".json")
    text = json.dumps(_plain(obj), indent=2, allow_nan=False)
    return write_bytes(path, (text + "\n").encode())


@dataclasses.dataclass(frozen=True)
class Crop:
    """A rectangle of an image file, in px: e.g. one tile of a grid (`grid`)."""

    left: int
    top: int
    width: int
    height: int
    file_width: int  # the whole file's width


@dataclasses.dataclass(frozen=True)
class Tile:
    """One picture of a strip: an image file (`src`, relative to the page), or a `crop` of one,
    with a short `caption` under it and a longer `title` shown on hovering."""

    src: str
    caption: str
    crop: Crop | None = None
    title: str = ""


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


# Transparent parts of RGBA images show a checkerboard behind them; opaque images cover it.
CHECKERBOARD_CSS = "background:repeating-conic-gradient(#f2f2f2 0 25%,#999 0 50%) 0 0/16px 16px"

# The page fits its window, down to a phone's, without sideways scrolling: figures and their
# images shrink to the width there is (a trace plot is 800 px wide), rows of figures wrap, and
# long captions break anywhere. Thumbnails of loose images are enlarged with their pixels
# kept sharp; a run's images show at their own size, smoothly scaled down when too wide.
# A strip's tiles are 128 px wide (the default render size, large enough to tell what an image
# shows) and wrap onto more lines; its aside (maps, photos) follows on a line of its own.
GALLERY_STYLE = (
    "body{font-family:sans-serif;max-width:1400px;margin:0 auto;padding:8px;"
    "box-sizing:border-box}"
    "figure{display:inline-block;max-width:calc(100% - 16px);margin:8px;text-align:center;"
    "vertical-align:top}figcaption,p{overflow-wrap:anywhere}"
    "img{width:192px;max-width:100%;height:auto;image-rendering:pixelated}"
    f"img{{{CHECKERBOARD_CSS}}}"
    "section img{width:auto;image-rendering:auto}"
    "section{border-top:1px solid #ccc;margin-bottom:16px}"
    ".chain{display:flex;flex-wrap:wrap;align-items:flex-start;gap:0 12px;margin:4px 0}"
    ".chain>b{flex:none;width:56px;font-size:13px;padding-top:4px}"
    ".strip,.aside{display:flex;flex-wrap:wrap;gap:3px;padding:3px 0}"
    ".strip{min-width:0;flex:1 1 0}.aside{flex:1 1 100%;padding-left:68px}"
    "section figure.tile{flex:none;max-width:none;margin:0;padding-left:4px;"
    "border-left:3px solid transparent;width:128px}"
    "figure.tile figcaption{font-size:11px;color:#444;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}"
    "section figure.tile img{display:block;width:100%;image-rendering:pixelated}"
    ".crop{overflow:hidden}section .crop img{max-width:none}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "th,td{padding:2px 8px;text-align:right;border-bottom:1px solid #e4e4e4}"
    "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
    ".note{font-size:13px;color:#444;margin:0 0 8px}.strip-note{margin:10px 0 0}"
    "details{margin:6px 0}"
    "summary{cursor:pointer;color:#333}"
)


def _is_pair(entry: object) -> bool:
    return (
        isinstance(entry, (tuple, list))
        and len(entry) == 2
        and all(isinstance(part, str) for part in entry)
    )


def _figure(caption: str, src: str) -> str:
    return (
        f'<figure><img src="{html.escape(quote(src))}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _tile_html(tile: Tile) -> str:
    """A strip's picture; a crop shows its rectangle of the file, scaled to the tile's width
    (percentages of the tile's width: margins in CSS are, vertical ones too)."""
    image = f'<img src="{html.escape(quote(tile.src))}" alt="{html.escape(tile.caption)}"'
    crop = tile.crop
    if crop is None:
        picture = image + ">"
    else:
        scale = 100.0 / crop.width  # % of the tile's width per px of the file
        picture = (
            f'<div class="crop" style="aspect-ratio:{crop.width}/{crop.height}">{image} '
            f'style="width:{crop.file_width * scale:.4g}%;margin:{-crop.top * scale:.4g}% 0 0 '
            f'{-crop.left * scale:.4g}%"></div>'
        )
    title = f' title="{html.escape(tile.title)}"' if tile.title else ""
    return (
        f'<figure class="tile"{title}>{picture}'
        f"<figcaption>{html.escape(tile.caption)}</figcaption></figure>"
    )


def _strip_html(strip: Strip) -> str:
    aside = "".join(_tile_html(t) for t in strip.aside)
    note = f'<p class="note strip-note">{html.escape(strip.note)}</p>' if strip.note else ""
    return (
        note + f'<div class="chain"><b>{html.escape(strip.label)}</b>'
        f'<div class="strip">{"".join(_tile_html(t) for t in strip.tiles)}</div>'
        + (f'<div class="aside">{aside}</div>' if aside else "")
        + "</div>"
    )


def _table_html(rows: tuple[tuple[str, ...], ...], note: str) -> str:
    if not rows:
        return f'<p class="note">{html.escape(note)}</p>' if note else ""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows[1:]
    )
    under = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{under}"


def _section_html(section: GallerySection) -> str:
    lines = "".join(f"<p>{html.escape(line)}</p>" for line in section.lines)
    strips = "".join(_strip_html(strip) for strip in section.strips)
    table = _table_html(section.table, section.table_note)
    rows = "".join(f"<div>{''.join(_figure(*pair) for pair in row)}</div>" for row in section.rows)
    details = "".join(
        f"<details><summary>{html.escape(title)}</summary>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in folded)
        + "</details>"
        for title, folded in section.details
    )
    return (
        f"<section><h2>{html.escape(section.heading)}</h2>{lines}"
        f"{f'<div class=strips>{strips}</div>' if strips else ''}{table}{rows}{details}</section>"
    )


def save_gallery(
    path: str | os.PathLike,
    entries: Sequence[tuple[str, str] | GallerySection],
    title: str = "samplevis gallery",
) -> Path:
    """Write an HTML page (a .html or .htm path) showing, in order, (caption, image file relative
    to the page) pairs of strings as thumbnails and `GallerySection`s, atomically.

    File names are URL-quoted, so '#', '?' and '%' in them still resolve."""
    _check_suffix(path, ".html", ".htm")
    entries = list(entries)
    bad = [
        e
        for e in entries
        if not (
            _is_pair(e)
            or (
                isinstance(e, GallerySection)
                and isinstance(e.heading, str)
                and all(isinstance(line, str) for line in e.lines)
                and all(_is_pair(pair) for row in e.rows for pair in row)
                and all(
                    isinstance(t, Tile) for strip in e.strips for t in (*strip.tiles, *strip.aside)
                )
            )
        )
    ]
    if bad:
        raise ValueError(
            f"gallery entries are (caption, image file) pairs of strings, e.g. "
            f"('chain 0', 'sample_000.png'), or GallerySections of such pairs; got "
            f"{bad[0]!r}."
        )
    body = "\n".join(
        _section_html(e) if isinstance(e, GallerySection) else _figure(*e) for e in entries
    )
    page = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        f"{GALLERY_STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return write_bytes(path, page.encode())


THUMBNAIL_PX = 96  # side of a channel's thumbnail on an atlas page
_ATLAS_STYLE = (
    "body{font-family:sans-serif;margin:16px}nav a{margin-right:12px}"
    "section{border-top:1px solid #ccc}.grid{display:flex;flex-wrap:wrap;gap:6px}"
    f".ch{{display:block;width:{THUMBNAIL_PX}px;font-size:12px;text-align:center;color:#333;"
    "text-decoration:none}"
    f".ch img{{display:block;width:{THUMBNAIL_PX}px;height:{THUMBNAIL_PX}px}}"
    f".ch img,#detail img{{{CHECKERBOARD_CSS}}}"  # RGBA channels (`atlas(alpha=True)`)
    # a label of fixed height, so that a section's height is known before its thumbnails exist
    ".ch span{display:block;height:18px;line-height:18px;overflow:hidden}"
    "#detail{position:fixed;inset:0;overflow:auto;padding:24px;background:rgba(20,20,20,.97);"
    "color:#fff}#detail[hidden]{display:none}#detail figure{display:inline-block;margin:8px;"
    "vertical-align:top}#detail img{max-width:90vw}#detail .large{width:384px;height:auto}"
    "#detail td{padding:2px 12px 2px 0;vertical-align:top}#detail button{float:right;"
    "font-size:16px}"
)
# A layer's thumbnails are made when its section comes near the window (so a page of tens of
# thousands of channels opens at once), each image loading lazily. The detail view shows the
# channel named by the page's #fragment ('layer/channel') large, with its other files and its
# atlas.json entry; an empty or other fragment (a layer's link) hides it.
_ATLAS_SCRIPT = """
const THUMBNAIL = THUMBNAIL_PX, GAP = 6, LABEL = 18;
const entries = JSON.parse(document.getElementById('atlas-data').textContent);
const byKey = new Map(entries.map(e => [e.layer + '/' + e.channel, e]));
const byLayer = new Map();
for (const e of entries) {
  if (!byLayer.has(e.layer)) byLayer.set(e.layer, []);
  byLayer.get(e.layer).push(e);
}
const url = file => file.split('/').map(encodeURIComponent).join('/');
function thumbnail(e) {
  const link = document.createElement('a');
  link.className = 'ch';
  link.href = url(e.files[0]);
  link.dataset.key = e.layer + '/' + e.channel;
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.decoding = 'async';
  img.width = img.height = THUMBNAIL;
  img.alt = e.layer + ' channel ' + e.channel;
  img.src = url(e.files[0]);
  const label = document.createElement('span');
  label.textContent = e.channel;
  link.append(img, label);
  return link;
}
const near = new IntersectionObserver(seen => {
  for (const item of seen) {
    if (!item.isIntersecting) continue;
    near.unobserve(item.target);
    item.target.replaceChildren(...byLayer.get(item.target.dataset.layer).map(thumbnail));
    item.target.style.minHeight = '';
  }
}, {rootMargin: '1500px'});
for (const grid of document.querySelectorAll('.grid')) {
  const perRow = Math.max(1, Math.floor((grid.clientWidth + GAP) / (THUMBNAIL + GAP)));
  const rows = Math.ceil(byLayer.get(grid.dataset.layer).length / perRow);
  grid.style.minHeight = rows * (THUMBNAIL + LABEL + GAP) - GAP + 'px';
  near.observe(grid);
}
const detail = document.getElementById('detail');
function cell(row, text) { row.insertCell().textContent = text; }
function show() {
  const e = byKey.get(decodeURIComponent(location.hash.slice(1)));
  if (!e) { detail.hidden = true; return; }
  document.getElementById('detail-title').textContent = e.layer + ', channel ' + e.channel;
  const figures = document.getElementById('detail-figures');
  figures.replaceChildren();
  e.files.forEach((file, i) => {
    const figure = document.createElement('figure');
    const img = document.createElement('img');
    img.src = url(file);
    img.alt = file;
    if (i === 0) img.className = 'large';
    const caption = document.createElement('figcaption');
    caption.textContent = file;
    figure.append(img, caption);
    figures.append(figure);
  });
  const table = document.getElementById('detail-info');
  table.replaceChildren();
  for (const [key, value] of Object.entries(e)) {
    if (key === 'files') continue;
    const row = table.insertRow();
    cell(row, key);
    cell(row, Array.isArray(value) ? value.join(key === 'notes' ? ' | ' : ', ') : String(value));
  }
  detail.hidden = false;
}
document.addEventListener('click', event => {
  const link = event.target.closest('a.ch');
  if (!link) return;
  event.preventDefault();
  location.hash = encodeURIComponent(link.dataset.key);
});
document.getElementById('detail-close').onclick = () => { location.hash = ''; };
document.addEventListener('keydown', event => {
  if (event.key === 'Escape' && !detail.hidden) location.hash = '';
});
window.addEventListener('hashchange', show);
show();
""".replace("THUMBNAIL_PX", str(THUMBNAIL_PX))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _atlas_section(layer: str, count: int | None, shown: int) -> str:
    of = f" of {count}" if count else ""
    plural = "" if (count or shown) == 1 else "s"
    return (
        f'<section id="layer-{html.escape(quote(layer))}"><h2>{html.escape(layer)} '
        f"<small>({shown}{of} channel{plural})</small></h2>"
        f'<div class="grid" data-layer="{html.escape(layer)}"></div></section>'
    )


def save_atlas_page(
    path: str | os.PathLike,
    entries: Sequence[Mapping],
    layers: Mapping[str, int | None],
    title: str = "samplevis atlas",
) -> Path:
    """Write an atlas page (a .html path), atomically: a section per layer of `layers` ({name:
    channel count}, in page order) with a labelled thumbnail per entry; clicking one shows it
    large with its other files and numbers. A section's thumbnails are made as it nears the
    window and load lazily, so a page of tens of thousands of channels opens at once. It works
    from the file system, without a server (with JavaScript).

    `entries` are atlas.json entries: dicts with at least "layer", "channel" (int) and "files"
    (paths relative to the page, the channel's image first).
    """
    _check_suffix(path, ".html", ".htm")
    bad = [
        e
        for e in entries
        if not (
            isinstance(e, Mapping)
            and isinstance(e.get("layer"), str)
            and is_int(e.get("channel"))
            and e.get("files")
            and all(isinstance(f, str) for f in e["files"])
        )
    ]
    if bad:
        raise ValueError(
            f"atlas entries are dicts with 'layer', 'channel' and 'files' (image "
            f"first); got {bad[0]!r}."
        )
    by_layer: dict[str, list] = {layer: [] for layer in layers}
    for entry in entries:
        by_layer.setdefault(entry["layer"], []).append(entry)
    by_layer = {layer: found for layer, found in by_layer.items() if found}
    nav = "".join(
        f'<a href="#layer-{html.escape(quote(layer))}">{html.escape(layer)}</a>'
        for layer in by_layer
    )
    sections = "\n".join(
        _atlas_section(layer, layers.get(layer), len(found)) for layer, found in by_layer.items()
    )
    data = json.dumps(_plain(list(entries)), allow_nan=False).replace("</", "<\\/")
    page = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_ATLAS_STYLE}</style></head>\n<body>"
        f"<h1>{html.escape(title)}</h1><p>{_count(len(entries), 'channel')} in "
        f"{_count(len(by_layer), 'layer')}. "
        "Click a channel to see it large with its numbers.</p>"
        f"<nav>{nav}</nav><noscript><p>The thumbnails need JavaScript; the images are in "
        f"the layers' folders, listed in atlas.json.</p></noscript>\n{sections}\n"
        '<div id="detail" hidden><button id="detail-close">close</button>'
        '<h2 id="detail-title"></h2><div id="detail-figures"></div>'
        '<table id="detail-info"></table></div>\n'
        f'<script type="application/json" id="atlas-data">{data}</script>\n'
        f"<script>{_ATLAS_SCRIPT}</script>\n</body></html>\n"
    )
    return write_bytes(path, page.encode())
