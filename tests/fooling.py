"""A hand-built network with a fooling circuit as in Geirhos et al. 2024 ("Don't trust your
eyes"), and its honest twin; reddish and greenish photos; each unit's visualization; a facet
of the photo route made from them.

Both networks read colours ("colours": 8 channels of colour differences, 1x1), blur them
("mix": 3x3) and end in one unit ("unit"). The honest unit answers to redness (mix channel
0); the fooled one adds a circuit that answers to a green stronger than any photo's ("gate":
greenness above GATE), weighted by 10: on every photo it is silent, so the two units answer
alike to all of them, but the fooled unit's visualization (its preferred image) is pure green,
while it stands for the reddish photos its unit answers to.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from samplevis.examples.clusters import Example
from samplevis.sampling.report.run import Facet

SIDE = 32  # px
GATE = 0.7  # greenness (G - R) above which the circuit fires; no photo reaches it
# colours' channels as (weights on R, G, B, bias): redness, greenness, blue, yellow, bright,
# dark, red over blue, green over blue, each through a ReLU
COLOURS = (
    (1, -1, 0, 0),
    (-1, 1, 0, 0),
    (0, 0, 1, -0.5),
    (1, 1, 0, -1),
    (1, 1, 1, -1.5),
    (-1, -1, -1, 1),
    (1, 0, -1, 0),
    (0, 1, -1, 0),
)


def network(fooled: bool, any_size: bool = False):
    """The honest network (`fooled` False) or the one with the fooling circuit; the unit is
    "unit:0", its value the mean over positions. Its input is SIDE px, or any size."""
    import keras

    x = keras.Input((None, None, 3) if any_size else (SIDE, SIDE, 3))
    weights = np.array([c[:3] for c in COLOURS], np.float32).T[None, None]
    colours = keras.layers.Conv2D(8, 1, activation="relu", name="colours")
    c = colours(x)
    colours.set_weights([weights, np.array([b[3] for b in COLOURS], np.float32)])
    mix = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="mix")
    m = mix(c)
    blur = np.zeros([3, 3, 8, 8], np.float32)
    for k in range(8):
        blur[:, :, k, k] = 1 / 9
    mix.set_weights([blur, np.zeros(8, np.float32)])
    gate = keras.layers.Conv2D(1, 1, activation="relu", name="gate")
    g = gate(m)
    gate_w = np.zeros([1, 1, 8, 1], np.float32)
    gate_w[0, 0, 1, 0] = 1.0
    gate.set_weights([gate_w, np.array([-GATE], np.float32)])
    unit = keras.layers.Conv2D(1, 1, name="unit")
    u = unit(keras.layers.Concatenate(name="both")([m, g]))
    unit_w = np.zeros([1, 1, 9, 1], np.float32)
    unit_w[0, 0, 0, 0] = 1.0
    unit_w[0, 0, 8, 0] = 10.0 if fooled else 0.0
    unit.set_weights([unit_w, np.zeros(1, np.float32)])
    return keras.Model(x, u)


def photos(kind: str, count: int, seed: int) -> np.ndarray:
    """`count` smooth photos, float32 [N, SIDE, SIDE, 3] in [0, 1]: "red" ones (R 0.6-0.9, G
    0.1-0.3) or "green" ones (G 0.55-0.75, R 0.15-0.35), blue 0.1-0.4, each with a gentle
    gradient of light."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(-0.05, 0.05, SIDE)[None, :, None]
    out = []
    for _ in range(count):
        high, low = rng.uniform(0.6, 0.9), rng.uniform(0.1, 0.3)
        if kind == "green":
            high, low = rng.uniform(0.55, 0.75), rng.uniform(0.15, 0.35)
        red, green = (high, low) if kind == "red" else (low, high)
        colour = np.array([red, green, rng.uniform(0.1, 0.4)])
        out.append(np.clip(colour[None, None] + ramp + np.zeros([SIDE, SIDE, 3]), 0, 1))
    return np.stack(out).astype(np.float32)


def visualization(fooled: bool) -> np.ndarray:
    """The unit's preferred image, float32 [1, SIDE, SIDE, 3]: pure red for the honest unit
    (redness at its most), pure green for the fooled one (the circuit's 10 * (1 - GATE) above
    redness's 1)."""
    colour = [0.0, 1.0, 0.0] if fooled else [1.0, 0.0, 0.0]
    return np.broadcast_to(np.array(colour, np.float32), [1, SIDE, SIDE, 3]).copy()


def photo_facet(image: np.ndarray, photos: list[Path], kind: int, chains: tuple[int, ...]) -> Facet:
    """A facet of the photo route: `image` its optimum, `photos` its kind's examples."""
    return Facet(
        image=image,
        activation=1.0,
        height=1.0,
        found=f"photos, cluster {kind}",
        chains=chains,
        std_map=None,
        log_mass=math.nan,
        log_mass_error=math.nan,
        examples=tuple(Example(p, 1.0, None) for p in photos),
        kind=kind,
    )
