"""Validation of language queries coming from users and planners (never trusted)."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from lerf_ros.errors import QueryError
from lerf_ros.query.config import QueryConfig


@dataclass
class QueryRequest:
    """A language query, validated and clamped by :func:`validate_request`."""

    text: str
    """What to look for."""
    negatives: list[str] = field(default_factory=list)
    """Extra negatives beside the canonical phrases."""
    scale: float | None = None
    """Fixed scale in metres; None sweeps."""
    max_results: int = 5
    """Peaks to return at most."""
    min_relevancy: float = 0.55
    """Relevancy threshold of peak points."""
    return_cloud: bool = False
    """Whether the caller wants the relevancy cloud."""


def clean_text(text: str, limit: int, what: str = "query text") -> str:
    """Strip control characters and surrounding space; refuse empty or over-long text."""
    if not isinstance(text, str):
        raise QueryError(f"{what} must be a string")
    if len(text) > limit:
        raise QueryError(f"{what} is {len(text)} characters long (limit {limit})")
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QueryError(f"{what} is empty")
    return cleaned


def _number(value: object, what: str) -> float | None:
    """``value`` as a float (None stays None); anything else is a QueryError naming ``what``."""
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise QueryError(f"{what} must be a number, got {type(value).__name__}") from None


def validate_request(
    text: str,
    config: QueryConfig,
    negatives: list[str] | tuple[str, ...] = (),
    scale: float | None = None,
    max_results: int | None = None,
    min_relevancy: float | None = None,
    return_cloud: bool = False,
) -> QueryRequest:
    """Build a :class:`QueryRequest`, applying defaults (0 / <= 0 mean default) and clamps."""
    cleaned = clean_text(text, config.max_text_length)
    cleaned_negatives = []
    if isinstance(negatives, str):
        negatives = [negatives]
    for item in list(negatives or ())[: config.max_negatives]:
        try:
            cleaned_negatives.append(clean_text(item, config.max_text_length, "negative"))
        except QueryError:
            continue  # empty or oversized negatives are ignored, the query still runs
    scale = _number(scale, "scale")
    if scale is not None and not math.isfinite(scale):
        raise QueryError(f"scale must be a finite number of metres, got {scale}")
    fixed_scale = scale if scale is not None and scale > 0 else None
    if fixed_scale is not None and fixed_scale > 10 * config.max_scale:
        raise QueryError(f"scale {fixed_scale} m is beyond {10 * config.max_scale} m")
    asked = max_results
    if asked is not None and not isinstance(asked, int):
        asked = _number(asked, "max_results")
        if not math.isfinite(asked):
            raise QueryError(f"max_results must be a whole number, got {asked}")
    results = config.max_results if not asked else int(asked)
    results = max(1, min(results, config.max_results_limit))
    threshold = config.min_relevancy
    relevancy = _number(min_relevancy, "min_relevancy")
    if relevancy is not None and math.isfinite(relevancy) and relevancy > 0:
        threshold = min(relevancy, 0.999)
    return QueryRequest(cleaned, cleaned_negatives, fixed_scale, results, threshold, return_cloud)
