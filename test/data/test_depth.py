"""Depth images to metres and the checks they pass (ROS-free): every reading that means "none"
becomes 0, every image that cannot be right as a whole is a DepthError with a stable reason."""

from __future__ import annotations

import numpy as np
import pytest

from lerf_ros.data.depth import (
    DepthError,
    check_registered,
    clip_to_range,
    depth_drop_reason,
    depth_to_metres,
)


def test_16uc1_and_mono16_are_units_of_depth_scale():
    raw = np.array([[0, 1000], [2500, 65535]], dtype=np.uint16)
    for encoding in ("16UC1", "mono16"):
        metres = depth_to_metres(raw, encoding, depth_scale=0.001, depth_max=6.0)
        assert metres.dtype == np.float32
        # 65.535 m is beyond depth_max: no reading; 0 stays no reading.
        np.testing.assert_allclose(metres, [[0.0, 1.0], [2.5, 0.0]], atol=1e-6)
    # A 0.1 mm camera (depth_scale 1e-4) reads the same units as a tenth.
    np.testing.assert_allclose(
        depth_to_metres(raw[:1], "16UC1", depth_scale=1e-4), [[0.0, 0.1]], atol=1e-6
    )


def test_32fc1_nan_inf_and_zero_are_no_reading():
    raw = np.array([[np.nan, np.inf, 0.0, 1.5], [2.0, 7.0, 0.25, 3.0]], dtype=np.float32)
    metres = depth_to_metres(raw, "32FC1", depth_max=6.0)
    np.testing.assert_allclose(metres, [[0, 0, 0, 1.5], [2.0, 0, 0.25, 3.0]])
    assert np.isnan(raw[0, 0])  # the input is not changed


@pytest.mark.parametrize(
    "raw, encoding, reason",
    [
        (np.array([[1.0, -0.5]], np.float32), "32FC1", "negative"),
        (np.array([[1.0, -np.inf]], np.float32), "32FC1", "negative"),
        (np.zeros((4, 4), np.uint16), "16UC1", "no reading"),
        (np.full((4, 4), np.nan, np.float32), "32FC1", "no reading"),
        (np.full((4, 4), np.inf, np.float32), "32FC1", "no reading"),
        # Millimetres sent as 32FC1 metres: most readings kilometres away.
        (np.full((4, 4), 1500.0, np.float32), "32FC1", "absurd values"),
        (np.full((4, 4), 9000, np.uint16), "16UC1", "absurd values"),
        (np.ones((4, 4), np.uint16), "8UC1", "unsupported encoding"),
        (np.ones((4, 4), np.uint16), "rgb8", "unsupported encoding"),
    ],
)
def test_depth_that_cannot_be_right_is_refused_with_its_reason(raw, encoding, reason):
    with pytest.raises(DepthError) as error:
        depth_to_metres(raw, encoding)
    assert depth_drop_reason(error.value) == f"bad depth: {reason}", str(error.value)


@pytest.mark.parametrize(
    "raw, encoding, match",
    [
        (np.ones((4, 4), np.float64), "32FC1", "must be float32"),
        (np.ones((4, 4), np.float32), "16UC1", "must be uint16"),
        (np.ones((4, 4, 1), np.uint16), "16UC1", "one channel"),
        (np.ones((0, 4), np.uint16), "16UC1", "one channel"),
    ],
)
def test_wrong_dtype_or_shape_is_refused(raw, encoding, match):
    with pytest.raises(DepthError, match=match):
        depth_to_metres(raw, encoding)


@pytest.mark.parametrize("scale", [0.0, -0.001, float("nan"), float("inf")])
def test_a_broken_depth_scale_is_refused(scale):
    with pytest.raises(DepthError, match="depth_scale"):
        depth_to_metres(np.ones((2, 2), np.uint16), "16UC1", depth_scale=scale)


def test_clip_to_range_zeroes_far_readings_but_refuses_a_wrong_scale():
    metres = np.array([[1.0, 2.0, 8.0, 0.0]], np.float32)
    np.testing.assert_allclose(clip_to_range(metres.copy(), 6.0), [[1.0, 2.0, 0.0, 0.0]])
    # Half beyond is still a far wall; more than half is a wrong scale.
    np.testing.assert_allclose(clip_to_range(np.array([[1.0, 8.0]], np.float32), 6.0), [[1, 0]])
    with pytest.raises(DepthError, match="absurd"):
        clip_to_range(np.array([[1.0, 8.0, 9.0]], np.float32), 6.0)
    with pytest.raises(DepthError, match="no reading"):
        clip_to_range(np.zeros((2, 2), np.float32), 6.0)


def test_check_registered_accepts_matching_depth_and_names_each_fault():
    depth = np.full((6, 8), 2.0, np.float32)
    depth[0, 0] = 0.0  # no reading is fine
    out = check_registered(depth.astype(np.float64), (6, 8, 3))
    assert out.dtype == np.float32 and out.shape == (6, 8)
    cases = [
        (np.full((3, 4), 2.0, np.float32), "size mismatch"),
        (np.where(depth > 0, np.nan, 0).astype(np.float32), "non-finite"),
        (np.where(depth > 0, np.inf, 1).astype(np.float32), "non-finite"),
        (depth - 3.0, "negative"),
        (np.zeros((6, 8), np.float32), "no reading"),
    ]
    for bad, reason in cases:
        with pytest.raises(DepthError) as error:
            check_registered(bad, (6, 8, 3))
        assert depth_drop_reason(error.value) == f"bad depth: {reason}", str(error.value)
    with pytest.raises(DepthError, match=r"\[H, W\] array"):
        check_registered([[1.0]], (1, 1, 3))
    with pytest.raises(DepthError, match=r"\[H, W\] array"):
        check_registered(np.ones((6, 8, 1), np.float32), (6, 8, 3))


def test_an_unforeseen_error_text_is_still_a_depth_drop():
    assert depth_drop_reason(DepthError("something else")) == "bad depth"


def test_read_depth_reads_npy_arrays_in_depth_unit_scale_factor(tmp_path):
    from lerf_ros.data.image_io import DatasetError, read_depth

    values = np.array([[1000.0, np.nan], [-5.0, 2500.0]], np.float32)
    np.save(tmp_path / "d.npy", values)
    np.testing.assert_allclose(read_depth(tmp_path / "d.npy", 1e-3), [[1.0, 0.0], [0.0, 2.5]])
    np.save(tmp_path / "m.npy", np.full((2, 3, 1), 1.5, np.float64))  # metres, [H, W, 1]
    metres = read_depth(tmp_path / "m.npy", 1.0)
    assert metres.dtype == np.float32 and metres.shape == (2, 3)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DatasetError, match="unreadable"):  # never unpickled
        read_depth(tmp_path / "objects.npy", 1.0)
    np.save(tmp_path / "rgb.npy", np.zeros((2, 2, 3), np.float32))
    with pytest.raises(DatasetError, match=r"\[H, W\]"):
        read_depth(tmp_path / "rgb.npy", 1.0)
    with pytest.raises(DatasetError, match="unreadable"):
        read_depth(tmp_path / "missing.npy", 1.0)
