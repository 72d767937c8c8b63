"""The keyframe bookkeeper: selection, storage, eviction and features still to compute."""

from __future__ import annotations

import threading

import numpy as np
import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.keyframes import KeyframeConfig
from lerf_ros.training.keyframe_store import Keyframe, KeyframeStore

CAMERA = Intrinsics.from_fov(16, 12, 1.0)


def pose_at(x: float) -> np.ndarray:
    pose = np.eye(4)
    pose[0, 3] = x
    return pose


def image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (12, 16, 3), dtype=np.uint8)


def offer(store: KeyframeStore, x: float, stamp: float, force: bool = False):
    return store.offer(image(int(stamp)), CAMERA, pose_at(x), stamp, force=force)


def test_a_new_view_becomes_a_keyframe_and_a_repeated_one_does_not():
    store = KeyframeStore(KeyframeConfig(min_translation=0.1, max_interval=0.0))
    first = offer(store, 0.0, 0.0)
    assert first.decision.accepted and first.keyframe is not None
    assert first.keyframe.image.dtype == torch.uint8 and first.keyframe.image.shape == (12, 16, 3)
    again = offer(store, 0.01, 1.0)
    assert not again.decision.accepted and again.keyframe is None
    assert "too close to the last keyframe" in again.decision.reason
    assert [f.id for f in store.snapshot()] == [0]
    forced = offer(store, 0.01, 2.0, force=True)
    assert forced.decision.reason == "forced" and len(store) == 2


def test_the_stored_image_is_a_copy():
    store = KeyframeStore()
    pixels = image()
    keyframe = store.offer(pixels, CAMERA, pose_at(0.0), 0.0).keyframe
    pixels[:] = 0
    assert int(keyframe.image.sum()) > 0


def test_a_full_buffer_evicts_the_most_redundant_keyframe_and_never_the_newest():
    store = KeyframeStore(KeyframeConfig(max_keyframes=3, min_translation=0.0))
    for stamp, x in enumerate([0.0, 0.01, 2.0]):
        assert offer(store, x, float(stamp), force=True).decision.evicted is None
    newest = offer(store, 4.0, 3.0, force=True)
    assert newest.decision.evicted in (0, 1)
    ids = [f.id for f in store.snapshot()]
    assert len(ids) == 3 and newest.keyframe.id in ids and newest.decision.evicted not in ids


def test_features_are_attached_in_arrival_order_and_not_to_evicted_keyframes():
    store = KeyframeStore(KeyframeConfig(max_keyframes=2))
    for stamp in range(3):
        offer(store, float(stamp), float(stamp), force=True)
    pending = store.next_without_features()
    assert pending == min(f.id for f in store.snapshot())
    evicted = ({0, 1, 2} - {f.id for f in store.snapshot()}).pop()
    assert not store.set_features(evicted, object(), None)
    assert store.set_features(pending, object(), None)
    assert store.get(pending).has_features
    assert store.next_without_features() not in (pending, evicted, None)


def test_a_keyframe_whose_features_keep_failing_is_given_up_on():
    store = KeyframeStore()
    offer(store, 0.0, 0.0, force=True)
    assert store.feature_failed(0, attempts=3) == (1, False)
    assert store.feature_failed(0, attempts=3) == (2, False)
    assert store.next_without_features() == 0
    assert store.feature_failed(0, attempts=3) == (3, True)
    assert store.skipped_features == {0}
    assert store.next_without_features() is None


def test_replace_all_keeps_at_most_the_buffer_and_clear_forgets_the_selection():
    store = KeyframeStore(KeyframeConfig(max_keyframes=2, min_translation=0.5))
    frames = [
        Keyframe(id=i, image=torch.zeros(12, 16, 3, dtype=torch.uint8), intrinsics=CAMERA,
                 c2w=pose_at(float(i)), stamp=float(i))
        for i in range(4)
    ]  # fmt: skip
    store.replace_all(frames)
    assert len(store) == 2 and 3 in {f.id for f in store.snapshot()}
    assert offer(store, 7.0, 10.0).keyframe.id == 4  # ids are never reused
    store.clear()
    assert len(store) == 0
    assert offer(store, 7.0, 11.0).decision.accepted  # no last keyframe to be close to


def test_offers_from_many_threads_keep_the_cap_and_unique_ids():
    store = KeyframeStore(KeyframeConfig(max_keyframes=5))
    accepted: list[int] = []
    lock = threading.Lock()

    def feed(start: int):
        for i in range(start, start + 50):
            result = offer(store, float(i), float(i), force=True)
            with lock:
                accepted.append(result.keyframe.id)

    threads = [threading.Thread(target=feed, args=(k * 50,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(accepted)) == 200
    assert len(store) == 5


def test_set_config_judges_the_next_frame_by_the_new_thresholds():
    store = KeyframeStore(KeyframeConfig(min_translation=0.1, max_interval=0.0))
    assert offer(store, 0.0, 0.0).decision.accepted
    assert not offer(store, 0.05, 1.0).decision.accepted  # 5 cm < 10 cm
    store.set_config(KeyframeConfig(min_translation=0.01, max_interval=0.0))
    assert offer(store, 0.05, 2.0).decision.accepted
    store.set_config(KeyframeConfig(min_translation=10.0, min_rotation_deg=180.0, max_interval=0.0))
    assert not offer(store, 1.0, 3.0).decision.accepted
    assert len(store.snapshot()) == 2
