"""Run MCMC chains in compiled blocks.

Each block is one call of a compiled loop of the kernel's steps that continues
from the previous block's state and kernel results, so a progress bar can
advance per block and Ctrl-C returns everything drawn by the finished blocks.
Block b uses the stateless seed fold_in(seed, b): the same seed and plan give
the same samples.

Per-chain scalars (acceptance, log accept ratio, step size, target log-prob,
divergence, Hamiltonian energy and any caller-supplied scalar) are traced at every burn-in step and
at every kept sample; thinned steps only enter the counts. States are kept only
for the `num_results` kept samples.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tqdm.auto import tqdm

from samplevis.runtime import signals
from samplevis.runtime.checks import is_int
from samplevis.runtime.seeds import SeedLike, as_seed, fold_in
from samplevis.runtime.tracing import expected_retracing
from samplevis.sampling.mcmc.kernels import (
    accept_prob,
    num_adaptation_steps_of,
    refreshed_results,
    step_stats,
    with_current_values,
)

# A per-chain scalar to trace: (state parts [C, ...], target log-prob [C]) -> [C].
TraceFn = Callable[[Sequence[tf.Tensor], tf.Tensor], tf.Tensor]
# Called after a block with (block index, the block's trace); True = it changed the target.
RetargetFn = Callable[[int, Mapping[str, np.ndarray]], bool]
# After the target changed: (state parts, log pi [C] and its gradient under the old target) ->
# the same under the new one.
RescaleFn = Callable[
    [Sequence[tf.Tensor], tf.Tensor, Sequence[tf.Tensor]], tuple[tf.Tensor, list[tf.Tensor]]
]

STEP_KEYS = (
    "is_accepted",
    "log_accept_ratio",
    "target_log_prob",
    "step_size",
    "divergent",
    "energy",
)
COUNT_KEYS = ("steps", "accepted", "divergent", "accept_prob")


@dataclasses.dataclass(frozen=True)
class ChainPlan:
    """How many steps to run and how to cut them into blocks.

    Attributes:
      num_results: kept samples per chain.
      num_burnin_steps: steps run (and traced) before the first kept sample.
      num_steps_between_results: thinning; each kept sample comes after this
        many discarded steps plus one.
      block_steps: MCMC steps per compiled call (one progress-bar update).
    """

    num_results: int
    num_burnin_steps: int = 0
    num_steps_between_results: int = 0
    block_steps: int = 10

    def __post_init__(self) -> None:
        for name, low in (
            ("num_results", 0),
            ("num_burnin_steps", 0),
            ("num_steps_between_results", 0),
            ("block_steps", 1),
        ):
            value = getattr(self, name)
            if not is_int(value) or value < low:
                raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")

    @property
    def steps_per_result(self) -> int:
        return self.num_steps_between_results + 1

    @property
    def total_steps(self) -> int:
        return self.num_burnin_steps + self.num_results * self.steps_per_result

    def blocks(self) -> tuple[Block, ...]:
        """The blocks in order: burn-in blocks, then sampling blocks."""
        out = []
        for start in range(0, self.num_burnin_steps, self.block_steps):
            n = min(self.block_steps, self.num_burnin_steps - start)
            out.append(Block("burnin", num_results=n, skip=0))
        per_block = max(1, self.block_steps // self.steps_per_result)
        for start in range(0, self.num_results, per_block):
            n = min(per_block, self.num_results - start)
            out.append(Block("sample", num_results=n, skip=self.num_steps_between_results))
        return tuple(out)


class Block(NamedTuple):
    """One compiled call: `num_results` traced states, each after `skip` + 1 steps."""

    phase: str  # "burnin" or "sample"
    num_results: int
    skip: int

    @property
    def steps(self) -> int:
        return self.num_results * (self.skip + 1)


def frozen(array: Any) -> np.ndarray:
    """`array` as a read-only NumPy array. A view: nothing is copied, and the array it views
    keeps its own flags."""
    view = np.asarray(array).view()
    view.setflags(write=False)
    return view


def _mapping(d: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    return types.MappingProxyType({k: frozen(v) for k, v in d.items()})


@dataclasses.dataclass(frozen=True)
class ChainRun:
    """What a run drew. C = number of chains.

    Attributes:
      plan: the plan the run follows.
      seed: int32 [2], the stateless seed of the run.
      samples: one array per state part, [n_kept, C, ...].
      trace: per kept sample, name -> [n_kept, C] (STEP_KEYS and caller scalars).
      burnin_trace: per burn-in step, name -> [n_burnin_done, C].
      counts: over every sampling-phase step (thinned ones too), COUNT_KEYS -> [C]
        (numbers of steps, accepted and divergent steps; summed acceptance probability).
      burnin_counts: the same over burn-in.
      final_state: state parts after the last finished block, each [C, ...].
      final_kernel_results: kernel results after the last finished block.
      blocks_done: number of finished blocks.
      interrupted: True when Ctrl-C stopped the run early.
    """

    plan: ChainPlan
    seed: np.ndarray
    samples: tuple[np.ndarray, ...]
    trace: Mapping[str, np.ndarray]
    burnin_trace: Mapping[str, np.ndarray]
    counts: Mapping[str, np.ndarray]
    burnin_counts: Mapping[str, np.ndarray]
    final_state: tuple[tf.Tensor, ...]
    final_kernel_results: Any
    blocks_done: int
    interrupted: bool

    @property
    def num_chains(self) -> int:
        return int(self.final_state[0].shape[0])

    @property
    def num_kept(self) -> int:
        return int(self.samples[0].shape[0])


class _TallyResults(NamedTuple):
    inner_results: Any
    steps: tf.Tensor  # int32 [C]
    accepted: tf.Tensor  # int32 [C]
    divergent: tf.Tensor  # int32 [C]
    accept_prob: tf.Tensor  # float [C], sum of min(1, exp(log accept ratio))


class Tally(tfp.mcmc.TransitionKernel):
    """Per-chain running counts of every step, thinned steps included."""

    def __init__(self, inner_kernel: tfp.mcmc.TransitionKernel):
        self._inner_kernel = inner_kernel
        self._parameters = dict(inner_kernel=inner_kernel)

    @property
    def inner_kernel(self) -> tfp.mcmc.TransitionKernel:
        return self._inner_kernel

    @property
    def parameters(self) -> dict:
        return self._parameters

    @property
    def is_calibrated(self) -> bool:
        return self._inner_kernel.is_calibrated

    def one_step(
        self, current_state: Any, previous_kernel_results: _TallyResults, seed: Any = None
    ) -> tuple[Any, _TallyResults]:
        state, inner = self._inner_kernel.one_step(
            current_state, previous_kernel_results.inner_results, seed=seed
        )
        stats = step_stats(inner, with_energy=False)
        prev = previous_kernel_results
        return state, _TallyResults(
            inner_results=inner,
            steps=prev.steps + 1,
            accepted=prev.accepted + tf.cast(stats.is_accepted, tf.int32),
            divergent=prev.divergent + tf.cast(stats.divergent, tf.int32),
            accept_prob=prev.accept_prob + accept_prob(stats.log_accept_ratio),
        )

    def bootstrap_results(self, init_state: Any) -> _TallyResults:
        inner = self._inner_kernel.bootstrap_results(init_state)
        target_log_prob = step_stats(inner, with_energy=False).target_log_prob
        zeros = tf.zeros_like(target_log_prob, dtype=tf.int32)
        return _TallyResults(inner, zeros, zeros, zeros, tf.zeros_like(target_log_prob))


def block_function(kernel: Tally, trace_fns: Mapping[str, TraceFn], jit_compile: bool) -> Callable:
    """A compiled (state, kernel results, seed, num_results, skip) -> (kept states, trace,
    results): `num_results` states, each after `skip` + 1 steps. Given as tensors, every block of
    a run shares one trace; XLA needs them as Python ints, a trace per (num_results, skip).

    One loop over the block's steps, the kernel's step traced once: `tfp.mcmc.sample_chain`
    nests a loop of steps in a loop of kept states, which took longer to trace
    (docs/benchmarks.md, "The chains' block"). Its seeds are `sample_chain`'s: the same draws.
    """

    def trace_fn(state, kernel_results):
        stats = step_stats(kernel_results)
        out = dict(stats._asdict())
        for name, fn in trace_fns.items():
            out[name] = fn(state, stats.target_log_prob)
        return out

    @tf.function(jit_compile=jit_compile, autograph=False)
    def run(state, kernel_results, seed, num_results, skip):
        steps = num_results * (skip + 1)
        # every step's scalars and state are recorded, the kept ones picked after the loop: a
        # chain's state is small beside what a step computes. The scalars at the block's start
        # give their types and shapes; the program drops their values, which nothing reads.
        first = trace_fn(state, kernel_results)
        traced = {
            k: tf.TensorArray(v.dtype, size=steps, element_shape=v.shape) for k, v in first.items()
        }
        states = [tf.TensorArray(s.dtype, size=steps, element_shape=s.shape) for s in state]

        def body(i, seed, state, results, traced, states):
            step_seed, seed = tfp.random.split_seed(seed)
            state, results = kernel.one_step(state, results, seed=step_seed)
            values = trace_fn(state, results)
            traced = {k: a.write(i, values[k]) for k, a in traced.items()}
            states = [a.write(i, s) for a, s in zip(states, state)]
            return i + 1, seed, state, results, traced, states

        start = (tf.constant(0), tfp.random.sanitize_seed(seed, salt="mcmc.sample_chain"))
        _, _, _, results, traced, states = tf.while_loop(
            lambda i, *_: i < steps,
            body,
            (*start, list(state), kernel_results, traced, states),
        )
        kept = tf.range(skip, steps, skip + 1)
        return (
            [tf.gather(a.stack(), kept) for a in states],
            {k: tf.gather(a.stack(), kept) for k, a in traced.items()},
            results,
        )

    return run


class _Recorder:
    """Per-block outputs collected during a run (the one mutable piece, local to a run)."""

    def __init__(self) -> None:
        self.samples: list[list[np.ndarray]] = []
        self.trace: list[dict[str, np.ndarray]] = []
        self.burnin_trace: list[dict[str, np.ndarray]] = []
        self.counts: list[dict[str, np.ndarray]] = []
        self.burnin_counts: list[dict[str, np.ndarray]] = []

    def add(self, block: Block, states, trace, counts) -> None:
        if block.phase == "burnin":
            self.burnin_trace.append(trace)
            self.burnin_counts.append(counts)
        else:
            self.samples.append(states)
            self.trace.append(trace)
            self.counts.append(counts)


def _concat(parts: list[dict[str, np.ndarray]], empty: dict[str, np.ndarray]) -> dict:
    if not parts:
        return empty
    return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}


def _sum(parts: list[dict[str, np.ndarray]], num_chains: int) -> dict:
    if not parts:
        parts = [{k: np.zeros([num_chains]) for k in COUNT_KEYS}]
    sums = {k: np.sum([p[k] for p in parts], axis=0, dtype=np.float64) for k in COUNT_KEYS}
    # Steps and accepted/divergent steps are counts; the acceptance probability is a sum.
    return {k: v if k == "accept_prob" else v.astype(np.int64) for k, v in sums.items()}


def _counts(before: _TallyResults, after: _TallyResults) -> dict[str, np.ndarray]:
    return {k: (getattr(after, k) - getattr(before, k)).numpy() for k in COUNT_KEYS}


def _postfix(trace: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, str]:
    out = {
        "accept": f"{trace['is_accepted'].mean():.2f}",
        "step": f"{np.median(trace['step_size'][-1]):.2e}",
    }
    for name in names:
        out[name] = f"{np.median(trace[name][-1]):.4g}"
    return out


def retargeted_results(
    kernel: Tally, state: list[tf.Tensor], kernel_results: Any, rescale: RescaleFn | None
) -> Any:
    """`kernel_results` at `state` after the target changed (a new T): the cached
    log-density and gradient belong to the old one, and are rescaled by `rescale` or, without
    it, recomputed through the new target; the tallies and step-size adaptation keep theirs.

    The chains' driver calls it by this name after each retarget, so a measurement can wrap it
    (benchmarks/phase_floors.py counts the gradient a recomputation takes)."""
    if rescale is not None:
        return with_current_values(
            kernel_results, lambda log_prob, grads: rescale(state, log_prob, grads)
        )
    return kernel_results._replace(
        inner_results=refreshed_results(kernel.inner_kernel, state, kernel_results.inner_results)
    )


def _drive(
    kernel: tfp.mcmc.TransitionKernel,
    plan: ChainPlan,
    seed: tf.Tensor,
    state: list[tf.Tensor],
    kernel_results: Any,
    trace_fns: Mapping[str, TraceFn],
    progress: bool,
    on_block: Callable[[int], None] | None,
    jit_compile: bool,
    retarget: RetargetFn | None = None,
    rescale: RescaleFn | None = None,
    desc: str = "sampling",
) -> ChainRun:
    blocks = plan.blocks()
    recorder = _Recorder()
    # Burn-in and sampling blocks share one compiled function (see block_function).
    function = block_function(kernel, trace_fns, jit_compile)
    as_input = (lambda n: n) if jit_compile else (lambda n: tf.constant(n, tf.int32))
    done = 0
    interrupted = False
    bar = tqdm(
        total=plan.total_steps,
        disable=not progress,
        unit="step",
        desc=desc,
    )
    try:
        for index in range(len(blocks)):
            block = blocks[index]
            if on_block is not None:
                on_block(index)
            # Each run traces its own function; TensorFlow counts the traces of all runs'
            # functions together and would call that retracing.
            with expected_retracing("block_function.<locals>.run"):
                states, trace, new_results = function(
                    state,
                    kernel_results,
                    fold_in(seed, index),
                    as_input(block.num_results),
                    as_input(block.skip),
                )
            # A termination signal (samplevis.runtime.signals) waits until the block is recorded whole.
            with signals.held():
                trace_np = {k: v.numpy() for k, v in trace.items()}
                counts = _counts(kernel_results, new_results)
                kept = [s.numpy() for s in states] if block.phase == "sample" else None
                state = [s[-1] for s in states]
                kernel_results = new_results
                recorder.add(block, kept, trace_np, counts)
                if retarget is not None and retarget(index, trace_np):
                    kernel_results = retargeted_results(kernel, state, kernel_results, rescale)
                done = index + 1
            bar.update(block.steps)
            bar.set_postfix(_postfix(trace_np, list(trace_fns)), refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    return _chain_run(
        plan, seed, recorder, state, kernel_results, list(trace_fns), done, interrupted
    )


def _chain_run(
    plan: ChainPlan,
    seed: tf.Tensor,
    recorder: _Recorder,
    state: list[tf.Tensor],
    kernel_results: Any,
    traced: list[str],
    done: int,
    interrupted: bool,
) -> ChainRun:
    """The ChainRun of the blocks `recorder` holds (`done` of them), ending at `state` and
    `kernel_results`; `traced`, the names of the traced scalars besides the steps' own."""
    num_chains = int(state[0].shape[0])
    empty_trace = {k: np.zeros([0, num_chains], np.float32) for k in (*STEP_KEYS, *traced)}
    empty_samples = [np.zeros([0, *s.shape], s.dtype.as_numpy_dtype) for s in state]
    samples = (
        [np.concatenate(parts, axis=0) for parts in zip(*recorder.samples)]
        if recorder.samples
        else empty_samples
    )
    return ChainRun(
        plan=plan,
        seed=frozen(seed.numpy()),
        samples=tuple(frozen(s) for s in samples),
        trace=_mapping(_concat(recorder.trace, empty_trace)),
        burnin_trace=_mapping(_concat(recorder.burnin_trace, empty_trace)),
        counts=_mapping(_sum(recorder.counts, num_chains)),
        burnin_counts=_mapping(_sum(recorder.burnin_counts, num_chains)),
        final_state=tuple(state),
        final_kernel_results=kernel_results,
        blocks_done=done,
        interrupted=interrupted,
    )


def _check_adaptation(kernel: tfp.mcmc.TransitionKernel, plan: ChainPlan) -> None:
    steps = num_adaptation_steps_of(kernel)
    if steps is not None and steps > plan.num_burnin_steps:
        raise ValueError(
            f"step-size adaptation must end within burn-in so kept samples come from a fixed "
            f"kernel; got num_adaptation_steps={steps} > num_burnin_steps={plan.num_burnin_steps}. "
            f"Lower the adaptation steps (e.g. 80 % of burn-in) or lengthen the burn-in."
        )


def run_chains(
    kernel: tfp.mcmc.TransitionKernel,
    initial_state: Sequence[tf.Tensor] | tf.Tensor,
    plan: ChainPlan,
    seed: SeedLike = None,
    *,
    trace_fns: Mapping[str, TraceFn] | None = None,
    progress: bool = True,
    on_block: Callable[[int], None] | None = None,
    jit_compile: bool = False,
    retarget: RetargetFn | None = None,
    rescale: RescaleFn | None = None,
    desc: str = "sampling",
) -> ChainRun:
    """Run chains from `initial_state` following `plan`.

    Args:
      kernel: a kernel from `make_kernel` (chains along the first axis).
      initial_state: a tensor or list of state parts, each [C, ...].
      plan: numbers of steps and block size.
      seed: see `as_seed`; the seed used is stored in the result.
      trace_fns: extra per-chain scalars to trace, name -> fn(state, target_log_prob).
      progress: show a tqdm bar advancing per block.
      on_block: called with the block index before each block (for callbacks
        and for testing interruption).
      jit_compile: compile blocks with XLA. On CPUs XLA ran the built-in model's gradient
        slower, and it cannot compile the standard transforms (`git show
        b24ce1b:docs/sampling_runs.md`, "Compiling with XLA").
      retarget: called after each block with its index and trace; it may change
        the target density (through a variable the target reads) and then
        returns True, so the kernel results at the current state follow it
        (`rescale`). Step-size adaptation keeps its state.
      rescale: how the kernel's log-density and gradient at the current state follow the
        target's change (`LogDensity.retempered`); None recomputes them through the new
        target, a pass of the network.
      desc: the progress bar's label.

    Returns:
      a ChainRun; `interrupted` is True when Ctrl-C stopped it, and then it
      holds the samples of the finished blocks.
    """
    _check_adaptation(kernel, plan)
    if isinstance(initial_state, (tf.Tensor, np.ndarray)):
        initial_state = [initial_state]
    state = [tf.convert_to_tensor(s, tf.float32) for s in initial_state]
    num_chains = state[0].shape[0]
    if any(s.shape.rank < 1 or s.shape[0] != num_chains for s in state):
        raise ValueError(
            "every state part needs the chain axis first with the same length; got shapes "
            f"{[s.shape.as_list() for s in state]}."
        )
    tally = Tally(kernel)
    results = tally.bootstrap_results(state)
    return _drive(
        tally,
        plan,
        as_seed(seed),
        state,
        results,
        dict(trace_fns or {}),
        progress,
        on_block,
        jit_compile,
        retarget,
        rescale,
        desc,
    )
