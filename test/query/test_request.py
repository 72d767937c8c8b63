import math

import pytest

from lerf_ros.query.config import QueryConfig
from lerf_ros.query.request import QueryError, QueryRequest, clean_text, validate_request

CONFIG = QueryConfig()


def test_defaults_apply_to_a_plain_request():
    request = validate_request("red ball", CONFIG)
    assert request == QueryRequest(
        "red ball", [], None, CONFIG.max_results, CONFIG.min_relevancy, False
    )


@pytest.mark.parametrize(
    ("asked", "given"),
    [
        (None, CONFIG.max_results),
        (0, CONFIG.max_results),
        (3, 3),
        (CONFIG.max_results_limit, CONFIG.max_results_limit),
        (CONFIG.max_results_limit + 1, CONFIG.max_results_limit),
        (2**32 - 1, CONFIG.max_results_limit),
    ],
)
def test_max_results_zero_means_default_and_huge_values_are_clamped(asked, given):
    assert validate_request("mug", CONFIG, max_results=asked).max_results == given


@pytest.mark.parametrize("scale", [0.0, -0.5, -1e9])
def test_zero_or_negative_scale_means_sweep(scale):
    assert validate_request("mug", CONFIG, scale=scale).scale is None


def test_a_positive_scale_is_kept():
    assert validate_request("mug", CONFIG, scale=0.25).scale == 0.25


@pytest.mark.parametrize("scale", [math.nan, math.inf, -math.inf])
def test_non_finite_scale_is_refused_by_name(scale):
    with pytest.raises(QueryError, match="scale must be a finite number"):
        validate_request("mug", CONFIG, scale=scale)


def test_a_scale_far_beyond_the_sweep_is_refused():
    with pytest.raises(QueryError, match="beyond"):
        validate_request("mug", CONFIG, scale=10 * CONFIG.max_scale + 1)


def test_control_characters_are_stripped_and_space_collapsed():
    request = validate_request("  red\x00ball\t\n\x1b\u200b  on\r\nthe table\x7f ", CONFIG)
    assert request.text == "red ball on the table"
    assert all(ch.isprintable() for ch in request.text)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\n\t", "\u200b\u200b"])
def test_empty_text_after_cleaning_is_refused(text):
    with pytest.raises(QueryError, match="query text is empty"):
        validate_request(text, CONFIG)


def test_too_long_text_is_refused_and_the_limit_itself_is_accepted():
    limit = CONFIG.max_text_length
    assert validate_request("a" * limit, CONFIG).text == "a" * limit
    with pytest.raises(QueryError, match=rf"{limit + 1} characters long \(limit {limit}\)"):
        validate_request("a" * (limit + 1), CONFIG)
    with pytest.raises(QueryError, match="limit"):
        validate_request("x" * 100_000, CONFIG)


def test_non_string_text_is_refused():
    with pytest.raises(QueryError, match="must be a string"):
        validate_request(b"mug", CONFIG)  # type: ignore[arg-type]


def test_thousands_of_negatives_are_truncated_and_bad_ones_dropped():
    negatives = [f"thing {i}" for i in range(5000)]
    request = validate_request("mug", CONFIG, negatives=negatives)
    assert request.negatives == negatives[: CONFIG.max_negatives]
    messy = ["", "  ", "x" * (CONFIG.max_text_length + 1), "cup\x00handle", "plate"]
    assert validate_request("mug", CONFIG, negatives=messy).negatives == ["cup handle", "plate"]


def test_min_relevancy_defaults_when_unset_or_invalid_and_stays_below_one():
    assert validate_request("mug", CONFIG, min_relevancy=0.7).min_relevancy == 0.7
    for value in (None, 0.0, -1.0, math.nan, math.inf):
        assert validate_request("mug", CONFIG, min_relevancy=value).min_relevancy == (
            CONFIG.min_relevancy
        )
    assert validate_request("mug", CONFIG, min_relevancy=5.0).min_relevancy < 1.0


def test_clean_text_names_what_it_checks():
    with pytest.raises(QueryError, match="negative is empty"):
        clean_text(" ", 10, "negative")
