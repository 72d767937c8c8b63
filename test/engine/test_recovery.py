"""Non-finite training steps injected into a running engine: it rolls back to its last good
state, says so in its status and keeps learning; and the model lock serves its waiters in
arrival order, so a training loop and a stream of readers cannot starve each other."""

from __future__ import annotations

import math
import threading
import time

import torch
from test_engine_faults import INTRINSICS, make_engine, views, wait_for  # noqa: F401

from lerf_ros.engine.fair_lock import FairLock
from lerf_ros.training.recovery import MAX_NONFINITE_IN_A_ROW


def test_a_run_of_non_finite_steps_rolls_back_and_training_keeps_learning(views):  # noqa: F811
    engine = make_engine()
    for index, (image, pose) in enumerate(views[:4]):
        engine.add_frame(image, INTRINSICS, pose, float(index), force=True)
    engine.compute_pending_features()
    trainer = engine.trainer
    trainer.good_state.every = 10  # GOOD_STATE_EVERY steps, shortened for the test
    for _ in range(15):
        engine.train_step()
    assert trainer.good_state.step == 10
    good = {k: v.clone() for k, v in trainer.good_state.model.items()}
    real_render = trainer.model.render
    injected = {"left": MAX_NONFINITE_IN_A_ROW + 5}

    def render_with_nan(*args, **kwargs):  # the injected fault: NaN colours for a while
        out = real_render(*args, **kwargs)
        if injected["left"] > 0:
            injected["left"] -= 1
            out.rgb = out.rgb * torch.nan
        return out

    trainer.model.render = render_with_nan
    step_before = engine.step
    results = [engine.train_step() for _ in range(MAX_NONFINITE_IN_A_ROW + 5)]
    assert [s.rolled_back for s in results].count(True) == 1
    assert results[MAX_NONFINITE_IN_A_ROW - 1].rolled_back
    assert engine.step == step_before  # no update from a non-finite step
    status = engine.status()
    assert status.rollbacks == 1 and status.skipped_steps == MAX_NONFINITE_IN_A_ROW + 5
    assert "rolled back to step 10 " in status.error
    assert "non-finite terms: rgb" in status.error  # the first bad step, by term
    # The weights are the good state's, then training goes on from there.
    for name, value in trainer.model.state_dict().items():
        if name in good and value.dtype.is_floating_point:
            assert torch.isfinite(value).all(), name
    losses = [engine.train_step() for _ in range(30)]
    assert all(s is not None and math.isfinite(s.loss) and s.rays > 0 for s in losses)
    assert engine.step == step_before + 30
    assert trainer.learning_rate() < trainer.config.trainer.learning_rate


def test_a_finite_loss_with_a_non_finite_gradient_leaves_the_weights_alone(views):  # noqa: F811
    engine = make_engine()
    for index, (image, pose) in enumerate(views[:3]):
        engine.add_frame(image, INTRINSICS, pose, float(index), force=True)
    engine.compute_pending_features()
    engine.train_step()
    trainer = engine.trainer
    parameter = trainer.model.geometry_parameters()[0]
    hook = parameter.register_hook(lambda grad: grad * torch.nan)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    stats = engine.train_step()
    hook.remove()
    assert stats.rays == 0 and trainer.skipped_steps == 1 and engine.step == 1
    assert trainer.first_nonfinite is not None and math.isfinite(trainer.first_nonfinite.loss)
    assert not math.isfinite(trainer.first_nonfinite.gradient_norm)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_the_fair_lock_hands_over_in_arrival_order():
    lock = FairLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for index in range(5):
        thread = threading.Thread(
            target=lambda i=index: (lock.acquire(), order.append(i), lock.release())
        )
        thread.start()
        threads.append(thread)
        assert wait_for(lambda n=index + 1: len(lock._waiting) == n, 5.0)
    lock.release()
    for thread in threads:
        thread.join(5.0)
    assert order == [0, 1, 2, 3, 4]


def test_the_fair_lock_is_reentrant_times_out_and_refuses_a_foreign_release():
    lock = FairLock()
    with lock, lock:
        assert lock.held_by_me()
        outcome = {}

        def other():
            outcome["got"] = lock.acquire(timeout=0.1)
            try:
                lock.release()
            except RuntimeError as error:
                outcome["release"] = str(error)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5.0)
        assert outcome == {
            "got": False,
            "release": "release of a FairLock this thread does not hold",
        }
    assert not lock.held_by_me()
    assert lock.acquire(blocking=False)
    lock.release()


def test_a_training_loop_re_taking_the_lock_cannot_keep_a_reader_out():
    """A thread that re-acquires in a tight loop (the training loop) and a reader: the reader
    gets in after at most one more turn of the loop each time."""
    lock = FairLock()
    stop = threading.Event()
    turns = {"train": 0}

    def train():
        while not stop.is_set():
            with lock:
                turns["train"] += 1
                time.sleep(0.005)

    thread = threading.Thread(target=train)
    thread.start()
    waits = []
    for _ in range(20):
        started = time.perf_counter()
        with lock:
            waits.append(time.perf_counter() - started)
        time.sleep(0.002)
    stop.set()
    thread.join(5.0)
    assert max(waits) < 0.5, waits
    assert turns["train"] >= 10
