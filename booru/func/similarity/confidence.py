"""How sure a hit is: one function, thresholds per algorithm as named constants.

A hit's `confidence` is `match` when its distance is at most MATCH[algorithm] (the same
picture), `likely` up to LIKELY[algorithm], `weak` beyond (the nearest pictures, given because
a search always answers with `q` of them). `visual` judges its own hits (visual.confidence).

Calibrated by bench/search_quality.py (`calibrate_seed`) on its tuning photos: MATCH is the
largest distance within which at most 1 % of the nearest hits of queries of photos that are not
in the archive fall, LIKELY the one for 10 %, each rounded down. Histograms alone cannot tell
a picture from another of the same colours, so their `match` is rare by design. The bench's
archive is small: a larger archive puts more unrelated pictures near a query, so these are
upper bounds rather than margins.
"""
from __future__ import annotations

CONFIDENCES = ("match", "likely", "weak")
MATCH = {"combined": 20.0, "dhash_xor_norm": 14.0, "abs_norm": 0.0025, "eucl_norm": 0.0012}
LIKELY = {"combined": 40.0, "dhash_xor_norm": 31.0, "abs_norm": 0.19, "eucl_norm": 0.07}
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
