"""Ray-traced rendering: exact depths, silhouettes, visibility and speed."""

import math
import time

import numpy as np
import pytest

from lerf_ros.cameras import Intrinsics, look_at
from lerf_ros.data.synthetic import Scene, SceneObject, default_scene, orbit, render_view
from lerf_ros.data.synthetic.geometry import intersect
from lerf_ros.data.synthetic.render import BACKGROUND_LABELS

CENTRED = Intrinsics.from_fov(33, 33, math.radians(40))
"""Odd size: the central pixel's centre lies exactly on the optical axis."""


def lone(obj: SceneObject) -> Scene:
    return Scene([obj], room=None)


@pytest.mark.parametrize(
    ("obj", "eye", "expected_depth"),
    [
        (SceneObject("s", "s", "sphere", (0, 0, 1), (0.4, 0, 0), (1, 0, 0)), (3, 0, 1), 2.8),
        (SceneObject("b", "b", "box", (0, 0, 0.5), (0.2, 0.4, 1.0), (0, 0, 1)), (0, 0, 4), 3.0),
        (SceneObject("c", "c", "cylinder", (1, 1, 0), (0.5, 0, 2), (0, 1, 0)), (1, -2, 0), 2.75),
    ],
)
def test_central_ray_hits_at_analytic_depth(obj, eye, expected_depth):
    view = render_view(lone(obj), CENTRED, look_at(eye, obj.center))
    assert view.depth[16, 16] == pytest.approx(expected_depth, abs=1e-5)
    assert view.instance[16, 16] == 0
    assert view.instance[0, 0] == -1 and np.isinf(view.depth[0, 0])


def test_hit_points_lie_on_the_surfaces():
    rng = np.random.default_rng(0)
    origins = rng.normal(size=(2000, 3))
    origins *= (1.0 + 2.0 * rng.random((2000, 1))) / np.linalg.norm(origins, axis=1, keepdims=True)
    targets = rng.uniform(-0.15, 0.15, size=(2000, 3))  # inside all three shapes
    directions = targets - origins
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    sphere = SceneObject("s", "s", "sphere", (0, 0, 0), (0.6, 0, 0), (1, 0, 0))
    cylinder = SceneObject("c", "c", "cylinder", (0, 0, 0), (0.6, 0, 0.6), (1, 0, 0))
    box = SceneObject("b", "b", "box", (0, 0, 0), (0.6, 0.6, 0.6), (1, 0, 0))
    for obj, on_surface in [
        (sphere, lambda p: np.abs(np.linalg.norm(p, axis=1) - 0.3)),
        (box, lambda p: np.abs(np.abs(p).max(axis=1) - 0.3)),
        (
            cylinder,
            lambda p: np.minimum(
                np.abs(np.linalg.norm(p[:, :2], axis=1) - 0.3), np.abs(np.abs(p[:, 2]) - 0.3)
            ),
        ),
    ]:
        t, normals = intersect(obj, origins, directions)
        hit = np.isfinite(t)
        assert hit.all()  # every ray aims inside the object
        points = origins[hit] + t[hit, None] * directions[hit]
        assert on_surface(points).max() < 1e-9
        # Outward normals face back towards the camera for hits from outside.
        assert np.all(np.einsum("ij,ij->i", normals[hit], directions[hit]) < 0)


def test_sphere_silhouette_matches_projected_disc():
    camera = Intrinsics.from_fov(201, 201, math.radians(30))
    radius, distance = 0.25, 2.0
    scene = lone(SceneObject("s", "s", "sphere", (0, 0, 0), (2 * radius, 0, 0), (1, 0, 0)))
    view = render_view(scene, camera, look_at((distance, 0.0, 0.0), (0, 0, 0)))
    disc_radius = camera.fx * math.tan(math.asin(radius / distance))
    assert (view.instance == 0).sum() == pytest.approx(math.pi * disc_radius**2, rel=0.01)


def test_every_default_object_visible_in_most_orbit_views():
    scene = default_scene()
    camera = Intrinsics.from_fov(128, 96, math.radians(60))
    hint = scene.view
    poses = orbit(hint.target, hint.radius, hint.height, 24)
    counts = np.array(
        [
            np.bincount(render_view(scene, camera, p).instance.ravel() + 1, minlength=6)
            for p in poses
        ]
    )
    visible = (counts[:, 1:] >= 15).mean(axis=0)
    assert np.all(visible >= 0.5), dict(zip([o.name for o in scene.objects], visible, strict=True))


def test_colours_keep_their_hue_and_labels_cover_background():
    scene = default_scene()
    camera = Intrinsics.from_fov(128, 96, math.radians(60))
    view = render_view(scene, camera, look_at((1.2, -0.6, 1.4), scene.view.target))
    for index, obj in enumerate(scene.objects):
        pixels = view.rgb[view.instance == index]
        assert len(pixels) > 0, obj.name
        mean = pixels.mean(axis=0)
        assert np.argmax(mean) == np.argmax(obj.albedo), obj.name
        assert np.all(pixels >= scene.ambient * np.asarray(obj.albedo) - 1e-6), obj.name
    labels = {BACKGROUND_LABELS[i] for i in np.unique(view.background) if i >= 0}
    assert labels == {"floor", "wall", "table"}
    assert np.all((view.instance >= 0) != (view.background >= 0))  # a room closes every ray


def test_depth_back_projects_onto_the_floor_and_supersampling_keeps_depth():
    scene = default_scene()
    camera = Intrinsics.from_fov(64, 48, math.radians(60))
    pose = look_at((1.5, 0.5, 1.2), (0.0, 0.0, 0.3))
    view = render_view(scene, camera, pose)
    rows, cols = np.nonzero(view.background == BACKGROUND_LABELS.index("floor"))
    rays = np.stack(
        [
            (cols + 0.5 - camera.cx) / camera.fx,
            (rows + 0.5 - camera.cy) / camera.fy,
            np.ones(len(rows)),
        ],
        1,
    )
    points = (rays * view.depth[rows, cols, None]) @ pose[:3, :3].T + pose[:3, 3]
    assert np.abs(points[:, 2]).max() < 1e-5
    np.testing.assert_allclose(
        view.distance[rows, cols], view.depth[rows, cols] * np.linalg.norm(rays, axis=1), rtol=1e-6
    )
    smooth = render_view(scene, camera, pose, supersample=3)
    np.testing.assert_array_equal(smooth.depth, view.depth)
    np.testing.assert_array_equal(smooth.instance, view.instance)
    assert (
        np.abs(smooth.rgb - view.rgb).max() > 0 and np.median(np.abs(smooth.rgb - view.rgb)) < 1e-3
    )


def test_render_is_fast():
    scene = default_scene()
    camera = Intrinsics.from_fov(128, 96, math.radians(60))
    pose = look_at((1.4, 0.0, 1.45), scene.view.target)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        render_view(scene, camera, pose)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.2
