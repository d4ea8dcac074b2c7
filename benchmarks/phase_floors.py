"""Where the README's first command spends its time, each phase against the bare loop's floor.

    python benchmarks/phase_floors.py                  # the README's command, seed 0; 3-5 min
    python benchmarks/phase_floors.py --seed 1
    python benchmarks/phase_floors.py --profile "facet search"   # and that phase's profile
    python benchmarks/phase_floors.py --quick          # smoke run: tiny settings, an early layer

It runs the `samplevis.render` call of `samplevis sample --objective
block6a_expand_activation:301 --num-results 10 --out out/ --seed S` in this process, with the
options the command line resolves (its own parser, as `samplevis.cli.sample.run` reads it), and
reads each phase's wall seconds from `result.seconds`. Each phase is priced by its image-steps:
images through the network × (1 for a forward and backward pass, 0.5 for a forward pass), every
image at the run's own size (`--size`, 128 px: the built-in network takes any size). Its floor
is image-steps / the bare loop's rate (`render_speed.bare_call`: one compiled `tf.range` loop of
forward pass, input gradient and Adam on a variable of that size, the network truncated at the
objective's layer, batches of the chains' count, as every phase passes them), timed before and
after the run; the table gives wall / floor per phase and for the whole call.

How each phase's image-steps are counted (C chains, K = max(1, num_transforms) views: a pass of
the target is K passes of C images):

* measured by wrapping Python functions that run compiled programs, called from Python and never
  inside a `tf.function` (each call is one execution; every wrapper is removed afterwards and
  changes nothing it wraps), charged to the phase `render`'s clock is in:
  `Renderer.run` (render_vis's optimization of the starts, a deflation round's climb: the
  steps it ran × its batch), `Renderer.climb` (the search's polish: the steps it took ×
  batch), `designs.answers` (the probe round's gratings and archive: 0.5 per image padded to
  the batch; the gradient it takes stops one convolution above the objective's layer),
  `search.features` (pooled features: 0.5 per image), `polish.polish` (its steps × C × K),
  `low_rank.activation_curvatures` (1 + the rank of each part it measures: compiled gradients
  × C × K),
  `facet_mass.CompiledLogProb` (1 × C × K a value: it runs the gradient's program;
  `facet_mass.log_prob_and_gradient`, 1 × C × K);
* eager passes: every call of `LogDensity.activation` that runs eagerly (0.5 × C × K: the
  starts' and the optima's measures, the prior floor's images), plus the backward half
  (0.5 × C × K) of each eager gradient: `chains.flat` (dead and saturated starts),
  `curvature.part_curvatures` (1 + parts measured × probes gradients), and
  `chain.retargeted_results` where it recomputes the kernel's results after T changes (none
  where it rescales them);
* derived from options and the run's draws: burn-in and sampling, the steps the run kept
  (`burnin_activations` rows; kept samples × (num_steps_between_results + 1)) × leapfrog steps
  × C × K (HMC reuses the last step's gradient, so a step is one gradient per leapfrog step);
  the backward half of the kernel's first results, an eager gradient (charged to the
  temperature phase, where the kernel is built).

Not counted: the parameterization and the transforms (what the floor leaves out; a
transformed view is a few px larger or smaller than the image), work outside `render` (loading
the model, writing the files).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import glob
import io
import math
import os
import pstats
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from common import QUICK_SIZE, command_line, format_table, interleaved_medians, machine

README = ["--objective", "block6a_expand_activation:301", "--num-results", "10", "--out", "out/"]
# --quick: a unit of an early layer (the network runs up to it only), 64 px images, 2 chains, a
# few steps of everything, one search round, no warp and a burn-in too short for the curvature
# mass: what each phase compiles is most of its time
QUICK = [
    *("--objective", "block3a_expand_activation:20", "--num-results", "2", "--out", "out/"),
    *("--size", str(QUICK_SIZE)),
    *("--num-chains", "2", "--optimize-steps", "8", "--polish-steps", "16"),
    *("--search-rounds", "1", "--no-warp", "--num-burnin-steps", "10"),
    *("--num-leapfrog-steps", "1"),
]
# the bare loop's steps per timed call and alternating repeats, full and --quick
BARE_STEPS, BARE_REPEATS = 24, 3
QUICK_BARE_STEPS, QUICK_BARE_REPEATS = 2, 1
PHASES = ("starts", "facet search", "polish", "temperature", "burn-in", "sampling", "log-masses")
BEFORE = "before the phases"  # render's checks of its inputs, before its clock starts
PROFILE_LINES = 40
# ops whose time is that of the ops inside them (a compiled function's call, its loops and
# branches): left out of the op times, which would count their ops twice
CONTAINERS = {"PartitionedCall", "StatefulPartitionedCall", "While", "StatelessWhile", "If"}
CONTAINERS |= {"StatelessIf", "Case", "StatelessCase"}


@dataclass
class Tally:
    """Image-steps per phase of one run, charged to the phase `render`'s clock is in."""

    views: int
    phase: str = BEFORE
    image_steps: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, image_steps: float) -> None:
        self.image_steps[self.phase] = self.image_steps.get(self.phase, 0.0) + image_steps
        key = f"{self.phase}: {what}"
        self.calls[key] = self.calls.get(key, 0) + 1


@contextlib.contextmanager
def patched(owner: object, name: str, wrap: Callable[[Callable], Callable]) -> Iterator[None]:
    """`owner.name` replaced by `wrap(original)` within the block."""
    original = getattr(owner, name)
    setattr(owner, name, functools.wraps(original)(wrap(original)))
    try:
        yield
    finally:
        setattr(owner, name, original)


class PhaseProfile:
    """cProfile and TensorFlow's profiler, on while the run's clock is in `phase` (None: never)."""

    def __init__(self, phase: str | None) -> None:
        self.phase = phase
        self.python = cProfile.Profile()
        self.folder = tempfile.mkdtemp(prefix="phase_floors_") if phase else ""
        self.running = False

    def start(self) -> None:
        import tensorflow as tf

        tf.profiler.experimental.start(self.folder)
        self.python.enable()
        self.running = True

    def stop(self) -> None:
        import tensorflow as tf

        if self.running:
            self.python.disable()
            tf.profiler.experimental.stop()
            self.running = False

    def report(self) -> str:
        """The Python profile's top lines by cumulative and own time, then the ops' time."""
        out = io.StringIO()
        stats = pstats.Stats(self.python, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
        stats.sort_stats("tottime").print_stats(PROFILE_LINES // 2)
        ops = op_times(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        return out.getvalue() + ops


def op_times(folder: str, lines: int = PROFILE_LINES // 2) -> str:
    """The TensorFlow profile in `folder`: seconds per op type over every CPU thread (the
    threads overlap, so the sum exceeds the wall time), the largest first."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    totals: dict[str, float] = {}
    for path in glob.glob(os.path.join(folder, "plugins", "profile", "*", "*.xplane.pb")):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
        for plane in space.planes:
            if plane.name != "/host:CPU":
                continue
            for line in plane.lines:
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if ":" not in name or "::" in name:  # an op is "name:Type"
                        continue
                    kind = name.rsplit(":", 1)[1].strip()
                    if kind.startswith("__") or kind in CONTAINERS:
                        continue
                    totals[kind] = totals.get(kind, 0.0) + event.duration_ps * 1e-12
    if not totals:
        return "no TensorFlow ops in the profile\n"
    whole = sum(totals.values())
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:lines]
    rows = [[kind, f"{s:.2f}", f"{100 * s / whole:.1f}"] for kind, s in ranked]
    return format_table(["op type", "thread s", "%"], rows) + "\n"


Patch = tuple[object, str, Callable[[Callable], Callable]]  # (owner, name, wrap)


def chain_images(state, views: int) -> int:
    """Images through the network in one pass of the target at `state`: C chains x K views."""
    return int(state[0].shape[0]) * views


def clock_patches(tally: Tally, profile: PhaseProfile) -> list[Patch]:
    """The clock followed: each phase `render` starts is the one charged, and the phase
    `profile` names is profiled."""
    from samplevis.sampling.phases import carried

    def clock(start):
        def wrapped(self, phase):
            if tally.phase == profile.phase:
                profile.stop()
            tally.phase = phase
            if phase == profile.phase:
                profile.start()
            return start(self, phase)

        return wrapped

    return [(carried.Clock, "start", clock)]


def climb_patches(tally: Tally) -> list[Patch]:
    """The optimizations counted by their steps: render_vis's (`Renderer.run`), the search's
    polish (`Renderer.climb`) and the facets' polish (`polish.polish`)."""
    from samplevis.optvis.renderer import Renderer, Rendering
    from samplevis.sampling.starts import polish

    def run(original):
        def wrapped(self, thresholds=(512,), *args, **kwargs):
            out = original(self, thresholds, *args, **kwargs)
            last = thresholds if isinstance(thresholds, int) else thresholds[-1]
            steps = out.steps if isinstance(out, Rendering) else last
            tally.add("Renderer.run", steps * self.image_param.batch)
            return out

        return wrapped

    def climb(original):
        def wrapped(self, *args, **kwargs):
            state, done = original(self, *args, **kwargs)
            tally.add("Renderer.climb", done * self.image_param.batch)
            return state, done

        return wrapped

    def polished(original):
        def wrapped(log_density, *args, **kwargs):
            out = original(log_density, *args, **kwargs)
            tally.add("polish steps", out.steps * chain_images(out.state, tally.views))
            return out

        return wrapped

    return [(Renderer, "run", run), (Renderer, "climb", climb), (polish, "polish", polished)]


def search_patches(tally: Tally) -> list[Patch]:
    """The facet search's forward passes: the probe round's answers and the pooled features."""
    from samplevis.sampling.starts import designs, search

    def answers(original):
        def wrapped(answer, images, batch):
            tally.add("answers", 0.5 * batch * math.ceil(len(images) / batch))
            return original(answer, images, batch)

        return wrapped

    def features(original):
        def wrapped(model, images, layer):
            tally.add("features", 0.5 * len(images))
            return original(model, images, layer)

        return wrapped

    return [(designs, "answers", answers), (search, "features", features)]


def eager_patches(tally: Tally) -> list[Patch]:
    """The eager passes: every eager `LogDensity.activation`, and the backward half of each
    eager gradient (dead and saturated starts, part curvatures, a kernel's results refreshed)."""
    import tensorflow as tf

    from samplevis.sampling.density.log_density import LogDensity
    from samplevis.sampling.mcmc import chain, curvature
    from samplevis.sampling.starts import chains

    def eager_activation(original):
        def wrapped(self, *state):
            if tf.executing_eagerly():
                tally.add("eager activation", 0.5 * chain_images(state, tally.views))
            return original(self, *state)

        return wrapped

    def backward_half(what: str, gradients: Callable[[tuple, dict], int]):
        def wrap(original):
            def wrapped(*args, **kwargs):
                state = args[1] if len(args) > 1 else kwargs["state"]
                images = chain_images(state, tally.views)
                tally.add(what, 0.5 * gradients(args, kwargs) * images)
                return original(*args, **kwargs)

            return wrapped

        return wrap

    def part_probes(args: tuple, kwargs: dict) -> int:
        state = args[1] if len(args) > 1 else kwargs["state"]
        parts = kwargs.get("parts")
        return 1 + (len(state) if parts is None else len(parts)) * kwargs.get("num_probes", 2)

    return [
        (LogDensity, "activation", eager_activation),
        (chains, "flat", backward_half("flat", lambda a, k: 1)),
        (curvature, "part_curvatures", backward_half("part curvatures", part_probes)),
        # a refresh that rescales (the 4th argument given) runs no network
        (chain, "retargeted_results", backward_half("refreshed", lambda a, k: int(a[3] is None))),
    ]


def mass_patches(tally: Tally) -> list[Patch]:
    """The log-masses' passes: the curvature's probes, the compiled log pi and the gradients."""
    from samplevis.sampling.density import facet_mass, low_rank

    def curvature_probes(original):
        def wrapped(activation, state, *args, **kwargs):
            out = original(activation, state, *args, **kwargs)
            probes = sum(found.values.shape[1] for found in out)
            tally.add("curvature", (probes + 1) * chain_images(state, tally.views))
            return out

        return wrapped

    def compiled_value(original):
        def wrapped(self, *state):
            # the gradient's program
            tally.add("compiled log pi", chain_images(state, tally.views))
            return original(self, *state)

        return wrapped

    def mass_gradient(original):
        def wrapped(log_prob, state):
            if isinstance(log_prob, facet_mass.CompiledLogProb):
                tally.add("compiled gradient", chain_images(state, tally.views))
            else:  # eager: its forward pass is counted as an eager activation
                tally.add("eager gradient", 0.5 * chain_images(state, tally.views))
            return original(log_prob, state)

        return wrapped

    return [
        (low_rank, "activation_curvatures", curvature_probes),
        (facet_mass.CompiledLogProb, "__call__", compiled_value),
        (facet_mass, "log_prob_and_gradient", mass_gradient),
    ]


def counting(tally: Tally, profile: PhaseProfile) -> contextlib.ExitStack:
    """The wrappers that count image-steps (see the module's docstring) and follow the clock,
    profiling the phase `profile` names."""
    patches = [
        *clock_patches(tally, profile),
        *climb_patches(tally),
        *search_patches(tally),
        *eager_patches(tally),
        *mass_patches(tally),
    ]
    stack = contextlib.ExitStack()
    for owner, name, wrap in patches:
        stack.enter_context(patched(owner, name, wrap))
    return stack


def chain_steps(result, views: int) -> dict[str, float]:
    """Image-steps of burn-in and sampling from the run's draws (see the module's docstring) and
    its resolved options, and the backward half of the kernel's first results (in the
    temperature phase)."""
    opts = result.options
    chains = int(result.init_images.shape[0])
    pass_ = opts.num_leapfrog_steps * chains * views
    kept = int(result.images.shape[0])
    return {
        "burn-in": int(result.burnin_activations.shape[0]) * pass_,
        "sampling": kept * (opts.num_steps_between_results + 1) * pass_,
        "temperature": 0.5 * chains * views,  # its forward pass is an eager activation
    }


def bare_rate(objective_layer: str, batch: int, size: int, steps: int) -> Callable[[int], float]:
    """A function of `repeats`: image-steps per second of the bare loop
    (`render_speed.bare_call`, compiled once here) through the built-in model truncated at
    `objective_layer`, `batch` images of `size` px, the median of `repeats` calls."""
    import keras
    from render_speed import bare_call

    from samplevis import zoo

    whole = zoo.efficientnet_lite0().keras_model
    truncated = keras.Model(whole.input, whole.get_layer(objective_layer).output)
    call = bare_call(truncated, batch, (size, size), steps)

    def rate(repeats: int) -> float:
        return batch * steps / interleaved_medians({"bare": call}, repeats)["bare"]

    return rate


@dataclass(frozen=True)
class Measured:
    seconds: Mapping[str, float]  # wall seconds per phase, and BEFORE
    image_steps: Mapping[str, float]
    whole: float  # wall seconds of the render call
    calls: Mapping[str, int]
    profile: str  # the profiled phase's top lines, or ""


def command(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    """`samplevis sample ARGV` parsed by the command line's own parser, and the options it gives
    `render` (as `samplevis.cli.sample.run` reads them)."""
    from samplevis.cli.command_line import build_parser
    from samplevis.cli.sample import HMC_OPTS

    args = build_parser().parse_args(["sample", *argv])
    given = {
        dest[len(HMC_OPTS) :]: value
        for dest, value in vars(args).items()
        if dest.startswith(HMC_OPTS) and value is not None
    }
    return args, given


def run_command(args: argparse.Namespace, given: dict, profile_phase: str | None) -> Measured:
    """The command's render call as `samplevis sample` makes it, measured; the phase
    `profile_phase` profiled."""
    import samplevis
    from samplevis.cli.shell import load_model, objective
    from samplevis.models import ResizeWarning
    from samplevis.optvis import param

    chains, views = given["num_chains"], max(1, given["num_transforms"])
    model = load_model(args.spec)
    tally, profile = Tally(views), PhaseProfile(profile_phase)
    with warnings.catch_warnings(), counting(tally, profile):
        warnings.simplefilter("ignore", ResizeWarning)  # the command says it once
        start = time.perf_counter()
        result = samplevis.render(
            model,
            objective(args.objective),
            hmc_opts=given,
            seed=args.seed,
            progress=False,
            param_f=lambda: param.image(args.size, batch=chains),
        )
        whole = time.perf_counter() - start
        profile.stop()
    steps = dict(tally.image_steps)
    for phase, n in chain_steps(result, views).items():
        steps[phase] = steps.get(phase, 0.0) + n
    seconds = dict(result.seconds)
    seconds[BEFORE] = whole - sum(seconds.values())
    text = profile.report() if profile_phase is not None else ""
    return Measured(seconds, steps, whole, tally.calls, text)


def table(measured: Measured, rate: float) -> str:
    order = [BEFORE, *PHASES]
    phases = [p for p in order if p in measured.seconds or p in measured.image_steps]
    rows = []
    for phase in [*phases, "render call"]:
        if phase == "render call":
            steps, wall = sum(measured.image_steps.values()), measured.whole
        else:
            steps, wall = measured.image_steps.get(phase, 0.0), measured.seconds.get(phase, 0.0)
        floor = steps / rate
        ratio = f"{wall / floor:.1f}" if floor > 0 else "-"
        rows.append([phase, f"{steps:.0f}", f"{floor:.1f}", f"{wall:.1f}", ratio])
    return format_table(["phase", "image-steps", "floor s", "wall s", "wall/floor"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="the command's --seed")
    parser.add_argument(
        "--profile",
        metavar="PHASE",
        choices=PHASES,
        help="profile this phase (cProfile and TensorFlow's profiler) and print its top "
        "functions and op types",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: tiny settings, an early layer"
    )
    args = parser.parse_args()
    argv = [*(QUICK if args.quick else README), "--seed", str(args.seed)]
    steps, repeats = (
        (QUICK_BARE_STEPS, QUICK_BARE_REPEATS) if args.quick else (BARE_STEPS, BARE_REPEATS)
    )
    sample_args, given = command(argv)
    layer, chains = sample_args.objective.split(":")[0], given["num_chains"]
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    print(f"samplevis sample {' '.join(argv)}")
    # the rate before and after the run, under the load each saw; the floor takes their mean
    bare = bare_rate(layer, chains, sample_args.size, steps)
    before = bare(repeats)
    measured = run_command(sample_args, given, args.profile)
    after = before if args.quick else bare(repeats)  # --quick: its figures mean nothing
    rate = (before + after) / 2
    print(
        f"bare loop, batch {chains} at {sample_args.size} px, truncated at {layer}: "
        f"{before:.1f} img-steps/s before the run, {after:.1f} after; the floor takes {rate:.1f}"
    )
    print(f"machine after the run: {machine()}")
    print(table(measured, rate))
    print("image-steps by what ran them (phase: what, calls):")
    for key, calls in sorted(measured.calls.items()):
        print(f"  {key}: {calls}")
    if measured.profile:
        print(f"profile of {args.profile}:")
        print(measured.profile)


if __name__ == "__main__":
    main()
