import numpy as np
import pytest
from scene_surface import observed_surface

from lerf_ros.data.synthetic.presets import mug_scene
from lerf_ros.query.peaks import find_peaks
from lerf_ros.query.request import QueryError
from lerf_ros.targets.parts import part_peaks, region_mask, split_part_query


def test_split_part_query():
    assert split_part_query("mug") == ("mug", "")
    assert split_part_query(" mug ; handle ") == ("mug", "handle")
    for bad in ("mug;", ";handle", " ; ", ";"):
        with pytest.raises(QueryError, match="both sides"):
            split_part_query(bad)


def test_region_mask_keeps_points_near_the_object():
    points = np.array([[0.0, 0, 0], [0.02, 0, 0], [0.2, 0, 0]])
    mask = region_mask(points, np.array([[0.0, 0, 0]]), margin=0.03)
    assert mask.tolist() == [True, True, False]
    assert region_mask(points, np.zeros((0, 3)), 0.03).tolist() == [False] * 3


def test_part_query_selects_the_part_on_the_object_not_elsewhere():
    # Mug (orange) with a cyan handle; the red ball elsewhere is *more* relevant to the part
    # text than the handle, so only the restriction to the mug can pick the handle.
    scene = mug_scene()
    surface = observed_surface(scene, views=16, width=128)
    names = [o.name for o in scene.objects]
    mug, handle, ball = (names.index(n) for n in ("orange mug", "cyan handle", "red ball"))
    object_rel = np.where(np.isin(surface.instance, [mug, handle]), 0.85, 0.3)
    part_rel = np.select(
        [surface.instance == handle, surface.instance == ball, surface.instance == mug],
        [0.8, 0.95, 0.6],
        0.3,
    )
    objects = find_peaks(surface.points, object_rel, 0.55, 0.1, 0.02)
    assert objects
    region = surface.points[objects[0].indices]
    unrestricted = find_peaks(surface.points, part_rel, 0.7, 0.05, 0.02)
    assert np.all(surface.instance[unrestricted[0].indices] == ball)
    peaks = part_peaks(surface.points, part_rel, region, 0.7, 0.05, 0.02, 0.03, 5)
    assert peaks
    chosen = surface.instance[peaks[0].indices]
    assert np.mean(chosen == handle) > 0.9, "the part's region, not the whole mug"
    low, high = scene.object_named("cyan handle").box()
    assert np.all(peaks[0].position >= low - 0.01) and np.all(peaks[0].position <= high + 0.01)
