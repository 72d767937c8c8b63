"""Shared by the online tests: a trainer + camera source in child processes, and the truth."""

from __future__ import annotations

import numpy as np
from visualization_msgs.msg import MarkerArray

from lerf_ros.data.synthetic.presets import default_scene
from lerf_ros.ros.bringup import REPO_CONFIG

DEMO_PARAMS = REPO_CONFIG.parent / "demo.yaml"
READY_TIMEOUT = 420.0
"""Seconds to wait for ~/status ready (75-100 s at the demo's 450 steps, idle 2-core machine)."""
MARGIN = 0.05
"""A best peak may lie this far (m) outside its object's box (~2 % of the 4 m room)."""


def object_boxes() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        obj.name: tuple(np.asarray(b, float) for b in obj.box()) for obj in default_scene().objects
    }


def explain_answer(client, name: str, response) -> str:
    """What a failing query assertion should show: the answer, the node's state, the relevancy."""
    from lerf_ros.ros.conversions import cloud_to_arrays

    status = client.last_status
    lines = [
        f"{name!r}: success={response.success} message={response.message!r} "
        f"peaks={[(round(p.relevancy, 3), p.support) for p in response.peaks]} "
        f"scale={response.selected_scale:.2f}",
        f"status: step={status.step} keyframes={status.keyframes} "
        f"received={status.frames_received} dropped={status.frames_dropped} "
        f"losses rgb={status.rgb_loss:.4f} clip={status.clip_loss:.4f} message={status.message!r}",
    ]
    cloud = client.query(name, min_relevancy=0.001, return_cloud=True)
    if cloud.success:
        _, relevancy = cloud_to_arrays(cloud.cloud)
        lines.append(
            f"cloud: {len(relevancy)} points, max relevancy {relevancy.max():.3f}, "
            f"{int((relevancy >= 0.55).sum())} >= 0.55, scale {cloud.selected_scale:.2f}"
        )
    else:
        lines.append(f"cloud query: {cloud.message!r}")
    return "\n".join(lines)


def inside(position, box, margin: float = MARGIN) -> bool:
    low, high = box
    p = np.array([position.x, position.y, position.z])
    return bool(np.all(p >= low - margin) and np.all(p <= high + margin))


class MarkerListener:
    """Collects ~/markers arrays on the client's node."""

    def __init__(self, client, node_name: str = "/lerf_trainer"):
        self.arrays: list[MarkerArray] = []
        client.node.create_subscription(MarkerArray, f"{node_name}/markers", self.arrays.append, 10)
