"""Draw docs/examples.png: a unit's optimized image beside its dataset examples from the photos
that scikit-image bundles (each photo and four crops of it, so that the folder has some depth).

    python docs/examples_picture.py                         # block4c_add:12, 256 steps
    python docs/examples_picture.py --unit block4c_add:12 --steps 64 --out docs/examples.png
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

PHOTOS = (
    "astronaut chelsea coffee rocket hubble_deep_field immunohistochemistry retina colorwheel "
    "logo camera moon page text brick grass gravel coins clock horse cell"
).split()
SIDE = 160  # px of each picture in the strip


def write_photos(folder: Path) -> None:
    """Each bundled photo, and its four quarter crops in a subfolder, as PNGs."""
    import skimage.data
    from PIL import Image

    for name in PHOTOS:
        image = Image.fromarray(getattr(skimage.data, name)())
        image.save(folder / f"{name}.png")
        (folder / "crops").mkdir(exist_ok=True)
        width, height = image.size
        for i, (left, top) in enumerate(
            [(0, 0), (width // 2, 0), (0, height // 2), (width // 2, height // 2)]
        ):
            image.crop((left, top, left + width // 2, top + height // 2)).save(
                folder / "crops" / f"{name}_{i}.png"
            )


def tile(image, label: str):
    """An image fitted into SIDE x SIDE px with a label under it (PIL)."""
    from PIL import Image, ImageDraw

    image = image.convert("RGB")
    image.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
    out = Image.new("RGB", (SIDE, SIDE + 16), "white")
    out.paste(image, ((SIDE - image.width) // 2, (SIDE - image.height) // 2))
    ImageDraw.Draw(out).text((2, SIDE + 2), label, fill="black")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unit", default="block4c_add:12")
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).with_name("examples.png")))
    args = parser.parse_args()

    from PIL import Image

    import samplevis
    from samplevis import zoo
    from samplevis.examples.pictures import unit_folder

    model = zoo.efficientnet_lite0()
    (image,) = samplevis.render_vis(
        model, args.unit, thresholds=(args.steps,), seed=0, progress=False
    )
    visual = Image.fromarray(np.round(np.clip(image[0], 0, 1) * 255).astype(np.uint8))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_photos(folder)
        found = samplevis.dataset_examples(
            model, args.unit, images=folder, top=args.top, out=folder / "out", progress=False
        )
        tiles = [tile(visual, f"optimized, {args.steps} steps")]
        unit = unit_folder(found.units[0].name)
        for rank, (name, value, _) in enumerate(found.ranked(0)):
            crop = Image.open(folder / "out" / unit / f"{rank:02d}_crop.png")
            tiles.append(tile(crop, f"{Path(name).stem} {value:.2f}"))
    strip = Image.new("RGB", (len(tiles) * (SIDE + 4), SIDE + 16), "white")
    for i, t in enumerate(tiles):
        strip.paste(t, (i * (SIDE + 4), 0))
    strip.save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
