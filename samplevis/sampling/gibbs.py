"""A kernel that moves a two-part state in turn: the first part every step, the second every
K-th step, each with its own kernel and step size.

The deformation facet's warp is much stiffer than the coarse coefficients, so one HMC over both
parts either stalls the coefficients at the warp's step size or lets the warp stick
(docs/sampling_designs.md, designs d1 and d2). Moving each part with the other held fixed keeps
the target (each move is a Metropolis-corrected kernel of a conditional), and moving the warp
only every K-th step keeps its cost to about 1/K of the coefficients'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import tensorflow as tf
import tensorflow_probability as tfp

from samplevis.sampling.kernels import refreshed_results

# (conditional target of one part: its value [C, ...] -> log pi [C], part index) -> kernel
BlockKernelFn = Callable[[Callable[[tf.Tensor], tf.Tensor], int], tfp.mcmc.TransitionKernel]


class GibbsResults(NamedTuple):
    """`inner_results` are the first part's (what step statistics and traces read), as for
    any wrapping kernel; `second_results` the second part's; `step` the steps taken."""

    inner_results: Any
    second_results: Any
    step: tf.Tensor  # int32 scalar


def _unreachable(_: tf.Tensor) -> tf.Tensor:
    raise AssertionError("a kernel built for inspection is never stepped")


def _restated(kernel: tfp.mcmc.TransitionKernel, state: list, results: Any) -> Any:
    """`results` of a finished step with the target's cached value and gradient recomputed at
    `state` (the other part moved since), its acceptance, energy and step size kept."""
    adapting = isinstance(kernel, tfp.mcmc.DualAveragingStepSizeAdaptation)
    sampler = kernel.inner_kernel if adapting else kernel
    old = results.inner_results if adapting else results
    fresh = sampler.bootstrap_results(state).accepted_results
    fresh = fresh._replace(step_size=old.accepted_results.step_size)
    new = old._replace(accepted_results=fresh)
    return results._replace(inner_results=new) if adapting else new


class AlternatingKernel(tfp.mcmc.TransitionKernel):
    """Moves state [first, second]: `make_block`'s kernel of the first part (the second held) at
    every step, then at every `every`-th step its kernel of the second part (the first held).

    The blocks must be Metropolis-corrected HMC (`make_kernel`'s "hmc" or "mala", optionally with
    step-size adaptation). After the second part moves, the first block's cached target value is
    recomputed, so a step that moves both costs two more gradient evaluations. Step statistics
    are the first block's; on a step that moves both, the energy they report pairs its momentum
    with the target's value after the second part moved.
    """

    def __init__(
        self,
        target_log_prob_fn: Callable[..., tf.Tensor],
        make_block: BlockKernelFn,
        every: int,
    ):
        if int(every) < 1:
            raise ValueError(f"every must be an int >= 1; got {every!r}.")
        self._target = target_log_prob_fn
        self._make_block = make_block
        self._every = int(every)
        self._parameters = dict(
            target_log_prob_fn=target_log_prob_fn, make_block=make_block, every=int(every)
        )

    @property
    def parameters(self) -> dict:
        return self._parameters

    @property
    def is_calibrated(self) -> bool:
        return True

    @property
    def inner_kernel(self) -> tfp.mcmc.TransitionKernel:
        """The first part's kernel, for reading its settings (never stepped)."""
        return self._make_block(_unreachable, 0)

    def _first(self, second: tf.Tensor) -> tfp.mcmc.TransitionKernel:
        return self._make_block(lambda x: self._target(x, second), 0)

    def _second(self, first: tf.Tensor) -> tfp.mcmc.TransitionKernel:
        return self._make_block(lambda y: self._target(first, y), 1)

    def one_step(
        self,
        current_state: Sequence[tf.Tensor],
        previous_kernel_results: GibbsResults,
        seed: tf.Tensor | None = None,
    ) -> tuple[list[tf.Tensor], GibbsResults]:
        first, second = current_state
        seeds = tf.unstack(tfp.random.split_seed(seed, 2))
        [first], first_results = self._first(second).one_step(
            [first], previous_kernel_results.inner_results, seed=seeds[0]
        )
        step = previous_kernel_results.step + 1
        # Each block's target sees the other part as a constant: a gradient through the other
        # block's leapfrog loop is neither wanted nor supported inside TensorFlow's nested loops.
        first = tf.stop_gradient(first)

        def move_second():
            kernel = self._second(first)
            # the first part moved since the second's last step
            results = refreshed_results(kernel, [second], previous_kernel_results.second_results)
            [moved], results = kernel.one_step([second], results, seed=seeds[1])
            moved = tf.stop_gradient(moved)
            return moved, _restated(self._first(moved), [first], first_results), results

        def keep_second():
            return second, first_results, previous_kernel_results.second_results

        second, first_results, second_results = tf.cond(
            tf.equal(step % self._every, 0), move_second, keep_second
        )
        return [first, second], GibbsResults(first_results, second_results, step)

    def bootstrap_results(self, init_state: Sequence[tf.Tensor]) -> GibbsResults:
        first, second = init_state
        return GibbsResults(
            self._first(second).bootstrap_results([first]),
            self._second(first).bootstrap_results([second]),
            tf.zeros([], tf.int32),
        )

    def refreshed_results(self, state: Sequence[tf.Tensor], results: GibbsResults) -> GibbsResults:
        """`results` with both blocks' cached target values recomputed at `state` (the target
        changed), their step-size adaptation kept (`kernels.refreshed_results` calls it)."""
        first, second = state
        return GibbsResults(
            refreshed_results(self._first(second), [first], results.inner_results),
            refreshed_results(self._second(first), [second], results.second_results),
            results.step,
        )
