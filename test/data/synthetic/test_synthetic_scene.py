"""Preset scenes: objects rest on their supports, use the palette and fit the room."""

import numpy as np
import pytest

from lerf_ros.data.synthetic import (
    SCENES,
    Scene,
    SceneObject,
    default_scene,
    mug_scene,
    palette,
    wall_scene,
)
from lerf_ros.data.synthetic.presets import TABLE_HEIGHT


@pytest.mark.parametrize("name", sorted(SCENES))
def test_objects_come_from_palette_and_lie_inside_bounds(name):
    scene = SCENES[name]()
    bounds = scene.bounds()
    for obj in scene.objects:
        entry = palette.entry(obj.name)
        assert obj.albedo == entry.albedo and obj.description == entry.description
        low, high = obj.box()
        assert bounds.contains(np.stack([low, high])).all()
        assert 0.01 <= obj.size.max() <= 0.3


def test_default_scene_has_five_distinct_shapes_resting_on_the_table():
    scene = default_scene()
    assert len(scene.objects) >= 5
    shapes = {obj.name: obj.shape for obj in scene.objects}
    assert shapes["red ball"] == "sphere" and shapes["blue box"] == "box"
    assert shapes["green can"] == "cylinder" and shapes["purple vase"] == "cylinder"
    table_low, table_high = scene.table.box()
    for obj in scene.objects:
        low, high = obj.box()
        assert low[2] == pytest.approx(TABLE_HEIGHT)
        assert np.all(low[:2] >= table_low[:2]) and np.all(high[:2] <= table_high[:2])
        assert 0.08 <= obj.size.max() <= 0.3
    # Content within about 2 m x 2 m.
    assert np.all(scene.content_bounds().size()[:2] <= 2.0)
    # No two objects overlap.
    for i, a in enumerate(scene.objects):
        for b in scene.objects[i + 1 :]:
            (a_low, a_high), (b_low, b_high) = a.box(), b.box()
            assert np.any(a_high[:2] <= b_low[:2]) or np.any(b_high[:2] <= a_low[:2])


def test_mug_handle_touches_mug():
    scene = mug_scene()
    mug, handle = scene.object_named("orange mug"), scene.object_named("cyan handle")
    assert handle.box()[0][0] == pytest.approx(mug.box()[1][0])
    assert mug.box()[0][2] == pytest.approx(TABLE_HEIGHT)
    assert mug.box()[0][2] < handle.box()[0][2] < handle.box()[1][2] < mug.box()[1][2]


def test_wall_scene_box_is_next_to_a_wall():
    scene = wall_scene()
    box = scene.object_named("blue box")
    wall_y = scene.room.interior().maximum[1]
    assert 0.0 < wall_y - box.box()[1][1] <= 0.02
    assert box.box()[0][2] == pytest.approx(0.0)  # on the floor


def test_primitive_sizes_are_normalised_and_validated():
    ball = SceneObject("ball", "a ball", "sphere", (0, 0, 0), (0.2, 0.0, 0.0), (1, 0, 0))
    np.testing.assert_allclose(ball.size, [0.2, 0.2, 0.2])
    can = SceneObject("can", "a can", "cylinder", (0, 0, 0), (0.1, 0.3, 0.2), (0, 1, 0))
    np.testing.assert_allclose(can.size, [0.1, 0.1, 0.2])
    with pytest.raises(ValueError, match="shape"):
        SceneObject("x", "x", "cone", (0, 0, 0), (1, 1, 1), (0, 0, 0))
    with pytest.raises(ValueError, match="unique"):
        Scene([ball, ball])
    with pytest.raises(KeyError):
        default_scene().object_named("unicorn")


def test_scene_dict_lists_objects_with_boxes():
    data = default_scene().to_dict()
    assert data["world_frame"] == "map" and data["up"] == "z"
    names = [obj["name"] for obj in data["objects"]]
    assert "red ball" in names
    ball = data["objects"][names.index("red ball")]
    np.testing.assert_allclose(np.subtract(ball["box_max"], ball["box_min"]), ball["size"])
