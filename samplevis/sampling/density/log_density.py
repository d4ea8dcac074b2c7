"""The target density of image sampling, on a parameterization's state.

    log pi(z) = A(image(z)) / T - lam * |z - c|^2 / 2

z is the state of an image parameterization (for `param.image` the spectral
coefficients: a standard normal z is 1/f coloured noise with a pixel standard
deviation of about 0.22, close to photographs). c is 0, or in `render` each
chain's facet (its start): a prior centred at 0 draws the coefficients the
unit ignores towards the prior's own images, away from the facet, and chains
drift for hundreds of steps without settling (docs/sampling_designs.md, "The
prior and the starts' polish"); centred at the facet it asks what the unit tolerates around
it. lam sets the prior's scale:
`matched_prior_weight` gives it the mean square of the optimized starts, whose
contrast is often lower than a photograph's (around a photo's facet, `render` takes a quarter
of that spread: `temperature.PHOTO_PRIOR_SPREAD`). A is the objective of each
chain's image averaged over K transforms whose random parameters are drawn
once: the density is a deterministic function of z, which the Metropolis
correction requires.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from samplevis.models import Model
from samplevis.optvis.evaluation import objective_of
from samplevis.optvis.objectives import Objective
from samplevis.optvis.param.base import ImageParam
from samplevis.runtime.checks import is_int
from samplevis.runtime.seeds import fold_in
from samplevis.runtime.sums import fan_out, ordered_sum

Transform = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


@dataclasses.dataclass(frozen=True, eq=False)
class LogDensity:
    """log pi(z) over the state of `image_param` (chains = the param's batch).

    Attributes:
      model: the network.
      objective: returns one value per image.
      image_param: an ImageParam; its batch is the number of chains C.
      temperature: T > 0, in objective units: a number, or one per chain [C] (a tensor or
        variable, e.g. adapted during burn-in by `temperature.TemperatureAdaptation`).
      prior_weight: lam >= 0, the precision of the Gaussian prior on z.
      transforms: K transforms t(images, seed), each applied to the whole
        chain batch with its fixed seed; empty = the images as they are.
      seeds: K fixed seeds, int32 [2] each.
      prior_centre: where the Gaussian prior is centred, parts shaped as the state ([C, ...]
        each): each chain's facet, its start (`render`'s facet prior); None centres it at 0.
    """

    model: Model
    objective: Objective
    image_param: ImageParam
    temperature: Any  # a float, or a float tensor [C]
    prior_weight: float
    transforms: tuple[Transform, ...] = ()
    seeds: tuple[tf.Tensor, ...] = ()
    prior_centre: tuple[tf.Tensor, ...] | None = None

    def __post_init__(self) -> None:
        if not np.all(np.asarray(self.temperature) > 0):
            raise ValueError(
                f"temperature must be > 0 (objective units); got {self.temperature!r}."
            )
        if not self.prior_weight >= 0:
            raise ValueError(f"prior_weight must be >= 0; got {self.prior_weight!r}.")
        if len(self.transforms) != len(self.seeds):
            raise ValueError(
                f"need one fixed seed per transform; got {len(self.transforms)} transforms "
                f"and {len(self.seeds)} seeds."
            )

    def activation(self, *state: tf.Tensor) -> tf.Tensor:
        """The objective averaged over the fixed transforms, [C]."""
        images = self.image_param.to_image(tuple(state))
        if not self.transforms:
            return objective_of(self.model, self.objective, images, images)
        # One network pass per view, not one pass over all K * C images: on 2 CPU cores
        # the K passes run side by side. At K = 2 a leapfrog step for 4 chains took 70-72
        # ms against 80-84 (benchmarks/sampling_speed.py).
        views = fan_out(images, len(self.transforms))
        values = [
            objective_of(self.model, self.objective, view, t(view, s))
            for view, t, s in zip(views, self.transforms, self.seeds)
        ]
        return ordered_sum(values) / float(len(values))

    def prior_log_prob(self, *state: tf.Tensor) -> tf.Tensor:
        """-lam |z - centre|^2 / 2 per chain, [C] (the Gaussian prior up to a constant)."""
        if self.prior_centre is not None:
            state = tuple(s - c for s, c in zip(state, self.prior_centre))
        return -0.5 * self.prior_weight * squared_norm(state)

    def centred_at_start(self) -> LogDensity:
        """This density with its prior centred at each chain's start (`image_param.init`)."""
        start = tuple(tf.constant(s, tf.float32) for s in self.image_param.init(None))
        return dataclasses.replace(self, prior_centre=start)

    def __call__(self, *state: tf.Tensor) -> tf.Tensor:
        """log pi(z) per chain, [C]; deterministic in z."""
        return self.activation(*state) / self.temperature + self.prior_log_prob(*state)

    def retempered(
        self,
        state: Sequence[tf.Tensor],
        log_prob: tf.Tensor,
        grads: Sequence[tf.Tensor],
        old_temperature: Any,
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """log pi [C] and its gradient (parts [C, ...]) at `state` under this density, from
        `log_prob` and `grads` under the same density at `old_temperature` (a number or [C]):
        A / T scales by T_old / T, the prior stays, so the network is not run again."""
        ratio = tf.cast(old_temperature, tf.float32) / tf.cast(self.temperature, tf.float32)
        ratio = ratio * tf.ones_like(log_prob)
        state = [tf.convert_to_tensor(s) for s in state]
        with tf.GradientTape() as tape:
            tape.watch(state)
            prior = self.prior_log_prob(*state)
        prior_grads = tape.gradient(prior, state, unconnected_gradients="zero")
        rescaled = [
            (g - p) * tf.reshape(ratio, [-1] + [1] * (g.shape.rank - 1)) + p
            for g, p in zip(grads, prior_grads)
        ]
        return (log_prob - prior) * ratio + prior, rescaled

    def activation_from_log_prob(
        self, state: Sequence[tf.Tensor], target_log_prob: tf.Tensor
    ) -> tf.Tensor:
        """Recover A [C] from log pi without another pass through the network."""
        return self.temperature * (target_log_prob - self.prior_log_prob(*state))


def squared_norm(state: Sequence[tf.Tensor]) -> tf.Tensor:
    """Sum of squares of all state parts per chain, [C]."""
    # tf.square, not s * s: the product's gradient reaches s twice, and with the image's
    # gradient that makes a three-way sum (see samplevis.runtime.sums).
    return ordered_sum(
        [tf.reduce_sum(tf.reshape(tf.square(s), [tf.shape(s)[0], -1]), axis=1) for s in state]
    )


def matched_prior_weight(state: Sequence[tf.Tensor]) -> float:
    """lam whose prior N(0, I / lam) has the mean square of `state` (parts [C, ...]):
    d / mean over chains of |z|^2, with d the size of one chain's state; 1 for a zero state."""
    d = sum(int(tf.size(s[0])) for s in state)
    mean_square = float(tf.reduce_mean(squared_norm(state))) / d
    return 1.0 / mean_square if mean_square > 0 else 1.0


def fixed_transform_seeds(seed: tf.Tensor, count: int) -> tuple[tf.Tensor, ...]:
    """`count` fixed transform seeds derived from one stateless seed."""
    return tuple(fold_in(seed, k) for k in range(count))


def make_log_density(
    model: Model,
    objective: Objective,
    image_param: ImageParam,
    temperature: float,
    prior_weight: float = 1.0,
    transforms: Sequence[Transform] = (),
    num_transforms: int = 1,
    seed: tf.Tensor | None = None,
) -> LogDensity:
    """An `LogDensity` averaging over `num_transforms` draws of `compose(transforms)`.

    Args:
      transforms: transforms composed into one; () means no transform (then
        num_transforms is ignored and the image is seen as it is).
      num_transforms: K, how many fixed draws of the composed transform.
      seed: stateless seed int32 [2] the K draws derive from.
    """
    if not transforms:
        return LogDensity(model, objective, image_param, float(temperature), float(prior_weight))
    if not is_int(num_transforms) or num_transforms < 1:
        raise ValueError(
            f"num_transforms must be an int >= 1 when transforms are given; got {num_transforms!r}."
        )
    from samplevis.optvis.transform import compose

    composed = compose(tuple(transforms))
    seed = tf.constant([0, 0], tf.int32) if seed is None else seed
    return LogDensity(
        model,
        objective,
        image_param,
        float(temperature),
        float(prior_weight),
        transforms=(composed,) * num_transforms,
        seeds=fixed_transform_seeds(seed, num_transforms),
    )
