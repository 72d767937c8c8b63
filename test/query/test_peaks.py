import numpy as np

from lerf_ros.query.peaks import find_peaks


def blob(rng, centre, count, spread=0.02):
    return np.asarray(centre) + rng.normal(0.0, spread, size=(count, 3))


def test_two_clusters_found_best_first_with_extent_and_support():
    rng = np.random.default_rng(0)
    a = blob(rng, (0.0, 0.0, 0.0), 60)
    b = blob(rng, (1.0, 0.0, 0.0), 40)
    background = rng.uniform(-2, 2, size=(500, 3))
    points = np.concatenate([a, b, background])
    rel = np.concatenate([np.full(60, 0.7), np.full(40, 0.9), np.full(500, 0.3)])
    peaks = find_peaks(points, rel, threshold=0.5, scale=0.4, cluster_distance=0.05)
    assert len(peaks) == 2
    assert np.linalg.norm(peaks[0].position - (1.0, 0.0, 0.0)) < 0.02
    assert peaks[0].relevancy > peaks[1].relevancy
    assert peaks[0].support == 40 and peaks[1].support == 60
    assert np.all(peaks[1].extent > 0.03) and np.all(peaks[1].extent < 0.2)
    assert peaks[0].scale == 0.4


def test_no_points_above_threshold_gives_no_peaks_and_small_clusters_are_dropped():
    points = np.zeros((10, 3))
    assert find_peaks(points, np.full(10, 0.2), 0.5, 0.1, 0.05) == []
    lonely = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    assert find_peaks(lonely, np.array([0.9, 0.9]), 0.5, 0.1, 0.05, min_support=2) == []


def test_max_results_limits_output():
    rng = np.random.default_rng(1)
    points = np.concatenate([blob(rng, (i, 0, 0), 20) for i in range(6)])
    rel = np.repeat(np.linspace(0.6, 0.9, 6), 20)
    peaks = find_peaks(points, rel, 0.5, 0.1, 0.05, max_results=3)
    assert [round(p.position[0]) for p in peaks] == [5, 4, 3]
