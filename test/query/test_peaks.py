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


def test_two_hills_in_one_connected_cloud_give_two_peaks():
    # A vase and a box joined by a less relevant strip: one connected cloud above the
    # threshold with two hills, which must give two peaks, each centred on its own object.
    rng = np.random.default_rng(2)
    vase = blob(rng, (0.0, 0.0, 0.0), 200, spread=0.015)
    box = blob(rng, (0.2, 0.0, 0.0), 200, spread=0.015)
    bridge = np.linspace((0.0, 0.0, 0.0), (0.2, 0.0, 0.0), 40)
    points = np.concatenate([vase, box, bridge])
    rel = np.concatenate([np.full(200, 0.9), np.full(200, 0.7), np.full(40, 0.6)])
    single = find_peaks(points, rel, threshold=0.55, scale=0.2, cluster_distance=0.05)
    assert len(single) == 2
    assert np.linalg.norm(single[0].position - (0.0, 0.0, 0.0)) < 0.02
    assert np.linalg.norm(single[1].position - (0.2, 0.0, 0.0)) < 0.02
    assert single[0].support + single[1].support == len(points)


def test_weak_neighbour_does_not_drag_the_centre():
    rng = np.random.default_rng(3)
    target = blob(rng, (0.0, 0.0, 0.0), 100, spread=0.02)
    neighbour = blob(rng, (0.12, 0.0, 0.0), 400, spread=0.03)
    points = np.concatenate([target, neighbour])
    rel = np.concatenate([np.full(100, 0.9), np.full(400, 0.58)])
    peaks = find_peaks(points, rel, threshold=0.55, scale=0.2, cluster_distance=0.05)
    assert len(peaks) == 1
    assert np.linalg.norm(peaks[0].position) < 0.02
    assert peaks[0].support == 500


def test_speckled_relevancy_on_one_object_stays_one_peak():
    rng = np.random.default_rng(4)
    points = blob(rng, (0.0, 0.0, 0.0), 2000, spread=0.05)
    rel = rng.uniform(0.7, 0.9, size=2000)
    peaks = find_peaks(points, rel, threshold=0.55, scale=0.2, cluster_distance=0.02)
    # (a few far Gaussian-tail points are isolated and dropped as too small)
    assert len(peaks) == 1 and peaks[0].support > 1900
