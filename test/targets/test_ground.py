"""The floor under navigation goals: the lowest horizontal surface below the cameras and seen
under them, not the largest low plane (issue 17: a table top held 12x the floor's points)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scene_surface import observed_surface

from lerf_ros.data.synthetic.presets import TABLE_HEIGHT, default_scene
from lerf_ros.targets.ground import estimate_ground, field_ground, horizontal_surfaces

RNG = np.random.default_rng(0)


def plane(count, x, y, z, noise=0.005):
    """``count`` points uniformly on the rectangle ``x`` x ``y`` at height ``z``."""
    xy = RNG.uniform((x[0], y[0]), (x[1], y[1]), size=(count, 2))
    return np.column_stack([xy, z + RNG.normal(0.0, noise, count)])


def walls(count, half=2.0, height=2.5):
    """Points on the four walls of a square room (evenly spread over z)."""
    t = RNG.uniform(-half, half, count)
    z = RNG.uniform(0.0, height, count)
    side = RNG.integers(0, 4, count)
    x = np.select([side == 0, side == 1], [np.full(count, -half), np.full(count, half)], t)
    y = np.select([side == 2, side == 3], [np.full(count, -half), np.full(count, half)], t)
    return np.column_stack([x, y, z])


def orbit(count=16, radius=1.4, height=1.45):
    angle = np.arange(count) * 2 * math.pi / count
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle), np.full(count, height)])


TABLE = plane(8000, (-0.6, 0.6), (-0.4, 0.4), TABLE_HEIGHT)
"""A large table top: 8,000 points on 1.2 m x 0.8 m."""


def test_floor_under_the_cameras_wins_over_a_table_with_more_points():
    # The field: 7.5k points on the table top, ~600 on the floor around the orbit.
    floor = plane(600, (-2.0, 2.0), (-2.0, 2.0), 0.0)
    floor = floor[np.max(np.abs(floor[:, :2]) / (0.6, 0.4), axis=1) > 1.0]  # not under the table
    points = np.concatenate([floor, TABLE, walls(6000)])
    surfaces = horizontal_surfaces(points)
    assert [s.z for s in surfaces] == [pytest.approx(0.0, abs=0.01), pytest.approx(0.75, abs=0.01)]
    assert surfaces[1].points > 10 * surfaces[0].points
    ground = field_ground(points, orbit())
    assert ground.source == "field" and ground.z == pytest.approx(0.0, abs=0.01)
    assert "one at 0.75" in ground.reason


def test_a_floor_seen_only_in_patches_under_the_cameras_is_still_the_floor():
    cameras = orbit(12)
    patches = [plane(30, (x - 0.3, x + 0.3), (y - 0.3, y + 0.3), 0.02) for x, y, _ in cameras]
    points = np.concatenate([*patches, TABLE, walls(6000)])
    ground = field_ground(points, cameras)
    assert ground.z == pytest.approx(0.02, abs=0.01), ground


def test_table_is_refused_when_the_cameras_never_saw_the_floor_under_them():
    # An orbit looking at the table from 1.4 m: the table top is the only horizontal surface.
    ground = field_ground(np.concatenate([TABLE, walls(6000)]), orbit())
    assert not ground.known and ground.source == "unknown"
    assert "seen under them" in ground.reason


def test_a_soft_field_whose_floor_is_fog_is_refused_not_the_table():
    # What a colour-only field trained 700 steps holds (measured on the bundled scene): floor
    # rays end short, leaving points at every height around the cameras.
    fog = np.column_stack([RNG.uniform(-2.0, 2.0, (20000, 2)), RNG.uniform(-0.1, 1.4, 20000)])
    ground = field_ground(np.concatenate([fog, TABLE, walls(4000)]), orbit())
    assert not ground.known, ground


def test_a_surface_above_or_level_with_the_cameras_is_not_the_floor():
    # Cameras below the table top (a robot under it): the table cannot be the floor.
    floorless = np.concatenate([plane(8000, (-2, 2), (-2, 2), TABLE_HEIGHT), walls(4000)])
    low = orbit(height=0.5)
    ground = field_ground(floorless, low)
    assert not ground.known and "below the lowest camera" in ground.reason
    # With the floor in view, the same cameras find it.
    floor = plane(3000, (-2, 2), (-2, 2), 0.0)
    assert field_ground(np.concatenate([floorless, floor]), low).z == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("height", [0.3, 1.0, 1.8])
def test_cameras_at_any_height_above_the_floor_find_it(height):
    points = np.concatenate([plane(3000, (-2, 2), (-2, 2), -0.4), TABLE - (0, 0, 0.4), walls(3000)])
    assert field_ground(points, orbit(height=height)).z == pytest.approx(-0.4, abs=0.01)


def test_the_bundled_scenes_observed_surface():
    surface = observed_surface(default_scene())
    ground = field_ground(surface.points, surface.cameras)
    assert ground.z == pytest.approx(0.0, abs=0.01) and ground.source == "field"


def test_the_parameter_then_the_base_frame_then_the_field():
    points = np.concatenate([TABLE, walls(3000)])
    assert estimate_ground(points, orbit(), fixed=0.3, base_z=0.1).z == 0.3
    by_tf = estimate_ground(points, orbit(), base_z=0.1)
    assert by_tf.z == 0.1 and by_tf.source == "base_frame"
    # A NaN from TF is no height: the field's estimate (here: refused) stands.
    assert not estimate_ground(points, orbit(), base_z=math.nan).known
    # TF knows best, but a base frame above the cameras is named as suspect.
    odd = estimate_ground(points, orbit(height=1.0), base_z=1.2)
    assert odd.z == 1.2 and "check base_frame" in odd.reason


def test_bad_points_are_no_crash():
    assert not field_ground(np.zeros((0, 3)), orbit()).known
    junk = np.full((100, 3), np.nan)
    assert not field_ground(junk, orbit()).known
    # Without cameras there is nothing to check against: the lowest surface.
    points = np.concatenate([plane(500, (-2, 2), (-2, 2), 0.0), TABLE])
    assert field_ground(points, np.zeros((0, 3))).z == pytest.approx(0.0, abs=0.01)
    # A few wild readings (1 km up, 1 km down) leave the estimate as it was.
    wild = np.concatenate([points, [[0.0, 0.0, 1e3], [0.0, 0.0, -1e3], [1.0, 1.0, 1e9]]])
    assert field_ground(wild, np.zeros((0, 3))).z == pytest.approx(0.0, abs=0.01)
    many = np.concatenate([points, np.full((1000, 3), 1e9)])  # more than the 0.1 % trimmed
    assert field_ground(many, np.zeros((0, 3))).z == pytest.approx(0.0, abs=0.01)
