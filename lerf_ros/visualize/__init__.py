"""Pictures of a query's answer without RViz (headless matplotlib, ROS-free).

- :mod:`~lerf_ros.visualize.answer`: what a picture shows (:class:`Answer3D`), read from a
  trained field through :class:`~lerf_ros.query.reader.FieldReader`.
- :mod:`~lerf_ros.visualize.snapshot`: the answer in 3D (surface points in RGB, relevancy in
  viridis, labelled peaks, grasp gripper, navigation goal) from a few viewpoints.
  :mod:`~lerf_ros.visualize.views` chooses where it looks from and what box it shows,
  :mod:`~lerf_ros.visualize.labels` places its text labels.
- :mod:`~lerf_ros.visualize.side_by_side`: RGB render | relevancy heat map | depth of one view.
- :mod:`~lerf_ros.visualize.index_html`: one HTML page showing every query's pictures.

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas, never pyplot: no window,
no global backend switch, works on a machine without a display.
"""

from __future__ import annotations


def slug(text: str, length: int = 40) -> str:
    """A file-name stem for a query (``red ball`` -> ``red_ball``), as the demo names files."""
    return "".join(c if c.isalnum() else "_" for c in text)[:length] or "query"
