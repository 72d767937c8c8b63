"""QueryResult.summary: the one line a service answer carries."""

from __future__ import annotations

import numpy as np

from lerf_ros.query.peaks import Peak
from lerf_ros.query.query3d import QueryResult
from lerf_ros.query.request import QueryRequest


def result(relevancy, peaks=()) -> QueryResult:
    relevancy = np.asarray(relevancy, dtype=np.float32)
    points = np.arange(3 * len(relevancy), dtype=np.float32).reshape(-1, 3) / 10
    return QueryResult(
        QueryRequest("red ball", min_relevancy=0.55),
        list(peaks),
        0.07,
        points,
        relevancy,
        np.zeros_like(points),
    )


def test_an_empty_answer_says_how_close_the_best_point_came_and_where():
    message = result([0.51, 0.552, 0.53]).summary()
    assert message.startswith("nothing above relevancy 0.55 for 'red ball'")
    assert "best 0.552 at (0.30, 0.40, 0.50)" in message
    assert "of 3 surface points at scale 0.07 m" in message


def test_peaks_are_counted_and_no_points_is_said_plainly():
    peak = Peak(np.zeros(3), 0.9, 0.07, np.ones(3), 5, np.arange(5))
    assert result([0.9] * 5, [peak]).summary() == "1 peak(s) for 'red ball'"
    assert result([]).summary() == "no surface points to search for 'red ball'"
