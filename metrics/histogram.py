"""The fixed log-scale duration histogram kept in every per-minute roll-up, and percentiles from it.

Bucket 0 holds durations up to 1 ms; bucket ``i`` (1..``BUCKETS - 1``) holds ``(2^((i-1)/2), 2^(i/2)]`` ms,
so each bucket is sqrt(2) wide and 48 buckets reach past 900 s (the last one also takes anything
longer). Counts of any set of minutes add up bucket by bucket, so a percentile over any range is read
from the summed counts: the rank's bucket, interpolated geometrically inside it and capped at the
largest duration seen. The estimate is within one bucket (about +-19 %) of the true value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BUCKETS = 48
BUCKET_COLUMNS = tuple(f"d{i}" for i in range(BUCKETS))


def bucket_upper_ms(index: int) -> float:
    return 2.0 ** (index / 2)


def bucket_of(duration_ms: float) -> int:
    """The bucket a duration falls in."""
    if duration_ms <= 1.0:
        return 0
    return min(BUCKETS - 1, math.ceil(2 * math.log2(duration_ms) - 1e-9))


def percentile(counts: Sequence[int], p: float, *, maximum: float | None = None) -> float | None:
    """The ``p``-th percentile (0 < p <= 100) of the durations counted in ``counts``; ``None`` if empty."""
    total = sum(counts)
    if total == 0:
        return None
    rank = p / 100.0 * total
    seen = 0
    for index, count in enumerate(counts):
        if count == 0:
            continue
        if seen + count >= rank:
            fraction = (rank - seen) / count
            upper = bucket_upper_ms(index)
            if index == 0:
                value = upper * fraction
            else:
                lower = bucket_upper_ms(index - 1)
                value = lower * (upper / lower) ** fraction
            return min(value, maximum) if maximum is not None else value
        seen += count
    return maximum
