"""How sure a hit is: one function, thresholds per algorithm as named constants.

A hit's `confidence` is `match` when its distance is at most MATCH[algorithm] (the same
picture, edited at most as reposts commonly are), `likely` up to LIKELY[algorithm], `weak`
beyond (the nearest pictures, given because a search always answers with `q` of them).
The thresholds are provisional until calibrated by bench/search_quality.py: MATCH at about
the distance a recompressed or resized copy keeps, LIKELY at the default search radius
(about the p95 distance of a captioned or cropped copy of a photo).
"""
from __future__ import annotations

CONFIDENCES = ("match", "likely", "weak")
MATCH = {"combined": 16.0, "dhash_xor_norm": 12.0, "abs_norm": 0.1, "eucl_norm": 0.04}
LIKELY = {"combined": 40.0, "dhash_xor_norm": 32.0, "abs_norm": 0.4, "eucl_norm": 0.15}
# Distance at which the score reaches 0: about the median distance between different pictures
# of the corpus (90 bits + 3 × 3.2, 90 bits, 3.2, 1.2).
# `visual` (region dhash bits) as dhash_xor_norm; its confidence is visual.confidence.
SCORE_SCALE = {"combined": 100.0, "dhash_xor_norm": 96.0, "abs_norm": 3.0, "eucl_norm": 1.2, "visual": 96.0}


def confidence(distance: float, algorithm: str) -> str:
    """`match`, `likely` or `weak` for a hit at `distance` by `algorithm`."""
    if distance <= MATCH[algorithm]:
        return "match"
    if distance <= LIKELY[algorithm]:
        return "likely"
    return "weak"


def score(distance: float, algorithm: str) -> float:
    """0–100, 100 for identical fingerprints, 0 at about the distance of unrelated images."""
    return round(max(0.0, 100.0 * (1.0 - distance / SCORE_SCALE[algorithm])), 2)
