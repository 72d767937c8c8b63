import math

import numpy as np
import pytest
from scene_surface import observed_surface

from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.targets.config import NavigationConfig
from lerf_ros.targets.ground import estimate_ground
from lerf_ros.targets.navigation import disc_points, plan_navigation


@pytest.fixture(scope="module")
def room():
    scene = default_scene()
    return scene, observed_surface(scene)


@pytest.mark.parametrize("name", ["red ball", "blue box", "purple vase"])
def test_goal_is_on_the_floor_at_the_standoff_facing_the_object_in_free_space(room, name):
    scene, surface = room
    obj = scene.object_named(name)
    index = [o.name for o in scene.objects].index(name)
    target = surface.points[surface.instance == index]
    floor = estimate_ground(surface.points, surface.cameras).z
    config = NavigationConfig(standoff_distance=0.8, robot_radius=0.25)
    goals = plan_navigation(
        target, 0.9, surface.cameras, floor, scene.occupied, surface.observed, config
    )
    assert goals, name
    assert [g.score for g in goals] == sorted((g.score for g in goals), reverse=True)
    low, high = obj.box()
    for goal in goals:
        assert goal.position[2] == pytest.approx(0.0, abs=0.02)
        # Distance from the goal to the object's true footprint (its box in x, y).
        gap = np.linalg.norm(
            np.maximum(0, np.maximum(low[:2] - goal.position[:2], goal.position[:2] - high[:2]))
        )
        assert gap == pytest.approx(0.8, rel=0.1), (name, goal.position)
        to_object = obj.center[:2] - goal.position[:2]
        facing = math.atan2(to_object[1], to_object[0])
        error = math.remainder(goal.yaw - facing, 2 * math.pi)
        assert abs(math.degrees(error)) < 15
        body = disc_points(goal.position[:2], 0.25, 0.05, 1.2)
        assert not scene.occupied(body).any(), "the robot would stand inside something"


def test_space_no_camera_saw_is_not_a_goal(room):
    scene, surface = room
    index = [o.name for o in scene.objects].index("red ball")
    target = surface.points[surface.instance == index]
    config = NavigationConfig()

    def never_seen(points):
        return np.zeros(len(points), dtype=bool)

    goals = plan_navigation(target, 0.9, surface.cameras, 0.0, scene.occupied, never_seen, config)
    assert goals == []


def test_unknown_ground_is_no_goal(room):
    scene, surface = room
    index = [o.name for o in scene.objects].index("red ball")
    target = surface.points[surface.instance == index]
    config = NavigationConfig()
    goals = plan_navigation(
        target, 0.9, surface.cameras, math.nan, scene.occupied, surface.observed, config
    )
    assert goals == []


def test_blocked_line_of_sight_rejects_a_goal(room):
    scene, surface = room
    index = [o.name for o in scene.objects].index("red ball")
    target = surface.points[surface.instance == index]
    centre = scene.object_named("red ball").center

    def all_free(points):
        return np.zeros(len(points), dtype=bool)

    def all_seen(points):
        return np.ones(len(points), dtype=bool)

    config = NavigationConfig(directions=8, max_goals=8)
    free = plan_navigation(target, 0.9, surface.cameras, 0.0, all_free, all_seen, config)
    assert len(free) == 8
    assert any(g.position[0] < centre[0] - 0.3 for g in free)

    # A thin screen 30 cm from the ball on its -x side, above the robot's column (so only the
    # line of sight can hit it), hides the ball from that side only.
    def with_screen(points):
        screen = (
            (np.abs(points[:, 0] - (centre[0] - 0.3)) < 0.02)
            & (np.abs(points[:, 1] - centre[1]) < 0.5)
            & (points[:, 2] > 0.9)
        )
        return screen

    goals = plan_navigation(target, 0.9, surface.cameras, 0.0, with_screen, all_seen, config)
    assert goals and len(goals) < 8
    assert all(g.position[0] > centre[0] - 0.3 for g in goals)
