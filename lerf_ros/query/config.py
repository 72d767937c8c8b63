"""Settings of 3D language queries: candidate points, the scale sweep, peaks and the limits
put on requests (composed into the engine's settings by
:class:`lerf_ros.training.config.LerfConfig`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class QueryConfig:
    """3D language queries."""

    num_scales: int = 30
    """Scales swept when none is given (LERF: 30)."""
    max_scale: float = 2.0
    """Largest scale of the sweep in metres (LERF paper: 0–2 m)."""
    min_views: int = 3
    """Candidate points seen by fewer keyframes are discarded (LERF paper: ~5)."""
    min_relevancy: float = 0.55
    """Default relevancy threshold of a peak's points (0.5 = as relevant as a canonical phrase)."""
    max_results: int = 5
    """Default number of peaks returned."""
    max_results_limit: int = 100
    """Requests asking for more peaks are clamped to this."""
    cluster_distance: float = 0.05
    """Points closer than this (metres) join the same peak."""
    min_support: int = 3
    """Clusters with fewer points are not peaks."""
    candidate_width: int = 64
    """Keyframes are rendered at this width (pixels) to find candidate surface points."""
    min_accumulation: float = 0.5
    """Rays whose opacity is below this give no candidate."""
    voxel_size: float = 0.01
    """Candidates are thinned to one per voxel of this size (metres)."""
    max_candidates: int = 200000
    """At most this many candidates are kept (random subset beyond it)."""
    sweep_points: int = 8192
    """The scale sweep scores at most this many candidates (then the best scale scores all)."""
    sweep_top_fraction: float = 0.01
    """A scale's score is the mean relevancy of its top fraction of points."""
    refresh_steps: int = 200
    """A keyframe's rendered surface (keyframes without depth) is recomputed when the field
    trained this many steps since; surfaces from measured depth are never recomputed."""
    refreshes_per_query: int = 8
    """At most this many stale rendered keyframe surfaces are re-rendered by one query,
    oldest first (0: all); the others keep their older surface until a later query. New
    keyframes are always computed. Spreads the refresh over queries: re-rendering every
    keyframe at once took seconds on a CPU."""
    max_text_length: int = 1000
    """Longer query texts are refused."""
    max_negatives: int = 32
    """At most this many request negatives are used (beyond the canonical phrases)."""
