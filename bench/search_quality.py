"""Search quality on real images: recall of transformed copies, and where their distances lie.

    python bench/corpus.py && python bench/search_quality.py [--limit N] [--workers 2]

Every corpus image is fingerprinted (common.fingerprint, as Coco does) into the exact indexes
booru searches (booru.func.similarity). Each image is then queried with transformed copies
(resize 50 %, JPEG q75 / q50, +20 % brightness, a caption overlaid, 5 % crop, horizontal flip),
fingerprinted as booru's similarity endpoint does, and searched with each algorithm:

* recall@1 / recall@10 without a radius (and R@1 tie: the original is among the hits tied at
  the best distance, which the id order may put second) (ranking quality) and recall@1 with the default radius
  (what a user gets), counting a hit as right when it is the original or the same picture at
  another resolution (the corpus ships wallpapers in several sizes: 32×32 grey thumbnails,
  squashed to a square as the fingerprints are, differing by < 3/255 on average, or by < 4/255
  at the same aspect ratio);
* reported for the whole corpus and for its photos and wallpapers alone (no clip art, no icons,
  no sprite with more than 5 % transparent pixels, not a nearly flat image whose dhash has
  fewer than 24 of 192 bits set: flat or mostly transparent files all share the all-zero dhash
  and cannot be told apart by any search over these fingerprints);
* `combined` (booru's default) is dhash + 3 × abs_norm, `dhash` the mirror-aware dhash (both
  leave out the query's clipped bits, as booru does), `dhash (seed)` the plain dhash without the
  mirrored query, as the seed searched;
* the distance from each query to its original per transform (p50 / p95 / max), and the
  distances between different pictures (to see what a radius lets in).
"""
from __future__ import annotations

import argparse
import io
import os
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from booru.func.similarity.combined import combined_search  # noqa: E402
from booru.func.similarity.dhash_index import DhashIndex  # noqa: E402
from booru.func.similarity.distances import hamming, l1, l2, normalise_histograms  # noqa: E402
from booru.func.similarity.histogram_index import HistogramIndex  # noqa: E402
from booru.func.similarity.planner import COMBINED_WEIGHT, DEFAULT_RADIUS, NORM_P, dhash_queries  # noqa: E402
from common.fingerprint import CHANNELS, ImageError, decode, fingerprint  # noqa: E402

CORPUS_LIST = Path(__file__).resolve().parent / "corpus" / "images.txt"
TRANSFORMS = ("resize50", "jpeg75", "jpeg50", "bright20", "caption", "crop5", "flip")
ALGORITHMS = ("combined", "dhash", "dhash (seed)", "abs_norm", "eucl_norm")
SAME_PICTURE_MAE = 3.0  # any aspect ratio
SAME_SHAPE_MAE = 4.0  # the same aspect ratio (within 1 %): re-rendered at another size
TRANSPARENT_SHARE = 0.05  # more transparent pixels than this: a sprite, not a photo or wallpaper


def _jpeg(picture: Image.Image, quality: int = 95) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _caption(picture: Image.Image) -> Image.Image:
    """Meme-style text over the top and bottom, white with a black outline."""
    captioned = picture.copy()
    pen = ImageDraw.Draw(captioned)
    size = max(12, picture.height // 12)
    font = ImageFont.load_default(size=size)
    for y, words in ((picture.height // 40, "WHEN YOU SEE IT"), (picture.height - size * 3 // 2, "REPOST OF THE YEAR")):
        pen.text((picture.width // 10, y), words, font=font, fill="white", stroke_width=max(1, size // 12),
                 stroke_fill="black")
    return captioned


def transform(picture: Image.Image, name: str) -> bytes:
    width, height = picture.size
    if name == "resize50":
        return _jpeg(picture.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS))
    if name == "jpeg75":
        return _jpeg(picture, 75)
    if name == "jpeg50":
        return _jpeg(picture, 50)
    if name == "bright20":
        return _jpeg(ImageEnhance.Brightness(picture).enhance(1.2))
    if name == "caption":
        return _jpeg(_caption(picture))
    if name == "crop5":  # 5 % of each dimension cut, 2.5 % from each side
        dx, dy = round(width * 0.025), round(height * 0.025)
        return _jpeg(picture.crop((dx, dy, width - dx, height - dy)))
    if name == "flip":
        return _jpeg(ImageOps.mirror(picture))
    raise ValueError(name)


def _vectors(fp):
    """(dhash query, mirrored dhash query, normalised histogram), as booru searches them."""
    words, mirrored = dhash_queries(fp)
    counts = np.array([[v for c in CHANNELS for v in fp.histogram[c]]])
    return words, mirrored, normalise_histograms(counts)[0]


def transparent_share(data: bytes) -> float:
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return 0.0
    return float((np.asarray(image.convert("RGBA"))[:, :, 3] < 255).mean())


def process(path: str) -> dict | None:
    """Fingerprint one corpus image and its transformed copies (runs in a worker process)."""
    data = Path(path).read_bytes()
    try:
        original = fingerprint(data, query=True)  # as a query too: for the distances between pictures
        picture = decode(data, size=None)  # full size, upright, RGB
    except ImageError:
        return None
    thumb = np.asarray(picture.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=np.float32).ravel()
    queries = {}
    for name in TRANSFORMS:
        queries[name] = _vectors(fingerprint(transform(picture, name), query=True))
    words, _, histogram = _vectors(original)
    return {"path": path, "dhash": words.words, "as_query": words, "histogram": histogram, "thumb": thumb,
            "pixels": picture.width * picture.height, "aspect": picture.width / picture.height,
            "transparent": transparent_share(data), "queries": queries}


def same_pictures(items: list[dict]) -> list[set[int]]:
    """For each image, the images that show the same picture (itself included)."""
    thumbs = np.stack([item["thumb"] for item in items])
    aspects = np.array([item["aspect"] for item in items])
    same = []
    for n, item in enumerate(items):
        mae = np.abs(thumbs - item["thumb"]).mean(axis=1)
        same_shape = np.abs(np.log(aspects / item["aspect"])) < 0.01
        close = (mae < SAME_PICTURE_MAE) | (same_shape & (mae < SAME_SHAPE_MAE))
        same.append(set(np.flatnonzero(close).tolist()) | {n})
    return same


def photo_like(item: dict) -> bool:
    """A photo or wallpaper with structure (see the module docstring)."""
    path = item["path"]
    small = "/icons/" in path or "debian-logos" in path or "openclipart" in path
    return (not small and item["pixels"] >= 200_000 and item["transparent"] <= TRANSPARENT_SHARE
            and int(np.bitwise_count(item["dhash"]).sum()) >= 24)


def search(indexes, algorithm: str, query, radius: float, limit: int):
    words, mirrored, histogram = query
    if algorithm == "combined":
        return combined_search(indexes["dhash"], indexes["histogram"], [words, mirrored], histogram, radius, limit,
                               COMBINED_WEIGHT)
    if algorithm == "dhash":
        return indexes["dhash"].search([words, mirrored], radius, limit)
    if algorithm == "dhash (seed)":
        return indexes["dhash"].search([words.words], radius, limit)
    return indexes["histogram"].search(histogram, radius, limit, NORM_P[algorithm])


def true_distance(algorithm: str, item: dict, query) -> float:
    words, mirrored, histogram = query
    if algorithm == "combined":
        return true_distance("dhash", item, query) + COMBINED_WEIGHT * true_distance("abs_norm", item, query)
    if algorithm == "dhash":
        return float(min(words.distance(item["dhash"][None])[0], mirrored.distance(item["dhash"][None])[0]))
    if algorithm == "dhash (seed)":
        return float(hamming(item["dhash"][None], words.words)[0])
    norm = l1 if algorithm == "abs_norm" else l2
    return float(norm(item["histogram"][None], histogram)[0])


def unbounded(algorithm: str) -> float:
    return {"combined": 192.0 + COMBINED_WEIGHT * 6}.get(algorithm, 192.0 if algorithm.startswith("dhash") else 10.0)


def default_radius(algorithm: str) -> float:
    return DEFAULT_RADIUS["dhash_xor_norm" if algorithm.startswith("dhash") else algorithm]


def evaluate(items: list[dict]) -> None:
    ids = np.arange(len(items))
    indexes = {"dhash": DhashIndex(ids, np.stack([i["dhash"] for i in items])),
               "histogram": HistogramIndex(ids, np.stack([i["histogram"] for i in items]))}
    same = same_pictures(items)
    photos = [n for n, item in enumerate(items) if photo_like(item)]
    variants = sum(1 for group in same if len(group) > 1)
    print(f"{len(items)} images indexed, {len(photos)} of them photos/wallpapers; {variants} have another "
          f"size of the same picture in the corpus")
    for title, subset in (("whole corpus", list(range(len(items)))), ("photos and wallpapers", photos)):
        print(f"\n--- queries: {title} ({len(subset)}); index: the whole corpus")
        print(f"{'transform':<10} {'algorithm':<13} {'R@1':>7} {'R@1 tie':>7} {'R@10':>7} {'R@1 dflt':>8} "
              f"{'dist p50':>9} {'p95':>8} {'max':>8}")
        for name in TRANSFORMS:
            for algorithm in ALGORITHMS:
                print(recall_line(indexes, items, same, subset, name, algorithm))
            print()
    unrelated(items, same)


def recall_line(indexes, items: list[dict], same: list[set[int]], subset: list[int], name: str,
                algorithm: str) -> str:
    at1 = at1_tied = at10 = at1_default = 0
    distances = []
    for n in subset:
        item = items[n]
        query = item["queries"][name]
        distances.append(true_distance(algorithm, item, query))
        hits = search(indexes, algorithm, query, unbounded(algorithm), 10)
        ranked = hits.ids.tolist()
        at1 += bool(ranked) and ranked[0] in same[n]
        at1_tied += bool(ranked) and bool(same[n] & set(hits.ids[hits.distances == hits.distances[0]].tolist()))
        at10 += bool(same[n] & set(ranked))
        near = search(indexes, algorithm, query, default_radius(algorithm), 1).ids.tolist()
        at1_default += bool(near) and near[0] in same[n]
    d, total = np.array(distances), len(subset)
    fmt = {"combined": "{:9.1f} {:8.1f} {:8.1f}"}.get(
        algorithm, "{:9.0f} {:8.0f} {:8.0f}" if algorithm.startswith("dhash") else "{:9.3f} {:8.3f} {:8.3f}")
    return (f"{name:<10} {algorithm:<13} {at1 / total:7.1%} {at1_tied / total:7.1%} {at10 / total:7.1%} "
            f"{at1_default / total:8.1%} " + fmt.format(np.median(d), np.percentile(d, 95), d.max()))


def unrelated(items: list[dict], same: list[set[int]]) -> None:
    """Distances between different pictures: how much a radius lets in."""
    words = np.stack([i["dhash"] for i in items])
    histograms = np.stack([i["histogram"] for i in items])
    pairs = {"combined": [], "dhash": [], "abs_norm": [], "eucl_norm": []}
    for n, item in enumerate(items):
        others = np.array(sorted(set(range(n + 1, len(items))) - same[n]), dtype=np.int64)
        if len(others) == 0:
            continue
        pairs["dhash"].append(item["as_query"].distance(words[others]))
        pairs["combined"].append(pairs["dhash"][-1] + COMBINED_WEIGHT * l1(histograms[others], item["histogram"]))
        pairs["abs_norm"].append(l1(histograms[others], item["histogram"]))
        pairs["eucl_norm"].append(l2(histograms[others], item["histogram"]))
    print("different pictures: distance percentiles (p0.1 / p1 / p50) and share within the default radius")
    for algorithm, parts in pairs.items():
        d = np.concatenate(parts)
        radius = default_radius(algorithm)
        print(f"  {algorithm:<10} {np.percentile(d, 0.1):8.3f} {np.percentile(d, 1):8.3f} {np.median(d):8.3f}"
              f"   within {radius:g}: {np.mean(d <= radius):.3%} of {len(d)} pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N corpus images")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=None, help="keep the fingerprints here between runs")
    options = parser.parse_args()
    if not CORPUS_LIST.exists():
        sys.exit("no corpus: run python bench/corpus.py first")
    paths = CORPUS_LIST.read_text().split()[: options.limit]
    started = time.monotonic()
    if options.cache and options.cache.exists():
        items = pickle.loads(options.cache.read_bytes())
    else:
        with ProcessPoolExecutor(options.workers) as pool:
            items = [item for item in pool.map(process, paths, chunksize=4) if item is not None]
        if options.cache:
            options.cache.write_bytes(pickle.dumps(items))
    print(f"corpus: {len(paths)} files, {len(items)} decodable; fingerprinted with {len(TRANSFORMS)} transforms "
          f"each in {time.monotonic() - started:.0f} s; default radii {DEFAULT_RADIUS}\n")
    evaluate(items)


if __name__ == "__main__":
    main()
