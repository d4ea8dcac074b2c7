"""Rules for each chain's temperature during burn-in, against the share of the gain kept.

`render` adapts each chain's T between burn-in blocks (`TemperatureAdaptation`: a Robbins-Monro
step of log T toward `target_ratio`, then T frozen). On the network a chain's share answers a
change of T only over many blocks, so the share the sampling phase keeps differs from the one
asked. Each rule here replaces `TemperatureAdaptation` for one run:

- `rm`: render's own rule, unchanged.
- `ramp`: a full rise (MAX_RISE) per block until the chain's drop reaches half the one asked,
  then Robbins-Monro with its gains counted from there; frozen at the mean of those iterates.
- `trend`: the share plus `--beta` times its change since the last block (a derivative term).
- `ramp_trend`: both.
- `gated`: `trend`, the change counted only when beyond 3 standard errors of the blocks' means.
- `correct`: render's rule, then at the last burn-in block one more step of log T from the
  blocks after the freeze: their share extrapolated by a line to the middle of the sampling
  phase, times `--gain`.
- `predictive`: per chain, s_k = s_(k-1) + a (s_max - b T_k - s_(k-1)) fitted to the last blocks,
  and T set so the predicted mean share over the sampling phase is the target.

A ninth idea is a better first T rather than a better update: `--first-t` prints, per chain,
the T at which a quadratic activation with the Hessian's participation ratio PR = tr(H)^2 /
tr(H^2) (16 finite-difference probes at the start) would keep `target_ratio`, over the rule's.

Two measures: `--gaussian` runs tests/test_sampling_temperature.py's known-answer tests under
the rule (PASS / FAIL per test); otherwise one `render` of each `--channels` channel (seed 0, 10
draws a chain) prints each chain's share of the gain over its samples, from
`sampling_targets.chain_shares`, and the plain structural share.

    PYTHONPATH=benchmarks:tests python benchmarks/experiments/temperature_rules.py --rule correct
    PYTHONPATH=benchmarks:tests python benchmarks/experiments/temperature_rules.py --rule correct \\
        --gaussian
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from samplevis.sampling.target import temperature as T

Base = T.TemperatureAdaptation


class Rule(Base):
    """render's rule with the update of log T replaced by `step(shares, activation)`."""

    beta = 2.0
    trend = False
    gated = False
    ramp = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chains = self.init_activations.size
        self._answered = np.zeros(chains, bool)
        self._since = np.zeros(chains)
        self._before: tuple[np.ndarray, np.ndarray] | None = None
        self._after_answer: list[list[float]] = [[] for _ in range(chains)]

    def __call__(self, index, trace):
        activation = np.asarray(trace["activation"], np.float64)
        before = self._steps_done
        self._steps_done += activation.shape[0]
        if self._steps_done > self.num_steps or before >= self.num_steps:
            self._steps_done = max(self._steps_done, self.num_steps)
            return False
        unit = self.init_activations - self.floor
        share = (activation.mean(axis=0) - self.floor) / unit
        error = activation.std(axis=0) / np.sqrt(activation.shape[0]) / unit
        self._adapted_steps += activation.shape[0]
        self._temperatures.append(np.exp(self._log_t))
        self._shares.append(share)
        used = share
        if self.trend and self._before is not None:
            change = share - self._before[0]
            if self.gated:
                change = np.where(
                    np.abs(change) > 3 * np.hypot(error, self._before[1]), change, 0.0
                )
            used = share + self.beta * change
        self._before = (share, error)
        rho = self.target_ratio
        step = T.log_step(used, rho)
        if self.ramp:
            self._answered |= share < 1 - 0.5 * (1 - rho)
            gain = np.where(self._answered, (self._since + 1) ** -T.GAIN_DECAY, 1.0)
            step = np.where(self._answered, step, math.log(T.MAX_RISE))
            self._since = self._since + self._answered
        else:
            gain = (len(self._iterates) + 1) ** -T.GAIN_DECAY
        self._log_t = self._log_t + gain * step
        self._iterates.append(self._log_t)
        for c in np.flatnonzero(self._answered):
            self._after_answer[c].append(self._log_t[c])
        if self._steps_done + activation.shape[0] > self.num_steps:
            if self.ramp:
                self._log_t = np.array(
                    [
                        np.mean(kept[len(kept) // 2 :]) if kept else self._log_t[c]
                        for c, kept in enumerate(self._after_answer)
                    ]
                )
            else:
                self._log_t = np.mean(self._iterates[len(self._iterates) // 2 :], axis=0)
            self._steps_done = self.num_steps
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        return True


class Ramp(Rule):
    beta = 0.0
    ramp = True


class Trend(Rule):
    trend = True


class RampTrend(Rule):
    trend = True
    ramp = True


class Gated(Rule):
    trend = True
    gated = True


class Correct(Base):
    """render's rule, then one step of log T at the last burn-in block from the frozen blocks'
    shares extrapolated to the middle of the sampling phase, times `gain`."""

    burnin = 150
    ahead = 25.0  # steps from the last burn-in block's middle to the sampling phase's middle
    gain = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seen = 0
        self._frozen_shares: list[np.ndarray] = []
        self._corrected = False

    def __call__(self, index, trace):
        activation = np.asarray(trace["activation"], np.float64)
        was_frozen = self.frozen
        changed = super().__call__(index, trace)
        self._seen += activation.shape[0]
        if not was_frozen or self._corrected:
            return changed
        unit = self.init_activations - self.floor
        self._frozen_shares.append((activation.mean(axis=0) - self.floor) / unit)
        if self._seen + activation.shape[0] <= self.burnin:
            return changed
        shares = np.asarray(self._frozen_shares)
        if len(shares) >= 3:
            slope = np.polyfit(np.arange(len(shares)) * activation.shape[0], shares, 1)[0]
            predicted = shares[-2:].mean(0) + slope * (self.ahead + activation.shape[0] / 2)
        else:
            predicted = shares.mean(0)
        self._log_t = self._log_t + self.gain * T.log_step(predicted, self.target_ratio)
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        self._corrected = True
        return True


class Predictive(Base):
    """T from a first-order lag fitted per chain, held so the sampling phase keeps the target."""

    burnin = 150
    sampling = 40
    window = 6

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seen = 0

    def __call__(self, index, trace):
        activation = np.asarray(trace["activation"], np.float64)
        n = activation.shape[0]
        before = self._steps_done
        self._steps_done += n
        self._seen += n
        if self._steps_done > self.num_steps or before >= self.num_steps:
            self._steps_done = max(self._steps_done, self.num_steps)
            return False
        share = (activation.mean(axis=0) - self.floor) / (self.init_activations - self.floor)
        self._adapted_steps += n
        self._temperatures.append(np.exp(self._log_t))
        self._shares.append(share)
        rho, k = self.target_ratio, len(self._shares)
        new = self._log_t + k**-T.GAIN_DECAY * T.log_step(share, rho)
        if k >= 4:
            s, t = np.asarray(self._shares), np.asarray(self._temperatures)
            lo = max(1, k - self.window)
            ahead = max(0, self.burnin - self._seen) / n
            draws = np.arange(ahead, ahead + self.sampling / n) + 1
            for c in range(s.shape[1]):
                x = np.stack([np.ones(k - lo), -s[lo - 1 : -1, c], -t[lo:, c]], 1)
                (intercept, a, ab), *_ = np.linalg.lstsq(x, s[lo:, c] - s[lo - 1 : -1, c])
                if not (0.02 < a <= 1.5 and ab > 0):
                    continue
                a = min(a, 1.0)
                held = float(np.mean((1 - a) ** draws))
                equilibrium = (rho - held * s[-1, c]) / max(1 - held, 1e-3)
                wanted = (intercept / a - equilibrium) / (ab / a)
                if wanted > 0:
                    new[c] = self._log_t[c] + np.clip(
                        np.log(wanted) - self._log_t[c],
                        -math.log(T.MAX_FALL),
                        math.log(T.MAX_RISE),
                    )
        self._log_t = new
        self._iterates.append(new)
        if self._steps_done + n > self.num_steps:
            self._steps_done = self.num_steps
        self.variable.assign(np.exp(self._log_t).astype(np.float32))
        return True


RULES = dict(
    rm=Base,
    ramp=Ramp,
    trend=Trend,
    ramp_trend=RampTrend,
    gated=Gated,
    correct=Correct,
    predictive=Predictive,
)


def gaussian() -> None:
    import test_sampling_temperature as known

    cases = {
        "rho 0.8, T from 0.2x": lambda: (
            known.test_each_chains_adapted_temperature_is_the_exact_one_within_monte_carlo_error(  # noqa: E501
                0.8, 0.2
            )
        ),
        "rho 0.8, T from 5x": lambda: (
            known.test_each_chains_adapted_temperature_is_the_exact_one_within_monte_carlo_error(  # noqa: E501
                0.8, 5.0
            )
        ),
        "rho 0.6": lambda: (
            known.test_each_chains_adapted_temperature_is_the_exact_one_within_monte_carlo_error(  # noqa: E501
                0.6, 1.0
            )
        ),
        "mala": lambda: known.test_the_adaptation_works_beside_each_kernel("mala"),
        "nuts": lambda: known.test_the_adaptation_works_beside_each_kernel("nuts"),
        "two parts": known.test_the_adaptation_works_with_two_parts_at_their_own_step_sizes,
    }
    for name, case in cases.items():
        try:
            case()
            print(f"{name}: PASS", flush=True)
        except AssertionError:
            print(f"{name}: FAIL", flush=True)


def first_temperature(channels: list[str], target_ratio: float, probes: int = 16) -> None:
    """Per chain, the T of a quadratic activation with the starts' curvature participation
    ratio, over the equipartition rule's, printed; no chain is run."""
    import tensorflow as tf
    from sampling_targets import objective_of_spec

    import samplevis
    from samplevis import zoo

    rule = T.choose_temperature

    def predict(log_density, image_param, starts, seed, **options):
        chosen = rule(log_density, image_param, starts, seed, **options)
        state = [tf.constant(s) for s in log_density.image_param.init(None)]

        def gradient(parts):
            with tf.GradientTape() as tape:
                tape.watch(parts)
                value = log_density.activation(*parts)
            return tape.gradient(value, parts)

        def summed(parts):
            return sum(tf.reduce_sum(p, list(range(1, p.shape.rank))) for p in parts)

        here, trace, trace_sq = gradient(state), [], []
        for k in range(probes):
            v = [tf.random.stateless_normal(s.shape, [k, 7], dtype=s.dtype) for s in state]
            moved = gradient([s + 1e-2 * u for s, u in zip(state, v)])
            hv = [(b - a) / 1e-2 for a, b in zip(here, moved)]  # H of the activation times v
            trace.append(-summed([u * h for u, h in zip(v, hv)]).numpy())
            trace_sq.append(summed([h * h for h in hv]).numpy())
        tr, tr_sq = np.mean(trace, 0), np.mean(trace_sq, 0)
        ratio, stiffness = tr**2 / tr_sq, tr_sq / tr
        drop = (1 - target_ratio) * (np.asarray(starts.activations) - chosen.ratio_floor)
        below = ratio - 2 * drop * chosen.prior_weight / stiffness
        first = np.where((tr > 0) & (below > 0), 2 * drop / np.maximum(below, 1e-9), np.nan)
        print(
            f"tr(H) {np.round(tr, 1).tolist()}, PR {np.round(ratio, 2).tolist()}, "
            f"T / rule {np.round(first / chosen.rule, 1).tolist()} (NaN: the start is no "
            "maximum along random directions)",
            flush=True,
        )
        raise KeyboardInterrupt  # render returns what it has: nothing is sampled

    T.choose_temperature = predict
    model = zoo.efficientnet_lite0()
    for spec in channels:
        print(spec, end=": ", flush=True)
        samplevis.render(
            model,
            objective_of_spec(spec),
            hmc_opts=dict(num_results=10, target_ratio=target_ratio),
            seed=0,
            progress=False,
        )


def network(channels: list[str], target_ratio: float, burnin: int | None) -> None:
    from sampling_targets import chain_shares, objective_of_spec, optimized

    import samplevis
    from samplevis import zoo
    from samplevis.sampling import metrics

    model = zoo.efficientnet_lite0()
    for spec in channels:
        obj = objective_of_spec(spec)
        result = samplevis.render(
            model,
            obj,
            hmc_opts=dict(
                num_results=10,
                target_ratio=target_ratio,
                **({} if burnin is None else {"num_burnin_steps": burnin}),
            ),
            seed=0,
            progress=False,
        )
        shares = chain_shares(model, obj, result)
        references = optimized(model, obj, 1000, False)  # as sampling_targets.py's
        structure = metrics.run_structural_share(result.images, references)
        print(
            f"{spec}: share of the gain per chain {' '.join(f'{x:.2f}' for x in shares)} "
            f"(asked {target_ratio}); structural share {structure:.2f}; T "
            f"{' '.join(f'{x:.3g}' for x in result.chain_temperatures)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rule", choices=sorted(RULES), default="rm")
    parser.add_argument("--gain", type=float, default=1.0, help="correct's gain")
    parser.add_argument("--beta", type=float, default=2.0, help="trend's and gated's factor")
    parser.add_argument("--target-ratio", type=float, default=0.8)
    parser.add_argument("--gaussian", action="store_true")
    parser.add_argument("--first-t", action="store_true")
    parser.add_argument(
        "--burnin", type=int, help="num_burnin_steps (render's default if not given)"
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        default=["block6a_expand_activation:301", "block3a_expand_activation:20"],
    )
    args = parser.parse_args()
    rule = RULES[args.rule]
    Correct.gain = args.gain
    Rule.beta = args.beta
    if args.gaussian:  # the tests' burn-in and draws
        Correct.burnin, Predictive.burnin, Predictive.sampling = 200, 200, 200
    T.TemperatureAdaptation = rule
    if args.first_t:
        first_temperature(args.channels, args.target_ratio)
    elif args.gaussian:
        gaussian()
    else:
        network(args.channels, args.target_ratio, args.burnin)


if __name__ == "__main__":
    main()
