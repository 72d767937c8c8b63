import numpy as np

from lerf_ros.data.keyframes import KeyframeConfig, KeyframeSelector, sharpness


def pose_at(x, yaw_deg=0.0):
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    pose = np.eye(4)
    pose[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    pose[0, 3] = x
    return pose


def checkerboard(size=64, blur=False):
    img = ((np.indices((size, size)).sum(axis=0) // 4) % 2 * 255).astype(np.float32)
    if blur:
        for _ in range(6):
            img = (
                img
                + np.roll(img, 1, 0)
                + np.roll(img, 1, 1)
                + np.roll(img, -1, 0)
                + np.roll(img, -1, 1)
            ) / 5
    return img


def test_sharpness_drops_with_blur():
    assert sharpness(checkerboard(blur=True)) < 0.2 * sharpness(checkerboard())


def test_motion_rotation_and_time_thresholds():
    sel = KeyframeSelector(
        KeyframeConfig(min_translation=0.1, min_rotation_deg=10, max_interval=5.0)
    )
    img = checkerboard()
    assert sel.consider(pose_at(0), 0.0, img).accepted
    sel.commit(0, pose_at(0), 0.0)
    assert not sel.consider(pose_at(0.05), 1.0, img).accepted
    assert sel.consider(pose_at(0.15), 1.0, img).accepted
    assert sel.consider(pose_at(0.0, yaw_deg=15), 1.0, img).accepted
    assert sel.consider(pose_at(0.0), 6.0, img).accepted


def test_blurred_frame_rejected_relative_to_recent_frames():
    sel = KeyframeSelector(KeyframeConfig(min_translation=0.0, min_rotation_deg=0.0))
    for i in range(4):
        sel.consider(pose_at(i), float(i), checkerboard())
    decision = sel.consider(pose_at(9), 9.0, checkerboard(blur=True))
    assert not decision.accepted and "blurred" in decision.reason


def test_eviction_keeps_coverage_and_never_drops_the_newest():
    sel = KeyframeSelector(KeyframeConfig(max_keyframes=3))
    sel.commit(0, pose_at(0.0), 0)
    sel.commit(1, pose_at(0.01), 1)  # nearly a duplicate of 0
    sel.commit(2, pose_at(2.0), 2)
    victim = sel.commit(3, pose_at(4.0), 3)
    assert victim in (0, 1)
    assert set(sel.poses) == {0, 1, 2, 3} - {victim}
