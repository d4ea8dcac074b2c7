"""The momentum's mass from the target's curvature: the prior's precision, plus the activation's
curvature along the directions it holds most.

At a T that keeps most of the activation, a facet's coarse coefficients split into a few dozen
directions the activation holds stiffly and hundreds that only the prior holds, hundreds of
times softer. With one step size for all, the stiff directions set the step and the soft ones
crawl: the chains relax for hundreds of steps and their draws drift (docs/sampling_designs.md,
"The mass"). A mass matrix equal to the target's curvature,

    M = lam I + U diag(h / T) U',

U the top-k eigenvectors of minus the activation's Hessian at the chain's start and h their
eigenvalues (randomized range finding, Halko, Martinsson and Tropp, SIAM Review 2011, over
finite differences of the gradient), makes every direction move at its own scale: HMC with that
mass is HMC in coordinates where the target is round (Neal 2011, section 4.1), and it stays
exact whatever M is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.sampling.density.log_density import LogDensity
from samplevis.sampling.density.momentum import diagonal_momentum

# directions measured (the range finder's probes): the activation's curvature over a facet's
# coefficients falls by an order of magnitude within its first few dozen directions
# (docs/sampling_designs.md, "The mass")
RANK = 32
# the finite difference's length, in state units: a step a chain might take, so that the
# estimate averages over the kinks of a ReLU network rather than reading one side of one kink
PROBE = 1e-2


@dataclasses.dataclass(frozen=True)
class Curvature:
    """Minus the activation's Hessian over one state part, per chain, in its stiffest directions.

    Attributes:
      directions: float32 [C, n, k], orthonormal columns (n the part's size per chain).
      values: float32 [C, k], the curvature along each (activation units per state unit
        squared; below 0 where the activation curves up).
    """

    directions: np.ndarray
    values: np.ndarray


def activation_curvature(
    activation: Callable[..., tf.Tensor],
    state: Sequence[tf.Tensor],
    part: int = 0,
    rank: int = RANK,
    seed: SeedLike = None,
    probe: float = PROBE,
) -> Curvature:
    """The top-`rank` eigenpairs of minus the Hessian of `activation` (state parts, each
    [C, ...] -> [C]) over part `part`, the other parts held, at `state`: randomized range
    finding in one pass over `rank` Hessian-vector products, each a finite difference of the
    gradient over `probe` state units."""
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    shape = state[part].shape
    chains, size = int(shape[0]), int(np.prod(shape[1:]))
    rank = min(rank, size)

    @tf.function(autograph=False)
    def gradient(moved: tf.Tensor) -> tf.Tensor:
        parts = [moved if i == part else s for i, s in enumerate(state)]
        with tf.GradientTape() as tape:
            tape.watch(parts[part])
            total = tf.reduce_sum(activation(*parts))  # each chain reads its own state only
        return tf.reshape(tape.gradient(total, parts[part]), [chains, size])

    origin = tf.reshape(state[part], [chains, size])
    at_origin = gradient(state[part])

    def minus_hessian_times(vectors: np.ndarray) -> np.ndarray:
        """[C, n, k] -> [C, n, k]: -H v for each column v."""
        out = []
        for j in range(vectors.shape[2]):
            v = tf.constant(vectors[:, :, j], tf.float32)
            moved = tf.reshape(origin + probe * v, shape)
            out.append(-(gradient(moved) - at_origin).numpy() / probe)
        return np.stack(out, axis=2).astype(np.float64)

    seed = as_seed(seed)
    probes = tf.random.stateless_normal([chains, size, rank], seed, dtype=tf.float64).numpy()
    sketch = minus_hessian_times(probes)  # Y = -H W [C, n, k]
    basis, _ = np.linalg.qr(sketch)  # Q [C, n, k]
    # One pass over the Hessian (Halko, Martinsson and Tropp, section 5.5): Q'(-H)Q = B solves
    # B (Q'W) = Q'Y, where -H restricted to range(Q) reproduces the sketch, so the probes'
    # products are not paid for twice.
    across = np.einsum("cnk,cnj->ckj", basis, probes)  # Q'W [C, k, k]
    along = np.einsum("cnk,cnj->ckj", basis, sketch)  # Q'Y
    projected = np.swapaxes(
        np.linalg.solve(np.swapaxes(across, 1, 2), np.swapaxes(along, 1, 2)), 1, 2
    )
    projected = (projected + np.swapaxes(projected, 1, 2)) / 2  # finite differences: symmetrize
    values, vectors = np.linalg.eigh(projected)  # ascending
    values, vectors = values[:, ::-1], vectors[:, :, ::-1]
    directions = np.einsum("cnk,ckj->cnj", basis, vectors)
    return Curvature(directions.astype(np.float32), values.astype(np.float32))


def low_rank_momentum(
    curvature: Curvature,
    prior_weight: float,
    temperature: np.ndarray | float,
) -> tfp.distributions.Distribution:
    """Momenta p ~ N(0, M) over a part [C, n], M = lam I + U diag(max(h, 0) / T) U' (one mass
    per chain; `temperature` a number or [C]): the target's curvature, the prior's in every
    direction the activation does not hold."""
    tfd = tfp.distributions
    lam = float(prior_weight)
    temperature = np.broadcast_to(np.asarray(temperature, np.float64), [len(curvature.values)])
    held = np.maximum(curvature.values.astype(np.float64), 0.0) / temperature[:, None]
    # M^(1/2) = sqrt(lam) (I + U diag(sqrt(1 + held / lam) - 1) U'), U orthonormal
    # (kept off 0: the solve goes through the inverse of the update, Woodbury's identity)
    update = np.sqrt(lam) * np.maximum(np.sqrt(1.0 + held / lam) - 1.0, 1e-4)
    size = curvature.directions.shape[1]
    scale = tf.linalg.LinearOperatorLowRankUpdate(
        tf.linalg.LinearOperatorScaledIdentity(size, tf.constant(np.sqrt(lam), tf.float32)),
        u=tf.constant(curvature.directions),
        diag_update=tf.constant(update, tf.float32),
        is_self_adjoint=True,
        is_positive_definite=True,
    )
    return tfd.MultivariateNormalLinearOperator(scale=scale)


def facet_momentum(
    log_density: LogDensity, state: Sequence[tf.Tensor], seed: tf.Tensor
) -> tfp.distributions.Distribution:
    """The momenta of a facet's chains (`log_density` over a FacetImage or WarpedFacet, at its T
    and prior weight, `state` its parts [C, ...]): over the coefficients the low-rank mass of
    the activation's curvature there (`activation_curvature`, `low_rank_momentum`); over a warp,
    its mean curvature along random directions (`mcmc.curvature.part_curvatures`), one
    number per chain: the warp's few numbers are all held alike."""
    from samplevis.sampling.mcmc import curvature

    found = activation_curvature(log_density.activation, state, part=0, seed=seed)
    temperature = np.asarray(log_density.temperature, np.float64)
    parts = [low_rank_momentum(found, log_density.prior_weight, temperature)]
    if len(state) > 1:
        held = curvature.part_curvatures(
            log_density,
            state,
            fold_in(seed, 1),
            floor=log_density.prior_weight,
            parts=range(1, len(state)),  # the coefficients' mass is the low-rank one above
        )
        for mass, part in zip(held[1:], state[1:]):
            per_chain = tf.reshape(mass, [-1] + [1] * (part.shape.rank - 1))
            parts.append(diagonal_momentum(per_chain * tf.ones_like(part)))
    return tfp.distributions.JointDistributionSequential(parts)
