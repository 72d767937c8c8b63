"""FieldAnswers' settings swap (a run-time parameter change): the next request reads the new
object, and candidates filtered with another ``min_views`` are recomputed."""

from __future__ import annotations

from dataclasses import replace

import torch

from lerf_ros.engine.answers import FieldAnswers
from lerf_ros.engine.fair_lock import FairLock
from lerf_ros.query.config import QueryConfig
from lerf_ros.training.keyframe_store import KeyframeStore


def answers(config: QueryConfig) -> FieldAnswers:
    return FieldAnswers(
        lambda: None, KeyframeStore(), FairLock(), config, None, torch.device("cpu")
    )


def test_set_config_swaps_the_object_and_drops_candidates_only_when_min_views_changed():
    old = QueryConfig()
    reader = answers(old)
    cached = object()
    reader.cache = cached
    threshold = replace(old, min_relevancy=0.9, max_results=1)
    reader.set_config(threshold)
    assert reader.config is threshold and reader.surfaces.config is threshold
    assert old.min_relevancy == QueryConfig().min_relevancy  # never edited in place
    assert reader.cache is cached  # thresholds apply per request: the candidates stay
    reader.set_config(replace(threshold, min_views=1))
    assert reader.cache is None and reader.config.min_views == 1
