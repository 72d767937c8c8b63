import math

import pytest
import torch

from lerf_ros.query.relevancy import best_scale, relevancy


def unit(*values):
    v = torch.tensor(values, dtype=torch.float32)
    return v / v.norm()


def test_relevancy_matches_hand_computation():
    phi = unit(1.0, 0.0, 0.0)
    query = unit(0.8, 0.6, 0.0)
    negatives = torch.stack([unit(0.0, 1.0, 0.0), unit(0.6, 0.0, 0.8)])
    # p_c = exp(10 phi.q) / (exp(10 phi.q) + exp(10 phi.c)); relevancy = min over c
    pq = math.exp(10 * 0.8)
    expected = min(pq / (pq + math.exp(10 * 0.0)), pq / (pq + math.exp(10 * 0.6)))
    assert float(relevancy(phi, query, negatives)) == pytest.approx(expected, rel=1e-5)


def test_relevancy_is_half_when_query_equals_a_negative_and_batches():
    q = unit(0.0, 0.0, 1.0)
    phis = torch.stack([unit(0.3, 0.2, 0.9), unit(-1.0, 0.0, 0.1)])
    out = relevancy(phis, q, torch.stack([q, unit(1.0, 0.0, 0.0)]))
    assert out.shape == (2,)
    assert torch.all(out <= 0.5 + 1e-6)
    assert float(out[0]) == pytest.approx(0.5, abs=1e-6)


def test_relevancy_needs_negatives():
    with pytest.raises(ValueError):
        relevancy(unit(1.0, 0.0), unit(1.0, 0.0), torch.zeros(0, 2))


def test_best_scale_picks_the_scale_with_the_most_relevant_points():
    scores = torch.full((3, 200), 0.4)
    scores[1, :5] = 0.9  # a few strongly relevant points at scale 1
    scores[2, 0] = 0.95  # a single outlier at scale 2 does not win with top 5 %
    assert best_scale(scores, top_fraction=0.025) == 1
