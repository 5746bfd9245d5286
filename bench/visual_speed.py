"""Speed and memory of the region index (visual search's candidates) at scale, synthetic.

    python bench/visual_speed.py [--images 1000000] [--queries 200]

Each synthetic image has a random 192-bit dhash whose len(WINDOWS) windows differ from it by
10–40 bits (a picture's windows are alike); queries are either near one archived window
(0–24 bits away: a found repost) or random (a picture not archived), half each, four query
rows each (whole frame and content box, direct and mirrored) as a real query has. Prints build
time, the index's bytes per image and the p50/p95 of RegionIndex.nearest per query, with a
brute-force numpy scan over the same windows in the same run as the baseline.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from booru.func.similarity.region_index import KEYS, RegionIndex  # noqa: E402


def flip(rng: np.random.Generator, words: np.ndarray, low: int, high: int) -> np.ndarray:
    """Each row of `words` with low..high random bits flipped."""
    out = words.copy()
    counts = rng.integers(low, high + 1, len(words))
    for n, count in enumerate(counts):
        for bit in rng.choice(192, count, replace=False):
            out[n, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def windows(rng: np.random.Generator, images: int) -> np.ndarray:
    base = rng.integers(0, 2**64, size=(images, 3), dtype=np.uint64)
    noise = rng.random((images, KEYS, 192)) < rng.uniform(10 / 192, 40 / 192, (images, KEYS, 1))
    words = np.packbits(noise.reshape(images, KEYS, 3, 64), axis=-1).view(">u8").astype(np.uint64)[..., 0]
    return base[:, None, :] ^ words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=10)
    options = parser.parse_args()
    rng = np.random.default_rng(13)
    dhashes = np.concatenate([windows(rng, min(20_000, options.images - start))
                              for start in range(0, options.images, 20_000)])
    ids = np.arange(options.images, dtype=np.int64)
    started = time.perf_counter()
    index = RegionIndex(ids, dhashes)
    built = time.perf_counter() - started
    print(f"{options.images} images × {KEYS} windows: built in {built:.1f} s, {index.nbytes / options.images:.0f} "
          f"bytes per image ({index.nbytes / 2**20:.0f} MiB)")
    flat = dhashes.reshape(-1, 3)
    for kind in ("found", "not archived"):
        timings, scans = [], []
        for _ in range(options.queries // 2):
            if kind == "found":
                rows = flip(rng, flat[rng.integers(0, len(flat), 1)].repeat(4, axis=0), 0, 24)
            else:
                rows = rng.integers(0, 2**64, size=(4, 3), dtype=np.uint64)
            mirrored = np.array([False, False, True, True])
            started = time.perf_counter()
            index.nearest(rows, mirrored, options.limit)
            timings.append(time.perf_counter() - started)
            if len(scans) < 10:
                started = time.perf_counter()
                for words in rows:
                    distance = (np.bitwise_count(flat[:, 0] ^ words[0]) + np.bitwise_count(flat[:, 1] ^ words[1])
                                + np.bitwise_count(flat[:, 2] ^ words[2]))
                    np.argpartition(distance, options.limit * KEYS)[: options.limit * KEYS]
                scans.append(time.perf_counter() - started)
        t, b = np.array(timings) * 1000, np.array(scans) * 1000
        print(f"{kind:<13} RegionIndex.nearest p50 {np.median(t):6.1f} ms p95 {np.percentile(t, 95):6.1f} ms;"
              f" brute-force scan p50 {np.median(b):6.1f} ms ({len(t)} queries of 4 rows)")


if __name__ == "__main__":
    main()
