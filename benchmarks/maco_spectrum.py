"""Regenerate samplevis/data/maco_spectrum.npy, the magnitude spectrum MACO images keep.

It is the mean magnitude spectrum (`samplevis.optvis.param.image_spectrum`, 64 x 64 px) of the RGB
photographs that ship with scikit-image (`skimage.data`): astronaut, chelsea, coffee, rocket and
the left view of stereo_motorcycle. It is stored as float16 (about 13 KB).

    python benchmarks/maco_spectrum.py           # rewrite the stored file
    python benchmarks/maco_spectrum.py --check   # compare the stored file with a fresh one
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

# scikit-image's RGB photographs (skimage.data), read from the package: no download
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle")
TARGET = Path(__file__).resolve().parent.parent / "samplevis" / "data" / "maco_spectrum.npy"


def computed() -> np.ndarray:
    """The spectrum of PHOTOS, float16 [3, 64, 33], as stored."""
    import skimage.data

    from samplevis.optvis.param.spectrum import SPECTRUM_SIZE, image_spectrum

    # stereo_motorcycle gives (left, right, disparity): its left view is the photograph
    images = [getattr(skimage.data, name)() for name in PHOTOS]
    images = [image[0] if isinstance(image, tuple) else image for image in images]
    return image_spectrum(images, SPECTRUM_SIZE).astype(np.float16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    fresh = computed()
    if args.check:
        same = np.array_equal(np.load(TARGET), fresh)
        print(f"{TARGET.name}: {'matches' if same else 'differs from'} a fresh computation")
        return 0 if same else 1
    from samplevis.io import write_bytes

    buffer = io.BytesIO()
    np.save(buffer, fresh)
    write_bytes(TARGET, buffer.getvalue())
    print(f"wrote {TARGET} ({len(buffer.getvalue())} bytes), shape {list(fresh.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
