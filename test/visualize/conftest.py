"""Fixtures of the picture tests: a small hand-made answer (fast) and the shared trained
engine's answer to "red ball" (slow)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from picture_helpers import BALL, BOX, goal, top_down_grasp

from lerf_ros.visualize.answer import Answer3D


@pytest.fixture
def toy_answer() -> Answer3D:
    """A brown table, a red sphere (relevancy ~0.95, the only peak), a blue box (0.2), a
    top-down grasp on the sphere and a navigation goal 0.7 m away facing it."""
    rng = np.random.default_rng(0)
    xs, ys = np.meshgrid(np.arange(-0.6, 0.6, 0.015), np.arange(-0.4, 0.4, 0.015))
    table = np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.75)])
    directions = rng.normal(size=(1500, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    sphere = BALL + 0.08 * directions
    box = BOX + rng.uniform(-0.08, 0.08, size=(1200, 3))
    points = np.concatenate([table, sphere, box]).astype(np.float32)
    colours = np.concatenate(
        [
            np.tile([0.55, 0.35, 0.2], (len(table), 1)),
            np.tile([0.85, 0.1, 0.1], (len(sphere), 1)),
            np.tile([0.1, 0.2, 0.85], (len(box), 1)),
        ]
    ).astype(np.float32)
    relevancy = np.concatenate(
        [
            rng.uniform(0.1, 0.3, len(table)),
            rng.uniform(0.92, 0.98, len(sphere)),
            np.full(len(box), 0.2),
        ]
    ).astype(np.float32)
    peak = SimpleNamespace(position=BALL.copy(), relevancy=0.95, extent=np.full(3, 0.16))
    return Answer3D(
        text="red ball",
        points=points,
        colors=colours,
        relevancy=relevancy,
        peaks=[peak],
        grasps=[top_down_grasp(BALL + np.array([0, 0, 0.08]))],
        goals=[goal([-0.3, -0.5, 0.75], np.pi / 2)],
        frame_id="map",
        selected_scale=0.1,
        min_relevancy=0.55,
    )


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def red_ball_answer(trained_synthetic_engine, one_thread):
    """(engine, scene json, Answer3D of "red ball" with targets) from the shared engine."""
    from lerf_ros.visualize.answer import answer_from_engine

    engine, _, scene = trained_synthetic_engine
    return engine, scene, answer_from_engine(engine, "red ball")
