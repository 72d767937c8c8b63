"""Property-based tests of :func:`validate_request`: whatever a client sends, the answer is a
clean :class:`QueryError` or a request clamped into range, never any other exception."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lerf_ros.query.config import QueryConfig
from lerf_ros.query.request import QueryError, QueryRequest, validate_request

CONFIG = QueryConfig()
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)

# Text a planner or a user could send: any code point (control characters, lone surrogates,
# unassigned, private use, separators), short or just around the length limit.
any_text = st.one_of(
    st.text(st.characters(codec=None), max_size=40),
    st.text(st.characters(categories=["Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp"]), max_size=40),
    st.integers(CONFIG.max_text_length - 2, CONFIG.max_text_length + 2).map(lambda n: "a" * n),
    st.just("x" * 100_000),
)
any_float = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, 1e-300, 2.0, 20.0, 20.000001, 1e308]),
)
any_results = st.one_of(
    st.none(), st.integers(-(2**63), 2**64), st.sampled_from([0, 1, 2**32 - 1, 2**31])
)
any_negatives = st.one_of(
    st.lists(any_text, max_size=40),
    st.integers(0, 5000).map(lambda n: [f"thing {i}" for i in range(n)]),
    st.lists(st.sampled_from(["", " ", "\x00", "\ud800", ";"]), max_size=50),
)


def check_clean(text: str) -> None:
    assert text and text == text.strip() and "  " not in text
    assert text.isprintable(), ascii(text)
    assert len(text) <= CONFIG.max_text_length


@SETTINGS
@given(
    text=any_text,
    negatives=any_negatives,
    scale=any_float,
    max_results=any_results,
    min_relevancy=any_float,
    return_cloud=st.booleans(),
)
@example("", [], None, None, None, False)
@example("   \t\n\r  ", [], None, 0, None, False)
@example("\ud800\udfff mug \x00\x1b[31m", ["\ud800"] * 5000, math.nan, 2**32 - 1, -1.0, True)
@example("mug", [], -math.inf, 2**32 - 1, math.inf, False)
def test_validate_request_refuses_cleanly_or_clamps(
    text, negatives, scale, max_results, min_relevancy, return_cloud
):
    try:
        request = validate_request(
            text, CONFIG, negatives, scale, max_results, min_relevancy, return_cloud
        )
    except QueryError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 300
        return
    assert isinstance(request, QueryRequest)
    check_clean(request.text)
    assert len(request.negatives) <= CONFIG.max_negatives
    for negative in request.negatives:
        check_clean(negative)
    assert request.scale is None or 0.0 < request.scale <= 10 * CONFIG.max_scale
    assert 1 <= request.max_results <= CONFIG.max_results_limit
    assert isinstance(request.max_results, int)
    assert 0.0 < request.min_relevancy < 1.0 and math.isfinite(request.min_relevancy)
    assert request.return_cloud is return_cloud


@SETTINGS
@given(text=any_text)
def test_text_is_refused_exactly_when_nothing_printable_is_left_or_it_is_too_long(text):
    try:
        request = validate_request(text, CONFIG)
    except QueryError as error:
        too_long = len(text) > CONFIG.max_text_length
        assert too_long or "empty" in str(error), (ascii(text), str(error))
        return
    assert len(text) <= CONFIG.max_text_length
    check_clean(request.text)


@SETTINGS
@given(
    object_text=st.text(st.characters(codec="utf-8"), max_size=20),
    part_text=st.text(st.characters(codec="utf-8"), max_size=20),
)
@example("", "")
@example("mug", "")
@example("", "handle")
@example(" ; ", ";;")
@example("mug", "\x00\t")
def test_object_part_halves_validate_or_refuse_cleanly(object_text, part_text):
    """``~/get_targets`` splits "object;part" and validates each half as a query: an empty
    half is a clear refusal (the node answers success=false or treats it as no part)."""
    for half in f"{object_text};{part_text}".split(";", 1):
        try:
            check_clean(validate_request(half, CONFIG).text)
        except QueryError as error:
            assert str(error) and "\n" not in str(error)


@SETTINGS
@given(max_results=st.floats(allow_nan=True, allow_infinity=True))
def test_non_integer_max_results_from_python_callers_never_escape_as_other_errors(max_results):
    try:
        request = validate_request("mug", CONFIG, max_results=max_results)
    except QueryError:
        return
    assert 1 <= request.max_results <= CONFIG.max_results_limit


@SETTINGS
@given(value=st.one_of(st.binary(max_size=8), st.integers(), st.none(), st.lists(st.text())))
def test_non_string_text_or_negatives_are_refused_or_ignored(value):
    try:
        validate_request(value, CONFIG)
    except QueryError:
        pass
    else:
        raise AssertionError(f"{value!r} accepted as query text")
    request = validate_request("mug", CONFIG, negatives=[value, "plate"])
    assert request.negatives == ["plate"]
