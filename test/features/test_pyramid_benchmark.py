"""The pyramid benchmark helper reports consistent, extrapolation-aware numbers."""

import pytest

from lerf_ros.features.benchmark import benchmark_pyramid
from lerf_ros.features.pyramid import PyramidConfig, pyramid_layout


def test_benchmark_on_a_subset_extrapolates_to_a_keyframe(colour_encoder):
    result = benchmark_pyramid(
        colour_encoder,
        height=96,
        width=128,
        repeats=1,
        config=PyramidConfig(crop_size=32),
        max_crops=40,
    )
    per_keyframe = sum(layout.num_crops for layout in pyramid_layout(96, 128, PyramidConfig()))
    assert result.crops_per_keyframe == per_keyframe
    assert result.crops_timed == 40 and result.extrapolated
    assert result.crops_per_second > 0
    assert result.keyframes_per_second == pytest.approx(result.crops_per_second / per_keyframe)
    assert result.crops_per_second == pytest.approx(40 / result.seconds_per_repeat)
