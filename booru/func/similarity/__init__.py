"""Reverse image search: fingerprint the query, search exact in-memory indexes,
describe the hits.

Modules, one concern each:
* distances: the canonical distances (dhash with clipped bits, L1, L2) and fingerprint arrays;
* groups, index: identical fingerprints grouped; base + delta indexes with immutable snapshots;
* dhash_index, histogram_index, combined: the index of each kind and the combined measure;
* nearest: the exact nearest images without a radius, from one scan of the dhash groups;
* table_rows, follow: reading the fingerprint tables; loading them into this process's indexes
  and following new rows;
* stored: index bases kept as files every gunicorn worker maps (one copy per machine);
* planner: what each algorithm reads, default radii, the queries an image turns into, the
  searches tried in turn;
* confidence: `match` / `likely` / `weak` and the 0–100 score of a distance;
* query, results, search: the query image, hits described as pictures with their posts, the
  entry point.

The brute-force oracles the indexes are tested against live in tests/booru/oracle.py.

Distances: `combined` (the default), then the seed's three:
* `combined`: `dhash_xor_norm` + COMBINED_WEIGHT × `abs_norm`, mirror-aware like dhash. The
  dhash tells pictures apart by structure, the histogram by colour: together they rank the
  original first where either alone ties or errs (flat gradients sharing one dhash, captions,
  crops; bench/search_quality.py). Images within the radius in dhash bits are its candidates.
* `dhash_xor_norm`: bits differing between the 192-bit dhashes (3 channels × 64), 0..192; the
  query's mirrored dhash is searched too and a hit found through it says `mirrored: true`.
  Where the query has bits comparing two clipped cells (both ≥ 250 or both ≤ 5: blown
  highlights, crushed shadows), the distance is the smaller of that count and the count
  without them scaled to 192 bits (DhashQuery), so a brightened copy whose light background
  clipped still finds its original.
* `abs_norm`: L1 distance between the 12-bin histograms, each channel divided by its pixel
  count (so each channel sums to 1), 0..6.
* `eucl_norm`: L2 distance between the same normalised histograms, 0..√6.
"""
from booru.func.similarity.follow import followers, preload, warm_up
from booru.func.similarity.query import fetch_image, fingerprint_query
from booru.func.similarity.search import search_fingerprint

__all__ = ["fetch_image", "fingerprint_query", "followers", "preload", "search_fingerprint", "warm_up"]
