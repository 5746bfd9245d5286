"""Speed and memory of the `visual` search at scale, in process, synthetic distractors.

    python bench/visual_speed.py [--images 1000000] [--queries 200] [--searches 60]

1. The region index alone. Each synthetic image has a random 192-bit dhash whose len(WINDOWS)
   windows differ from it by 10–40 bits (a picture's windows are alike); queries are either near
   one archived window (0–24 bits away: a found repost) or random (a picture not archived), half
   each, with two query rows (a picture without bars: its frame, direct and mirrored) or four
   (one with bars or in a screenshot: its content box and its frame). Prints build time, the
   index's bytes per image and the p50/p95 of RegionIndex.nearest per query, with a
   brute-force numpy scan over the same windows in the same run as the baseline.
2. The whole search as the endpoint runs it, minus the database: the same distractors with
   seed fingerprints (bench/support.py) in booru's dhash and histogram indexes, plus PICTURES
   photo-like pictures archived as Coco stores them (seed fingerprint, thumbnail, region
   dhashes from it). A query is an edit of an archived picture (found) or a picture not
   archived, half each: its seed fingerprint and visual query are made from the upload's bytes
   (`decode`), then `combined`'s nearest few, `visual_search` and verification against
   thumbnails decoded and described with ORB per candidate as booru does (`search`). The
   baseline is `combined` alone (booru's previous default) on the same indexes in the same run.
   Added later: `answer`, all the index work of the endpoint's answer, which `search` leaves
   out the fill of: the global candidates and the fill's `combined` searches as
   planner.visual_plan plans them, `visual_search` between them, the fill asked for `--limit`
   more images than visual found (the endpoint asks for `--limit` more pictures than it found).
   Both are timed on every query in the same run; `search` keeps its first rule.
   Added later still, a third kind of query: the same five edits of pictures not archived
   (`edited, not archived`), whose bars and borders make the second look cut the whole frame
   as well as the content box; the first two kinds keep their rules.
   Added after them, a fourth: pictures not archived under a vignette (`vignetted, not
   archived`: tests.photos.vignetted, strength 0.9), whose darkened corners make the second look
   search the box with the vignette divided out, direct and mirrored: the most a query's second
   look costs; the others keep their rules.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402

from support import fingerprints, region_windows  # noqa: E402

from booru.func.similarity import visual  # noqa: E402
from booru.func.similarity.combined import combined_search  # noqa: E402
from booru.func.similarity.dhash_index import DhashIndex  # noqa: E402
from booru.func.similarity.distances import dhash_words, normalise_histograms  # noqa: E402
from booru.func.similarity.histogram_index import HistogramIndex  # noqa: E402
from booru.func.similarity.planner import COMBINED_WEIGHT, DEFAULT_RADIUS, dhash_queries, visual_plan  # noqa: E402
from booru.func.similarity.region_index import KEYS, RegionIndex  # noqa: E402
from booru.func.similarity.verify import Features, features  # noqa: E402
from common.fingerprint import CHANNELS, fingerprint, fingerprint_rendered, regions_array  # noqa: E402
from tests.photos import jpeg, picture, vignetted  # noqa: E402

PICTURES = 40  # photo-like pictures archived among the distractors
POOL = 40  # distinct thumbnails the distractors show (decoded and described per candidate all the same)


def flip(rng: np.random.Generator, words: np.ndarray, low: int, high: int) -> np.ndarray:
    """Each row of `words` with low..high random bits flipped."""
    out = words.copy()
    counts = rng.integers(low, high + 1, len(words))
    for n, count in enumerate(counts):
        for bit in rng.choice(192, count, replace=False):
            out[n, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def _ms(samples: list[float]) -> str:
    t = np.array(samples) * 1000
    return f"p50 {np.median(t):6.1f} ms p95 {np.percentile(t, 95):6.1f} ms"


def index_phase(options: argparse.Namespace, rng: np.random.Generator) -> np.ndarray:
    """The region index alone; returns the synthetic windows (images × KEYS × 3)."""
    dhashes = region_windows(rng, options.images, KEYS)
    ids = np.arange(options.images, dtype=np.int64)
    started = time.perf_counter()
    index = RegionIndex(ids, dhashes)
    built = time.perf_counter() - started
    print(f"{options.images} images × {KEYS} windows: built in {built:.1f} s, {index.nbytes / options.images:.0f} "
          f"bytes per image ({index.nbytes / 2**20:.0f} MiB)")
    flat = dhashes.reshape(-1, 3)
    for rows_count in (2, 4):
        for kind in ("found", "not archived"):
            timings, scans = [], []
            for _ in range(options.queries // 2):
                if kind == "found":
                    rows = flip(rng, flat[rng.integers(0, len(flat), 1)].repeat(rows_count, axis=0), 0, 24)
                else:
                    rows = rng.integers(0, 2**64, size=(rows_count, 3), dtype=np.uint64)
                mirrored = np.arange(rows_count) >= rows_count // 2
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
            print(f"{rows_count} rows, {kind:<13} RegionIndex.nearest {_ms(timings)};"
                  f" brute-force scan p50 {np.median(scans) * 1000:6.1f} ms ({len(timings)} queries)")
    del index
    return dhashes


def _edit(pixels: np.ndarray, n: int) -> np.ndarray:
    """One of five common repost edits, in turn."""
    height, width = pixels.shape[:2]
    kind = n % 5
    if kind == 0:
        return pixels[height // 10: height - height // 10, width // 10: width - width // 10]
    if kind == 1:
        bar = np.full((height // 5, width, 3), 255, np.uint8)
        cv2.putText(bar, "when the repost hits", (10, height // 8), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
        return np.vstack([bar, pixels])
    if kind == 2:
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), 5, 1.0)
        return cv2.warpAffine(pixels, turn, (width, height))
    if kind == 3:
        return cv2.resize(pixels, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(pixels, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(240, 240, 240))


def _seed_of(found) -> tuple[np.ndarray, np.ndarray]:
    words = dhash_words(*(found.dhash[c] for c in CHANNELS))
    counts = np.array([[v for c in CHANNELS for v in found.histogram[c]]])
    return words, counts


def search_phase(options: argparse.Namespace, rng: np.random.Generator, distractor_windows: np.ndarray) -> None:
    """The whole visual search in process at this size, against combined alone."""
    images = options.images
    words, counts = fingerprints(images)
    archived = [fingerprint(jpeg(picture(1000 + n)), thumbnail_size=320) for n in range(PICTURES)]
    ids = np.arange(images + PICTURES, dtype=np.int64)
    all_words = np.concatenate([words, np.stack([_seed_of(f)[0] for f in archived])])
    all_counts = np.concatenate([counts, np.concatenate([_seed_of(f)[1] for f in archived])])
    started = time.perf_counter()
    regions = RegionIndex(ids, np.concatenate([distractor_windows,
                                               np.stack([regions_array(f.regions) for f in archived])]))
    dhashes = DhashIndex(ids, all_words)
    histograms = HistogramIndex(ids, normalise_histograms(all_counts))
    built = time.perf_counter() - started
    total = regions.nbytes + dhashes.nbytes + histograms.nbytes
    print(f"\nwhole search: {images} distractors + {PICTURES} pictures; indexes built in {built:.1f} s; "
          f"{total / len(ids):.0f} bytes per image in all (region {regions.nbytes / len(ids):.0f}, "
          f"dhash {dhashes.nbytes / len(ids):.0f}, histogram {histograms.nbytes / len(ids):.0f}), "
          f"{total / 2**30 * 1e6 / len(ids):.2f} GiB per million")
    pool = [jpeg(cv2.resize(picture(5000 + n), (320, 240), interpolation=cv2.INTER_AREA), 85) for n in range(POOL)]
    thumbnails = {images + n: f.thumbnail.jpeg for n, f in enumerate(archived)}

    def stored(asked: list[int]) -> dict[int, Features]:
        """As booru's stored_features: each candidate's thumbnail decoded and described."""
        found = {}
        for image_id in asked:
            data = thumbnails.get(image_id, pool[image_id % POOL])
            pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)
            found[image_id] = features(pixels)
        return found

    def colours(asked: list[int]) -> dict[int, np.ndarray]:
        held, values = histograms.snapshot.values_of(np.asarray(asked, dtype=np.int64))
        return {int(i): values[n] for n, i in enumerate(asked) if held[n]}

    for kind in ("found", "not archived", "edited, not archived", "vignetted, not archived"):
        decoding, searching, answering, baseline, right = [], [], [], [], 0
        for n in range(options.searches // 2):
            original = n % PICTURES
            pixels = {"found": lambda: _edit(picture(1000 + original), n), "not archived": lambda: picture(9000 + n),
                      "edited, not archived": lambda: _edit(picture(9000 + n), n),
                      "vignetted, not archived": lambda: vignetted(picture(9000 + n), 0.9)}[kind]()
            data = jpeg(pixels)
            started = time.perf_counter()
            seed, small = fingerprint_rendered(data, query=True)  # one decode, as the endpoint does
            query = visual.VisualQuery.of(small, seed.width, seed.height)
            decoded = time.perf_counter()
            histogram = normalise_histograms(_seed_of(seed)[1])[0]
            nearest = combined_search(dhashes, histograms, dhash_queries(seed), histogram, DEFAULT_RADIUS["combined"],
                                      visual.GLOBAL_CANDIDATES, COMBINED_WEIGHT)
            hits = visual.visual_search(query, regions, stored, options.limit, colours=colours,
                                        global_ids=nearest.ids)
            done = time.perf_counter()
            decoding.append(decoded - started)
            searching.append(done - decoded)
            right += bool(hits) and hits[0].id == images + original
            fresh = visual.VisualQuery.of(small, seed.width, seed.height)  # its ORB features not made yet
            started = time.perf_counter()
            answer(fresh, seed, regions, {"dhash": dhashes, "histogram": histograms}, stored, colours, options.limit)
            answering.append(time.perf_counter() - started)
            started = time.perf_counter()
            combined_search(dhashes, histograms, dhash_queries(seed), histogram, DEFAULT_RADIUS["combined"],
                            options.limit, COMBINED_WEIGHT)
            baseline.append(time.perf_counter() - started)
        share = f", original first in {right}/{len(searching)}" if kind == "found" else ""
        print(f"{kind:<24} visual search {_ms(searching)} (decode {_ms(decoding)}); answer {_ms(answering)}; "
              f"combined alone {_ms(baseline)}; ×{np.median(searching) / np.median(baseline):.1f}{share}")


def answer(query: visual.VisualQuery, seed, regions: RegionIndex, indexes: dict, stored, colours, limit: int) -> None:
    """The index work of the endpoint's `visual` answer: its global candidates, visual_search,
    then its fill's `combined` searches (the first holding `limit` images, as the endpoint's)."""
    global_ids, plan = visual_plan(indexes, seed, limit, None)
    hits = visual.visual_search(query, regions, stored, limit, colours=colours, global_ids=global_ids)
    for search, complete in plan:
        if len(search(limit + len(hits))) >= limit or complete:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="queries of the region index alone")
    parser.add_argument("--searches", type=int, default=60, help="whole searches (0: skip)")
    parser.add_argument("--limit", type=int, default=10)
    options = parser.parse_args()
    rng = np.random.default_rng(13)
    distractors = index_phase(options, rng)
    if options.searches:
        search_phase(options, rng, distractors)


if __name__ == "__main__":
    main()
