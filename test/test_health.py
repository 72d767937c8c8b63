"""The levels of the trainer's health entries (what ``/diagnostics`` publishes), one by one."""

from __future__ import annotations

import pytest

from lerf_ros.engine.status import EngineStatus
from lerf_ros.health import (
    ERROR,
    OK,
    WARN,
    HealthMonitor,
    HealthReadings,
    HealthThresholds,
)

NAMES = ["training", "frames", "feature queue", "memory", "last error"]
GIB = 2**30


def engine_status(**fields) -> EngineStatus:
    base = dict(
        state="training",
        ready=True,
        step=100,
        keyframes=10,
        keyframes_with_features=10,
        frames_received=50,
        frames_dropped=0,
        rays_per_second=5000.0,
        rgb_loss=0.01,
        clip_loss=0.1,
        dino_loss=0.1,
        message="",
    )
    return EngineStatus(**{**base, **fields})


def healthy(**fields) -> HealthReadings:
    base = dict(
        status=engine_status(),
        frames_received=50,
        feature_queue=1,
        feature_queue_capacity=160,
        host_rss=2 * GIB,
        host_total=16 * GIB,
    )
    return HealthReadings(**{**base, **fields})


def levels(entries) -> dict[str, int]:
    return {e.name: e.level for e in entries}


def by_name(entries, name):
    return next(e for e in entries if e.name == name)


def test_a_healthy_training_node_is_ok_everywhere_with_its_numbers():
    monitor = HealthMonitor()
    monitor.update(healthy(), 0.0)
    entries = monitor.update(healthy(status=engine_status(step=110), frames_received=60), 2.0)
    assert [e.name for e in entries] == NAMES
    assert levels(entries) == dict.fromkeys(NAMES, OK)
    training = by_name(entries, "training")
    assert training.values["steps_per_second"] == "5.00"
    assert training.values["keyframes"] == "10" and training.values["lifecycle"] == "active"
    assert by_name(entries, "feature queue").values["depth"] == "1"
    assert by_name(entries, "memory").values["host_rss_mib"] == "2048"
    assert "gpu_total_mib" not in by_name(entries, "memory").values


def test_an_engine_that_failed_to_build_is_an_error():
    monitor = HealthMonitor()
    error = "engine failed to start: no module x"
    entries = monitor.update(HealthReadings(status=None, engine_error=error), 0.0)
    assert by_name(entries, "training").level == ERROR
    assert by_name(entries, "training").message == error
    assert by_name(entries, "last error").level == ERROR


def test_stopped_workers_are_an_error():
    entries = HealthMonitor().update(healthy(status=engine_status(state="error", error="x")), 0)
    assert by_name(entries, "training").level == ERROR


def test_a_recent_error_is_an_error_and_an_old_one_is_not():
    t = HealthThresholds(error_recent_s=60)
    monitor = HealthMonitor(t)
    monitor.update(healthy(), 0.0)
    failing = healthy(status=engine_status(error="feature extraction failed: OOM"))
    assert by_name(monitor.update(failing, 10.0), "last error").level == ERROR
    later = by_name(monitor.update(failing, 80.0), "last error")
    assert later.level == OK and later.message.startswith("70 s ago: feature extraction")
    assert by_name(monitor.update(failing, 80.0), "training").level == OK


def test_a_rollback_of_diverged_weights_is_an_error_for_a_while():
    monitor = HealthMonitor(HealthThresholds(error_recent_s=60))
    monitor.update(healthy(), 0.0)
    rolled = healthy(status=engine_status(rollbacks=1))
    entry = by_name(monitor.update(rolled, 5.0), "training")
    assert entry.level == ERROR and "diverged" in entry.message
    assert by_name(monitor.update(rolled, 70.0), "training").level == OK


def test_not_ready_for_long_while_active_warns_but_not_while_inactive():
    monitor = HealthMonitor(HealthThresholds(not_ready_s=100))
    unready = healthy(status=engine_status(ready=False, message="not ready: trained 5/450 steps"))
    assert by_name(monitor.update(unready, 0.0), "training").level == OK
    late = by_name(monitor.update(unready, 150.0), "training")
    assert late.level == WARN and "not ready for 150 s" in late.message
    inactive = HealthReadings(**{**unready.__dict__, "lifecycle": "inactive"})
    entry = by_name(monitor.update(inactive, 300.0), "training")
    assert entry.level == OK and entry.message == "inactive (lifecycle)"


def test_loading_encoders_for_long_warns():
    monitor = HealthMonitor(HealthThresholds(not_ready_s=100))
    loading = HealthReadings(status=None)
    assert by_name(monitor.update(loading, 0.0), "training").level == OK
    assert by_name(monitor.update(loading, 120.0), "training").level == WARN


def test_no_rays_trained_while_active_warns_but_not_while_paused():
    monitor = HealthMonitor(HealthThresholds(stalled_s=10))
    stalled = healthy(status=engine_status(rays_per_second=0.0))
    monitor.update(stalled, 0.0)
    entry = by_name(monitor.update(stalled, 12.0), "training")
    assert entry.level == WARN and "no rays trained" in entry.message
    paused = healthy(status=engine_status(rays_per_second=0.0, state="paused"))
    assert by_name(monitor.update(paused, 30.0), "training").level == OK


def test_a_high_drop_rate_over_the_window_warns_and_clears():
    monitor = HealthMonitor(HealthThresholds(window_s=30, drop_rate=0.5, min_frames=5))
    monitor.update(healthy(frames_received=100, frames_dropped=0), 0.0)
    dropping = healthy(
        frames_received=120, frames_dropped=15, drop_reasons={"no pose for image stamp": 15}
    )
    entry = by_name(monitor.update(dropping, 10.0), "frames")
    assert entry.level == WARN and "no pose for image stamp" in entry.message
    assert entry.values["dropped: no pose for image stamp"] == "15"
    # 45 s later the bad window has passed: 100 good frames since.
    recovered = healthy(frames_received=220, frames_dropped=15)
    monitor.update(recovered, 45.0)
    assert by_name(monitor.update(recovered, 50.0), "frames").level == OK


def test_too_few_frames_are_no_drop_trend():
    monitor = HealthMonitor(HealthThresholds(min_frames=5))
    monitor.update(healthy(frames_received=50, frames_dropped=0), 0.0)
    one_bad = healthy(frames_received=51, frames_dropped=1)
    assert by_name(monitor.update(one_bad, 1.0), "frames").level == OK


def test_no_frames_at_all_while_active_warns():
    monitor = HealthMonitor(HealthThresholds(no_frames_s=30))
    silent = healthy(frames_received=0, status=engine_status(keyframes=0, state="waiting"))
    monitor.update(silent, 0.0)
    entry = by_name(monitor.update(silent, 31.0), "frames")
    assert entry.level == WARN and "no frames received for 31 s" in entry.message


def test_a_full_feature_queue_warns():
    full = healthy(feature_queue=150, feature_queue_capacity=160, feature_overflows=3)
    entry = by_name(HealthMonitor().update(full, 0.0), "feature queue")
    assert entry.level == WARN and entry.values["overflows"] == "3"


@pytest.mark.parametrize(
    ("readings", "level"),
    [
        (dict(host_rss=15 * GIB, host_total=16 * GIB), WARN),
        (dict(gpu_allocated=70 * GIB, gpu_reserved=75 * GIB, gpu_total=80 * GIB), WARN),
        (dict(gpu_allocated=10 * GIB, gpu_reserved=12 * GIB, gpu_total=80 * GIB), OK),
    ],
)
def test_memory_nearly_full_warns(readings, level):
    entry = by_name(HealthMonitor().update(healthy(**readings), 0.0), "memory")
    assert entry.level == level
    if "gpu_total" in readings:
        assert entry.values["gpu_total_mib"] == str(readings["gpu_total"] >> 20)
