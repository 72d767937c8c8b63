import numpy as np
import pytest
from scene_surface import observed_surface

from lerf_ros.data.synthetic.presets import default_scene, wall_scene
from lerf_ros.targets.config import GraspConfig
from lerf_ros.targets.geometry import support_height
from lerf_ros.targets.grasps import corridor_points, gripper_segments, plan_grasps


@pytest.fixture(scope="module")
def table_scene():
    scene = default_scene()
    return scene, observed_surface(scene)


@pytest.fixture(scope="module")
def wall():
    scene = wall_scene()
    return scene, observed_surface(scene)


def object_points(scene, surface, name):
    index = [o.name for o in scene.objects].index(name)
    return surface.points[surface.instance == index]


def inside_box(point, obj, margin=1e-6):
    low, high = obj.box()
    return bool(np.all(point >= low - margin) and np.all(point <= high + margin))


def test_box_on_table_is_grasped_from_above_across_its_narrow_side(table_scene):
    scene, surface = table_scene
    box = scene.object_named("blue box")  # 0.20 x 0.16 x 0.18 m
    points = object_points(scene, surface, "blue box")
    support = support_height(points, surface.points[surface.instance == -1], 0.03)
    assert support == pytest.approx(box.box()[0][2], abs=0.01)
    config = GraspConfig(max_gripper_width=0.25)
    grasps = plan_grasps(points, 0.9, scene.occupied, config, resting=True)
    assert grasps, "a free top-down grasp exists"
    best = grasps[0]
    assert best.kind == "top"
    assert np.allclose(best.approach, (0, 0, -1))
    assert abs(best.closing[1]) > 0.99, f"closes across y (0.16 m), not x: {best.closing}"
    assert best.width == pytest.approx(0.16, abs=0.02)
    assert inside_box(best.position, box)
    assert not scene.occupied(
        corridor_points(best.position, best.approach, best.closing, best.width + 0.02, 0.04, config)
    ).any()
    assert [g.score for g in grasps] == sorted((g.score for g in grasps), reverse=True)
    # The pose's axes are the approach (+x) and the closing direction (+y).
    rotation = quaternion_matrix(best.quaternion)
    assert np.allclose(rotation[:, 0], best.approach, atol=1e-6)
    assert np.allclose(rotation[:, 1], best.closing, atol=1e-6)


def test_side_approach_when_forced_still_closes_across_the_narrow_side(table_scene):
    scene, surface = table_scene
    box = scene.object_named("blue box")
    points = object_points(scene, surface, "blue box")
    config = GraspConfig(max_gripper_width=0.25, approach="side")
    grasps = plan_grasps(points, 0.9, scene.occupied, config, resting=True)
    assert grasps and all(g.kind == "side" for g in grasps)
    best = grasps[0]
    assert abs(best.approach[2]) < 1e-9 and abs(best.approach[0]) > 0.99
    assert abs(best.closing[1]) > 0.99
    assert inside_box(best.position, box)
    # Fingers above the table: the grasp is not so low that the lower finger is in the table.
    assert not scene.occupied(gripper_segments(best).reshape(-1, 3)).any()


def test_too_wide_objects_are_rejected(table_scene):
    scene, surface = table_scene
    points = object_points(scene, surface, "blue box")
    assert plan_grasps(points, 0.9, scene.occupied, GraspConfig(max_gripper_width=0.1), True) == []


def test_no_grasp_comes_through_the_wall(wall):
    scene, surface = wall
    box = scene.object_named("blue box")  # 1 cm from the wall at +y
    points = object_points(scene, surface, "blue box")
    config = GraspConfig(max_gripper_width=0.25)
    for approach in ("auto", "side"):
        config.approach = approach
        grasps = plan_grasps(points, 0.9, scene.occupied, config, resting=True)
        assert grasps, approach
        wall_y = box.box()[1][1] + 0.01
        for grasp in grasps:
            assert grasp.approach[1] >= -1e-9 or grasp.kind == "top", "approach from the wall"
            assert grasp.pre_grasp[1] < wall_y
            swept = corridor_points(
                grasp.position, grasp.approach, grasp.closing, grasp.width + 0.02, 0.04, config
            )
            assert not scene.occupied(swept).any()
            assert np.all(gripper_segments(grasp)[..., 1] < wall_y)


def quaternion_matrix(q):
    from lerf_ros.cameras.conventions import quaternion_to_matrix

    return quaternion_to_matrix(*q)
