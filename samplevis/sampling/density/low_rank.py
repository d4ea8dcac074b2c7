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
from samplevis.sampling.mcmc import curvature

# directions measured (the range finder's probes): the activation's curvature over a facet's
# coefficients falls by an order of magnitude within its first few dozen directions
# (docs/sampling_designs.md, "The mass")
RANK = 32
# over a warp: its own low-rank mass, or one mean curvature per chain (`facet_momentum`)
WARP_MASSES = ("directions", "mean")
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


def activation_curvatures(
    activation: Callable[..., tf.Tensor],
    state: Sequence[tf.Tensor],
    parts: Sequence[int] = (0,),
    rank: int = RANK,
    seed: SeedLike = None,
    probe: float = PROBE,
) -> tuple[Curvature, ...]:
    """Per part in `parts`, the top-`rank` eigenpairs of minus the Hessian of `activation`
    (state parts, each [C, ...] -> [C]) over that part, the other parts held, at `state`:
    randomized range finding in one pass over `rank` Hessian-vector products, each a finite
    difference of the gradient over `probe` state units. Part 0's probes come from `seed`, part
    i's from `fold_in(seed, i)`; one compiled gradient serves every part."""
    state = [tf.convert_to_tensor(s, tf.float32) for s in state]
    parts = list(parts)

    @tf.function(autograph=False)
    def gradients(*moved: tf.Tensor) -> dict[int, tf.Tensor]:
        """The activation's gradient over each measured part (the others held), by part."""
        with tf.GradientTape() as tape:
            tape.watch([moved[i] for i in parts])
            total = tf.reduce_sum(activation(*moved))  # each chain reads its own state only
        return dict(zip(parts, tape.gradient(total, [moved[i] for i in parts])))

    at_origin = gradients(*state)
    seed = as_seed(seed)
    found = []
    for part in parts:
        shape = state[part].shape
        chains, size = int(shape[0]), int(np.prod(shape[1:]))
        origin = tf.reshape(state[part], [chains, size])
        probes = tf.random.stateless_normal(
            [chains, size, min(rank, size)],
            seed if part == 0 else fold_in(seed, part),
            dtype=tf.float64,
        ).numpy()
        sketch = []  # Y = -H W [C, n, k]
        for j in range(probes.shape[2]):
            moved = list(state)
            moved[part] = tf.reshape(
                origin + probe * tf.constant(probes[:, :, j], tf.float32), shape
            )
            slope = gradients(*moved)[part] - at_origin[part]
            sketch.append(-tf.reshape(slope, [chains, size]).numpy() / probe)
        found.append(range_found(probes, np.stack(sketch, axis=2).astype(np.float64)))
    return tuple(found)


def range_found(probes: np.ndarray, sketch: np.ndarray) -> Curvature:
    """The eigenpairs of a symmetric operator from `probes` W [C, n, k] and its products with
    them, `sketch` Y [C, n, k], in one pass (Halko, Martinsson and Tropp, section 5.5): Q'(-H)Q
    = B solves B (Q'W) = Q'Y, where -H restricted to range(Q) reproduces the sketch, so the
    probes' products are not paid for twice."""
    basis, _ = np.linalg.qr(sketch)  # Q [C, n, k]
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


def part_momentum(
    curvature: Curvature,
    shape: Sequence[int],
    prior_weight: float,
    temperature: np.ndarray | float,
) -> tfp.distributions.Distribution:
    """`low_rank_momentum` over a state part whose values per chain are shaped `shape` (the
    warp's [G, G, 2]; a flat part's [n] as it is)."""
    flat = low_rank_momentum(curvature, prior_weight, temperature)
    size = int(np.prod(shape))
    if list(shape) == [size]:
        return flat
    reshape = tfp.bijectors.Reshape(event_shape_out=list(shape), event_shape_in=[size])
    return tfp.distributions.TransformedDistribution(flat, reshape)


def facet_momentum(
    log_density: LogDensity, state: Sequence[tf.Tensor], seed: tf.Tensor, warp_mass: str = "mean"
) -> tfp.distributions.Distribution:
    """The momenta of a facet's chains (`log_density` over a FacetImage or WarpedFacet, at its T
    and prior weight, `state` its parts [C, ...]): over the coefficients the low-rank mass of
    the activation's curvature there (`activation_curvatures`, `low_rank_momentum`); over a
    warp, by `warp_mass`, the same low-rank mass in all of its directions ("directions") or its
    mean curvature along random directions, one number per chain ("mean",
    `mcmc.curvature.part_curvatures`). Of the masses measured, the photo route's warps settled
    under the first and the others' under the second (docs/sampling_designs.md, "The warp's own
    mass")."""
    if warp_mass not in WARP_MASSES:
        raise ValueError(f"warp_mass must be one of {WARP_MASSES}; got {warp_mass!r}.")
    warps = range(1, len(state))
    measured = [0, *warps] if warp_mass == "directions" else [0]
    found = activation_curvatures(log_density.activation, state, parts=measured, seed=seed)
    temperature = np.asarray(log_density.temperature, np.float64)
    parts = [
        part_momentum(held, state[i].shape[1:], log_density.prior_weight, temperature)
        for held, i in zip(found, measured)
    ]
    if warp_mass == "mean" and len(state) > 1:
        held = curvature.part_curvatures(
            log_density, state, fold_in(seed, 1), floor=log_density.prior_weight, parts=warps
        )
        for mass, part in zip(held[1:], state[1:]):
            per_chain = tf.reshape(mass, [-1] + [1] * (part.shape.rank - 1))
            parts.append(diagonal_momentum(per_chain * tf.ones_like(part)))
    return tfp.distributions.JointDistributionSequential(parts)
