"""samplevis.runtime.signals: SIGTERM and SIGHUP taken as Ctrl-C within the block, and only there."""

import contextlib
import signal
import threading
import warnings

import pytest

from samplevis import signals

from conftest import InterruptingBar, gabor_keras_model

HUP = getattr(signal, "SIGHUP", None)  # not on Windows


@pytest.fixture
def own_handler():
    """A Python handler of SIGTERM that counts the signals it sees, as a program's own would;
    the test's handler is back after."""
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    yield seen
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def python_sigint():
    """SIGINT handled by Python (KeyboardInterrupt), as in a program started from a terminal;
    a pytest-xdist worker ignores it. The test's handler is back after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigterm_within_the_block_raises_a_keyboard_interrupt_and_the_old_handler_is_back_after(
    own_handler,
):
    with signals.stop_on_termination() as stop:
        with pytest.raises(KeyboardInterrupt) as raised:
            signal.raise_signal(signal.SIGTERM)
    assert isinstance(raised.value, signals.Terminated)
    assert raised.value.signum == signal.SIGTERM
    assert (stop.signum, stop.status) == (signal.SIGTERM, 143)
    assert own_handler == []  # the block's handler took it
    signal.raise_signal(signal.SIGTERM)
    assert own_handler == [signal.SIGTERM]  # the program's own handling is back
    assert signals.received() is None  # no block open


@pytest.mark.skipif(HUP is None, reason="the platform has no SIGHUP")
def test_sighup_stops_as_sigterm_does_with_status_129():
    with signals.stop_on_termination() as stop:
        with pytest.raises(signals.Terminated):
            signal.raise_signal(HUP)
        assert signals.received() == HUP
    assert stop.status == 129


def test_a_second_signal_is_ignored_while_the_run_writes_what_it_computed(own_handler):
    with signals.stop_on_termination() as stop:
        with pytest.raises(signals.Terminated):
            signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # raises nothing
    assert stop.signum == signal.SIGTERM and own_handler == []


def test_a_signal_within_held_waits_for_the_end_of_the_outermost_held_block():
    written = []
    with signals.stop_on_termination() as stop:
        with pytest.raises(signals.Terminated):
            with signals.held():
                with signals.held():
                    signal.raise_signal(signal.SIGTERM)
                    written.append("first")
                written.append("second")  # the inner block's end raised nothing
        assert written == ["first", "second"]
    assert stop.status == 143


def test_a_ctrl_c_within_interrupt_held_waits_for_the_block_and_the_handler_is_back_after(
    python_sigint,
):
    written = []
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with signals.interrupt_held():
            signal.raise_signal(signal.SIGINT)
            written.append("the last file")
    assert written == ["the last file"] and signal.getsignal(signal.SIGINT) is before
    with signals.interrupt_held():  # without a Ctrl-C, nothing is raised
        written.append("another")


def test_a_ctrl_c_while_a_run_is_saved_leaves_its_folder_whole_then_stops(
    tmp_path, monkeypatch, python_sigint
):
    import dataclasses

    from samplevis.sampling.report import run_folder

    from sample_results import known_run_result

    result = dataclasses.replace(known_run_result(), objective="gabor")
    written = run_folder.write_run

    def interrupted(folder, *args):  # Ctrl-C as the first file is written
        signal.raise_signal(signal.SIGINT)
        return written(folder, *args)

    monkeypatch.setattr(run_folder, "write_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path)
    monkeypatch.setattr(run_folder, "write_run", written)
    whole = sorted(p.name for p in tmp_path.iterdir())
    assert whole == sorted(p.name for p in result.save(tmp_path / "again"))


def test_without_a_signal_the_status_is_ctrl_cs_and_held_changes_nothing_outside_a_block():
    with signals.stop_on_termination() as stop:
        pass
    assert (stop.signum, stop.status) == (None, 130)
    with signals.held():  # no block open: nothing to hold
        assert signals.received() is None


def test_outside_the_main_thread_the_block_leaves_the_handlers_alone(own_handler):
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def in_thread():
        with signals.stop_on_termination() as stop:
            seen.append((signal.getsignal(signal.SIGTERM), stop.signum))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert seen == [(before, None)]


class SignallingBar(InterruptingBar):
    """render_vis's progress bar, standing in for a scheduler: it sends the process SIGTERM on
    its `at_call`-th update, after that many compiled calls have run."""

    def update(self, n):
        self.calls += 1
        if self.calls == self.at_call:
            signal.raise_signal(signal.SIGTERM)


@pytest.mark.parametrize("asked", [True, False])
def test_render_vis_stops_at_sigterm_only_when_the_caller_asks(asked, own_handler, monkeypatch):
    import samplevis
    from samplevis import objectives, param
    from samplevis.optvis import renderer

    monkeypatch.setattr(renderer, "_progress_bar", lambda *a: SignallingBar(at_call=2))
    stopping = signals.stop_on_termination() if asked else contextlib.nullcontext()
    with stopping, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "render_vis interrupted", UserWarning)
        rendering = samplevis.render_vis(
            gabor_keras_model(),
            objectives.channel("gabor_relu", 1),
            param_f=lambda: param.image(16),
            thresholds=(16, 64),
            seed=0,
            return_state=True,
        )
    if asked:  # stopped after the second call of 16 steps, with the images then
        assert (rendering.interrupted, rendering.steps, len(rendering.images)) == (True, 32, 2)
        assert own_handler == []
    else:  # the program's own handler saw the signal, and the run went on
        assert (rendering.interrupted, rendering.steps, len(rendering.images)) == (False, 64, 2)
        assert own_handler == [signal.SIGTERM]


def test_a_sigterm_while_a_sampling_block_is_recorded_stops_the_chains_after_that_block(
    own_handler,
):
    import tensorflow as tf

    from samplevis.sampling.mcmc import chain, kernels

    z0 = tf.zeros([2, 3])
    kernel = kernels.make_kernel(
        lambda z: -0.5 * tf.reduce_sum(z**2, axis=-1),  # a standard normal
        "hmc",
        kernels.per_chain_step_size(0.5, [z0]),
        4,
        num_adaptation_steps=None,
    )
    # Blocks: one burn-in block of 4 steps, then 2 kept per block (2 steps each): 2, 2, 2.
    plan = chain.ChainPlan(
        num_results=6, num_burnin_steps=4, num_steps_between_results=1, block_steps=4
    )

    def signal_after_block_1(index, trace):  # runs as block `index` is recorded
        if index == 1:
            signal.raise_signal(signal.SIGTERM)
        return False

    with signals.stop_on_termination() as stop:
        run = chain.run_chains(
            kernel, [z0], plan, seed=1, progress=False, retarget=signal_after_block_1
        )
    assert stop.signum == signal.SIGTERM and run.interrupted
    # block 1, the first sampling block, was recorded whole: its samples, trace and counts
    assert run.blocks_done == 2
    assert run.samples[0].shape == (2, 2, 3)
    assert run.trace["target_log_prob"].shape == (2, 2)
    assert run.counts["steps"].tolist() == [4, 4]
