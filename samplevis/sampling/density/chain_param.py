"""A chain's state for one facet: the coarse spectral coefficients move, the fine ones are the
start's.

At a temperature that keeps most of the activation, the ~50,000 spectral coefficients of a
128 px image each give up about T / 2 of it (equipartition), so T must be tiny and every
coefficient moves by speckle. With only the D coefficients below `cutoff` cycles per pixel
moving, the same activation budget allows a temperature larger by the factor the state shrank;
each chain then samples the coarse layout of its own optimized start (its facet) while the finer
coefficients keep the start's values (docs/sampling.md, "The density: what a chain samples").

The coarse coefficients alone move colour and brightness, not the start's motifs. A
`WarpedFacet` adds a smooth displacement field to the state, so the motifs can slide, bend and
stretch while their detail stays the start's (docs/sampling_designs.md, "The chain's state").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.optvis.param.base import ImageParam, State, WrappedImage
from samplevis.optvis.param.fourier import FFTTensor, rfft2d_freqs


def sample_images(image_param: ImageParam, samples: Sequence[np.ndarray]) -> np.ndarray:
    """[N, C, H, W, 3] images of `image_param`'s state parts, each [N, C, ...] (N samples of C
    chains)."""
    if samples[0].shape[0] == 0:
        shape = (0, image_param.batch, image_param.height, image_param.width, 3)
        return np.zeros(shape, np.float32)
    return np.stack(
        [
            image_param.to_image(tuple(tf.constant(s[i]) for s in samples)).numpy()
            for i in range(samples[0].shape[0])
        ]
    )


def fft_tensor(image_param: ImageParam) -> FFTTensor | None:
    """The FFT tensor parameterization inside `image_param` (under its wrappers), if there is
    one."""
    tensor = image_param.unwrapped.tensor_param
    return tensor if isinstance(tensor, FFTTensor) else None


def moving_mask(image_param: ImageParam, cutoff: float) -> np.ndarray:
    """bool [2, channels, H, Wf]: the spectral coefficients below `cutoff` cycles per pixel (real
    and imaginary parts of every colour channel) of a `param.image`-like parameterization."""
    fft = fft_tensor(image_param)
    if fft is None:
        raise ValueError(
            f"hmc_opts['cutoff'] moves the spectral coefficients below a frequency, so it needs a "
            f"spectral parameterization such as param.image(128); got "
            f"{type(image_param).__name__}. Use it, or give cutoff=None to move the whole state."
        )
    below = rfft2d_freqs(fft.height, fft.width) < cutoff
    return np.broadcast_to(below, (2, fft.channels, *below.shape)).copy()


@dataclasses.dataclass(frozen=True, eq=False)
class FacetImage(WrappedImage):
    """Images of `base` whose state is only its coefficients under `moving`.

    State: one part, float32 [C, D], the moving coefficients of each chain, D = moving.sum();
    the others keep `start`'s values. `init` gives the start's moving coefficients.

    Attributes:
      base: a spectral image parameterization with one state part [C, 2, channels, H, Wf].
      start: float32 [C, 2, channels, H, Wf], each chain's optimized start.
      moving: bool [2, channels, H, Wf], the coefficients that move (`moving_mask`).
    """

    base: ImageParam
    start: np.ndarray
    moving: np.ndarray

    def __post_init__(self) -> None:
        shape = tuple(self.base.state_shapes[0][1:])
        if len(self.base.state_shapes) != 1 or self.moving.shape != shape:
            raise ValueError(
                f"moving must have the shape of one chain's state {shape}; got {self.moving.shape}."
            )
        if tuple(self.start.shape) != (self.base.batch, *shape):
            raise ValueError(
                f"start must be [C, ...] = {(self.base.batch, *shape)}; got {self.start.shape}."
            )
        if not self.moving.any():
            raise ValueError(
                "no coefficient moves: raise hmc_opts['cutoff'] (cycles per pixel; "
                "the lowest nonzero frequency of an N px image is 1/N)."
            )

    @property
    def num_moving(self) -> int:
        """D, the coefficients that move per chain."""
        return int(self.moving.sum())

    @property
    def state_shapes(self) -> tuple:
        return ((self.batch, self.num_moving),)

    def _flat(self) -> tuple[np.ndarray, np.ndarray]:
        flat = self.moving.reshape(-1)
        return np.flatnonzero(flat), np.flatnonzero(~flat)

    def init(self, seed: object = None) -> State:
        return (tf.constant(self.moving_part(self.start)),)

    def moving_part(self, spectra: np.ndarray) -> np.ndarray:
        """The moving coefficients [C, D] of full states [C, 2, channels, H, Wf]."""
        return np.asarray(spectra).reshape(self.batch, -1)[:, self._flat()[0]].astype(np.float32)

    def spectrum(self, state: State) -> tf.Tensor:
        """Full states [C, 2, channels, H, Wf]: the start with its moving coefficients replaced."""
        moving, fixed = self._flat()
        start = tf.reshape(tf.convert_to_tensor(self.start, tf.float32), [self.batch, -1])
        fine = tf.gather(start, fixed, axis=1)
        # A gather through the inverse of the (moving, fixed) order puts every coefficient back
        # in place; its gradient reaches the moving part as a sparse sum.
        order = np.argsort(np.concatenate([moving, fixed]))
        flat = tf.gather(tf.concat([state[0], fine], axis=1), order, axis=1)
        return tf.reshape(flat, [self.batch, *self.moving.shape])

    def to_image(self, state: State) -> tf.Tensor:
        return self.base.to_image((self.spectrum(state),))

    def fixed_squared_norm(self) -> np.ndarray:
        """|fine|^2 per chain, float [C]: the prior's share of the coefficients that stay."""
        fixed = np.asarray(self.start).reshape(self.batch, -1)[:, self._flat()[1]]
        return np.sum(np.square(fixed.astype(np.float64)), axis=1)

    def groups(self, full_groups: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per moving coefficient, its group among `full_groups` (int [2, channels, H, Wf])."""
        return (full_groups.reshape(-1)[self._flat()[0]].astype(np.int32),)


# G: the displacement field's control points per side, `hmc_opts['warp_grid']`'s default (a
# coarser grid kept more activation at the same share: docs/sampling_designs.md, "The chain's
# state")
WARP_GRID = 4
WARP_PIXELS = 16.0  # px of displacement per unit of warp state


def warp_read_points(
    height: int, width: int, warp: tf.Tensor, pixels: float = WARP_PIXELS
) -> tuple[tf.Tensor, ...]:
    """Where each output pixel of `warp_images` reads, for images of `height` x `width` px and
    a warp [C, G, G, 2]: the rows y0, y1 and columns x0, x1 of its four bilinear neighbours (int32
    [C, H, W], wrapped round the edges) and its weights wy, wx along them ([C, H, W, 1])."""
    h, w = height, width
    shift = pixels * tf.image.resize(warp, [h, w], method="bilinear")
    rows, cols = tf.meshgrid(
        tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij"
    )
    y = tf.math.floormod(rows + shift[..., 0], float(h))
    x = tf.math.floormod(cols + shift[..., 1], float(w))
    y0, x0 = tf.floor(y), tf.floor(x)
    wy, wx = (y - y0)[..., None], (x - x0)[..., None]
    y0, x0 = tf.cast(y0, tf.int32) % h, tf.cast(x0, tf.int32) % w
    return y0, x0, (y0 + 1) % h, (x0 + 1) % w, wy, wx


def warp_images(images: tf.Tensor, warp: tf.Tensor, pixels: float = WARP_PIXELS) -> tf.Tensor:
    """Images [C, H, W, 3] displaced by a smooth field: the warp [C, G, G, 2] (dy, dx at G x G
    control points) times `pixels`, bilinearly upsampled to H x W, says where each output pixel
    reads from; reads are bilinear and wrap around the edges, as the spectral images they warp
    are periodic (clamped reads would smear the border pixels into streaks). A zero warp returns
    the images."""
    c, h, w, channels = (int(n) for n in images.shape)
    y0, x0, y1, x1, wy, wx = warp_read_points(h, w, warp, pixels)
    # Reads of the flattened images by row: the gradient of `tf.gather` sums into the images
    # faster than that of `tf.gather_nd` (a scatter), the bulk of the warp's cost in a leapfrog
    # step (docs/benchmarks.md, "The chains' block").
    flat = tf.reshape(images, [c * h * w, channels])
    first = (tf.range(c) * (h * w))[:, None, None]  # each chain's first row

    def at(yi: tf.Tensor, xi: tf.Tensor) -> tf.Tensor:
        return tf.gather(flat, first + yi * w + xi)

    top = (1 - wx) * at(y0, x0) + wx * at(y0, x1)
    bottom = (1 - wx) * at(y1, x0) + wx * at(y1, x1)
    return (1 - wy) * top + wy * bottom


@dataclasses.dataclass(frozen=True, eq=False)
class WarpedFacet(WrappedImage):
    """A facet's images, displaced by a smooth warp that is part of the state.

    State: (the facet's moving coefficients [C, D], the warp [C, G, G, 2]); the image is
    `warp_images(facet image, warp)`. Under the density's Gaussian prior the warp's spread is
    that of a coefficient, 1 / sqrt(lam) units of `WARP_PIXELS` px.

    Attributes:
      base: the FacetImage whose images are warped.
      warp_start: float32 [C, G, G, 2], each chain's first warp (zeros: the start as it is).
    """

    base: FacetImage
    warp_start: np.ndarray

    @property
    def state_shapes(self) -> tuple:
        return (*self.base.state_shapes, tuple(self.warp_start.shape))

    def init(self, seed: object = None) -> State:
        return (*self.base.init(seed), tf.constant(self.warp_start, tf.float32))

    def to_image(self, state: State) -> tf.Tensor:
        return warp_images(self.base.to_image(tuple(state[:1])), state[1])


def chain_parameterization(
    image_param: ImageParam,
    start: np.ndarray | Sequence[np.ndarray],
    cutoff: float | None,
    warp: bool = False,
    warp_grid: int = WARP_GRID,
) -> ImageParam:
    """What the chains move, from the starts' state `start` of `image_param` (its parts, each
    [C, ...]; one array for a one-part state such as `param.image`'s): the coefficients below
    `cutoff` of each start (its facet), with a warp of it if `warp`, or the whole state, every
    part of it (cutoff None)."""
    parts = (start,) if isinstance(start, np.ndarray) else tuple(start)
    parts = tuple(np.asarray(p, np.float32) for p in parts)
    shapes = [tuple(s) for s in image_param.state_shapes]
    if [p.shape for p in parts] != shapes:
        raise ValueError(
            f"the starts' state must have the parameterization's parts {shapes}; got "
            f"{[p.shape for p in parts]}. Pass every part of the state (a CPPN has one per "
            "weight and bias), each [C, ...]."
        )
    if cutoff is None:
        return Started(image_param, parts)
    facet = FacetImage(image_param, parts[0], moving_mask(image_param, cutoff))
    if not warp:
        return facet
    return WarpedFacet(facet, np.zeros([facet.batch, warp_grid, warp_grid, 2], np.float32))


@dataclasses.dataclass(frozen=True, eq=False)
class Started(WrappedImage):
    """The whole state of `base` (cutoff None), its `init` the given `state` (parts [C, ...])."""

    base: ImageParam
    state: tuple[np.ndarray, ...]

    @property
    def state_shapes(self) -> tuple:
        return self.base.state_shapes

    def init(self, seed: object = None) -> tuple[tf.Tensor, ...]:
        return tuple(tf.constant(s) for s in self.state)

    def to_image(self, state: Any) -> tf.Tensor:
        return self.base.to_image(state)


@dataclasses.dataclass(frozen=True, eq=False)
class HeldWarp(FacetImage):
    """A warped facet's coefficients alone, its warp held at `warp` ([C, G, G, 2]): what a
    facet's log-mass integrates over (the warp's volume counts alike for every facet)."""

    warp: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros([0]))

    def to_image(self, state: State) -> tf.Tensor:
        return warp_images(super().to_image(state), tf.constant(self.warp, tf.float32))


def held_warp(chain_param: WarpedFacet) -> HeldWarp:
    """`chain_param`'s coefficients, its warp held where the chains start."""
    facet = chain_param.base
    return HeldWarp(facet.base, facet.start, facet.moving, chain_param.warp_start)


def restarted(chain_param: ImageParam, state: Sequence[np.ndarray]) -> ImageParam:
    """`chain_param` (as `chain_parameterization` made it) with its `init` at `state` (its parts,
    each [C, ...]): the moving coefficients put into each start, the warp's start, or the whole
    state."""
    parts = tuple(np.asarray(p, np.float32) for p in state)
    if isinstance(chain_param, WarpedFacet):
        facet = chain_param.base
        start = facet.spectrum((tf.constant(parts[0]),)).numpy()
        return dataclasses.replace(
            chain_param, base=dataclasses.replace(facet, start=start), warp_start=parts[1]
        )
    if isinstance(chain_param, FacetImage):
        start = chain_param.spectrum((tf.constant(parts[0]),)).numpy()
        return dataclasses.replace(chain_param, start=start)
    if isinstance(chain_param, Started):
        return dataclasses.replace(chain_param, state=parts)
    raise TypeError(
        f"{chain_param!r} is no chains' parameterization (chain_parameterization makes them)."
    )
