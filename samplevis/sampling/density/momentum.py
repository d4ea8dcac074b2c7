"""Diagonal mass matrices for HMC on an image parameterization's state.

On the spectral state of `param.image` the objective's curvature spans about
five orders of magnitude. Measured on EfficientNet-Lite0 (block6a channel 301,
128 px, the default temperature), the squared gradients of A / T average
80-680 per coefficient in the lowest of 8 frequency bands and 0.001-0.09 in
the highest, where the prior's precision (lam = 1 in that run) dominates.
With an identity mass the step size is set by the stiffest directions and
the prior-held ones barely move.

`fisher_mass` sets the mass of each coordinate to its estimated precision,
lam + E[(dA/dz / T)^2] (for a Gaussian the mean squared score equals the
precision), so every direction moves at a similar pace. The squared
gradients are averaged within groups of coordinates (colour channel x radial
frequency band for a spectral state), per chain, so one gradient at the
chains' starts gives a stable estimate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.optvis.param.base import ImageParam
    from samplevis.sampling.density.log_density import LogDensity


from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.optvis.param.fourier import rfft2d_freqs
from samplevis.runtime.checks import is_int
from samplevis.sampling.density.chain_param import FacetImage, fft_tensor

KINDS = ("curvature", "fisher", "identity")
DEFAULT_NUM_BANDS = 8


def frequency_bands(height: int, width: int, num_bands: int) -> np.ndarray:
    """Band index of each rfft2d coefficient, int32 [height, Wf].

    Bands are equal in log frequency, from 1 / max(h, w) (the DC term joins the
    lowest band) to the highest frequency of the grid.
    """
    freqs = np.maximum(rfft2d_freqs(height, width), 1.0 / max(height, width))
    edges = np.geomspace(freqs.min(), freqs.max(), num_bands + 1)
    return np.clip(np.searchsorted(edges, freqs, side="right") - 1, 0, num_bands - 1).astype(
        np.int32
    )


def state_groups(
    image_param: ImageParam, num_bands: int = DEFAULT_NUM_BANDS
) -> tuple[np.ndarray, ...]:
    """Group index of every state coordinate, one int32 array per state part.

    Each array has the part's shape without the chain axis. A spectral state
    [C, 2, channels, H, Wf] is grouped by colour channel and frequency band
    (channels * num_bands groups, real and imaginary parts together); any
    other state part is one group.
    """
    if not is_int(num_bands) or num_bands < 1:
        raise ValueError(f"num_bands must be an int >= 1; got {num_bands!r}.")
    shapes = [tuple(s[1:]) for s in image_param.state_shapes]
    if isinstance(image_param, FacetImage):
        return image_param.groups(state_groups(image_param.base, num_bands)[0])
    fft = fft_tensor(image_param)
    if fft is None or len(shapes) != 1:
        return tuple(np.zeros(s, np.int32) for s in shapes)
    bands = frequency_bands(fft.height, fft.width, num_bands)  # [H, Wf]
    channel = np.arange(fft.channels, dtype=np.int32)[:, None, None]
    groups = channel * num_bands + bands[None]  # [channels, H, Wf]
    return (np.broadcast_to(groups[None], shapes[0]).copy(),)


def group_mean(values: tf.Tensor | np.ndarray, groups: np.ndarray) -> tf.Tensor:
    """Mean of values [C, ...] over each group of coordinates, broadcast back to [C, ...].

    `groups` is int [...], the group of every coordinate of one chain (values' shape without the
    chain axis); the mean is in values' dtype.
    """
    num_chains = values.shape[0]
    flat = tf.transpose(tf.reshape(values, [num_chains, -1]))  # [n, C]
    ids = tf.constant(groups.reshape(-1))
    means = tf.math.unsorted_segment_mean(flat, ids, int(groups.max()) + 1)  # [G, C]
    return tf.reshape(tf.transpose(tf.gather(means, ids)), values.shape)


def fisher_mass(
    log_density: LogDensity, state: Sequence[tf.Tensor], groups: Sequence[np.ndarray]
) -> tuple[tf.Tensor, ...]:
    """Mass lam + group mean of (dA/dz / T)^2 per chain, one [C, ...] tensor per state part.

    Args:
      log_density: a `LogDensity` (its activation, temperature and prior weight are used).
      state: the chains' starts, each part [C, ...].
      groups: `state_groups` of the parameterization.

    Where lam = 0 and a group's gradient vanishes (a dead start) the mass is 1.
    """
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    with tf.GradientTape() as tape:
        tape.watch(state)
        activation = log_density.activation(*state)
    grads = tape.gradient(activation, state)
    masses = []
    temperature = tf.convert_to_tensor(log_density.temperature, tf.float32)
    for grad, part, ids in zip(grads, state, groups):
        # T is a number or one per chain [C]: broadcast it over the chain's state
        per_chain = tf.reshape(temperature, [-1] + [1] * (part.shape.rank - 1))
        grad = tf.zeros_like(part) if grad is None else grad / per_chain
        mass = log_density.prior_weight + group_mean(grad * grad, ids)
        masses.append(tf.where(mass > 0.0, mass, tf.ones_like(mass)))
    return tuple(masses)


def diagonal_momentum(mass: tf.Tensor) -> tfp.distributions.Distribution:
    """Momenta p ~ N(0, diag(mass)) over one state part (`mass` shaped as the part, [C, ...]),
    one log-density per chain [C]."""
    tfd = tfp.distributions
    return tfd.Independent(
        tfd.Normal(tf.zeros_like(mass), tf.sqrt(mass)),
        reinterpreted_batch_ndims=mass.shape.rank - 1,
    )


def momentum_distribution(mass: Sequence[tf.Tensor]) -> tfp.distributions.Distribution:
    """Momenta p ~ N(0, diag(mass)) per state part, one log-density per chain [C]."""
    return tfp.distributions.JointDistributionSequential([diagonal_momentum(m) for m in mass])
