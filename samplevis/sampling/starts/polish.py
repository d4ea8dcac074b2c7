"""The chains' starts climbed to an optimum in the chains' own coordinates.

A facet's optimum is the end of `render_vis`'s climb: over the whole image, through a fresh
random transform at every step. The chains move only the coarse coefficients and a warp, and
see the image through the target's fixed views, so along their coordinates the optimum still
rises: HMC started there climbs before it samples, and the share of the start's gain it keeps
comes out above 1 whatever T is (docs/sampling_designs.md, "The prior and the starts' polish"). So each
start first climbs the chain's own activation, by Adam over the chain's state, until it stops
rising: until a block of steps raises no chain by more than `RISE` of its activation.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from samplevis.sampling.density.log_density import LogDensity

# Adam's learning rate over the chain's state (coefficients of prior scale about 1, a warp in
# units of 16 px), and the steps of one compiled call, after which the rise is checked.
LEARNING_RATE = 0.01
BLOCK_STEPS = 16
# A start has stopped rising when a block raised it by less than this share of its activation:
# far below what the chains give up (1 - target_ratio of the gain).
RISE = 0.005


@dataclasses.dataclass(frozen=True)
class Polished:
    """Where the climb in the chains' coordinates ended.

    Attributes:
      state: the chains' state parts, each [C, ...], at each chain's best point.
      activations: float [C], the activation there (the target's views).
      first: float [C], the activation where the climb began.
      steps: optimizer steps taken.
      last_rise: float [C], the last block's rise as a share of each chain's activation.
      interrupted: Ctrl-C stopped the climb (the best points so far are kept).
    """

    state: tuple[np.ndarray, ...]
    activations: np.ndarray
    first: np.ndarray
    steps: int
    last_rise: np.ndarray
    interrupted: bool = False

    @property
    def settled(self) -> np.ndarray:
        """bool [C]: chains whose last block rose by less than RISE of their activation."""
        return self.last_rise < RISE


def polish(
    log_density: LogDensity,
    max_steps: int,
    learning_rate: float | None = None,
    label: str | None = None,
) -> Polished:
    """Climb each chain's activation (`log_density.activation`, [C]) from its state's `init`
    by Adam (at `learning_rate`, None: LEARNING_RATE) over the chain's own state, in compiled
    blocks of BLOCK_STEPS, until no chain rose by RISE of its activation in a block, or
    `max_steps`. Each chain keeps the best point it reached. `label` shows a progress bar."""
    import keras
    from tqdm.auto import tqdm

    image_param = log_density.image_param
    begun = [tf.convert_to_tensor(s, tf.float32) for s in image_param.init(None)]
    state = [tf.Variable(s) for s in begun]
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate or LEARNING_RATE)
    optimizer.build(state)

    def one_step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            value = log_density.activation(*state)
            loss = -tf.reduce_sum(value)  # each chain's value depends on its own state only
        optimizer.apply_gradients(zip(tape.gradient(loss, state), state))
        return value

    @tf.function(autograph=False)
    def block(count: tf.Tensor) -> tf.Tensor:
        """`count` steps, then the activation [C] where they ended: compiled, where an eager
        pass of the network between blocks would run it layer by layer."""

        def body(i: tf.Tensor) -> tuple[tf.Tensor]:
            one_step()
            return (i + 1,)

        (done,) = tf.while_loop(lambda i: i < count, body, (tf.constant(0),))
        with tf.control_dependencies([done]):
            return log_density.activation(*(s.read_value() for s in state))

    first = block(tf.constant(0)).numpy().astype(np.float64)
    best = first.copy()
    best_state = [s.numpy() for s in begun]
    scale = np.maximum(np.abs(first), 1e-12)
    last_rise = np.full_like(first, np.inf)
    steps, interrupted = 0, False
    bar = tqdm(total=max_steps, disable=label is None, desc=label, unit="step")
    try:
        while steps < max_steps:
            before = best.copy()
            count = min(BLOCK_STEPS, max_steps - steps)
            end = block(tf.constant(count)).numpy().astype(np.float64)
            steps += count
            current = [s.numpy() for s in state]
            higher = end > best
            best = np.where(higher, end, best)
            for part, now in zip(best_state, current):
                part[higher] = now[higher]
            last_rise = (best - before) / scale
            bar.update(count)
            if np.all(last_rise < RISE):
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    kept = tuple(np.asarray(p, np.float32) for p in best_state)
    # each chain's best point is where a block ended (or the start): `best` is its activation
    return Polished(kept, best, first, steps, last_rise, interrupted)
