"""Fingerprinting throughput: ours (common.fingerprint) against the seed's pipeline.

    python bench/corpus.py && python bench/fingerprint_bench.py [--limit N] [--rounds 2] [--skip-memory]

The seed's pipeline, as it was: PIL open -> convert('RGB') -> resize((512, 512)) ->
cv2.calcHist 4 bins per channel -> imagehash.dhash per channel. Ours runs twice: like for
like (the seed's outputs only: histogram and dhash, plus the header's size), and as Coco calls
it (`fingerprint` with a thumbnail: also the sha256 and md5 of the bytes, the JPEG thumbnail and
the region dhashes of that thumbnail, which the `visual` search needs and the seed did not
compute). All three run side by side in this process on the same in-memory files (the order
rotating from file to file and round to round, each file's best round counted, so that a burst
of other work on the machine does not land on one pipeline), then the seed and `fingerprint` on
all cores with a process pool each. Peak memory is the max RSS of a fresh process running one
pipeline over the corpus.

How far ours is from the seed's full decode: the seed's steps on the whole image (upright,
alpha composed onto white as ours does; for opaque images that is exactly the seed's output)
against ours: dhash bits changed out of 192, and the largest L1 distance between a channel's
normalised histograms (0 = equal, 2 = disjoint).
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import imagehash  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from common import fingerprint as fp  # noqa: E402
from common.config import Settings  # noqa: E402

THUMBNAIL_SIZE = Settings.thumbnail_size  # Coco's default: `fingerprint` also makes the thumbnail

warnings.filterwarnings("ignore", category=UserWarning)  # Pillow's advice on palette transparency (seed)
CORPUS_LIST = Path(__file__).resolve().parent / "corpus" / "images.txt"
BIG = 2_000_000


def seed_fingerprint(data: bytes) -> tuple[dict, dict]:
    """The seed's steps, verbatim in spirit."""
    return seed_steps(Image.open(io.BytesIO(data)))


def seed_steps(image: Image.Image) -> tuple[dict, dict]:
    image = image.convert("RGB").resize((512, 512))
    pixels = np.array(image)
    hist = {name: [int(v) for v in cv2.calcHist([pixels], [i], None, [4], [0, 256]).ravel()]
            for i, name in enumerate(fp.CHANNELS)}
    red, green, blue = image.split()
    dhash = {"red": str(imagehash.dhash(red)), "green": str(imagehash.dhash(green)),
             "blue": str(imagehash.dhash(blue))}
    return hist, dhash


def like_for_like(data: bytes) -> tuple[dict, dict]:
    """Ours without the digests: the seed's outputs (and the size from the header)."""
    image, _ = fp.open_image(data)
    fp.displayed_size(image)
    small = fp.render(image, data)
    return fp.histogram(small), fp.dhash(small)


def ours(data: bytes) -> tuple[dict, dict]:
    """As Coco calls it: digests, thumbnail, and the thumbnail's region dhashes."""
    result = fp.fingerprint(data, thumbnail_size=THUMBNAIL_SIZE)
    if result.thumbnail is None or result.regions is None:
        raise AssertionError("Coco's call makes a thumbnail and its region dhashes")
    return result.histogram, result.dhash


def reference(data: bytes) -> tuple[dict, dict]:
    """The seed's steps on the full decode, upright, alpha composed onto white (Pillow throughout)."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    return seed_steps(image)


PIPELINES = {"seed": seed_fingerprint, "like for like": like_for_like, "ours": ours}


def load(limit: int | None) -> list[tuple[str, bytes, str, int, bool, bool, tuple[int, int]]]:
    """(path, bytes, format, pixels, opaque, progressive, size) for each corpus file."""
    paths = [line for line in CORPUS_LIST.read_text().splitlines() if line][:limit]
    files = []
    for path in paths:
        data = Path(path).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            opaque = image.mode in ("RGB", "L", "CMYK", "YCbCr") and "transparency" not in image.info
            files.append((path, data, image.format, image.size[0] * image.size[1], opaque,
                          bool(image.info.get("progressive") or image.info.get("progression")), image.size))
    return files


def bits(a: dict, b: dict) -> int:
    return sum(bin(int(a[k], 16) ^ int(b[k], 16)).count("1") for k in fp.CHANNELS)


def histogram_l1(a: dict, b: dict) -> float:
    """The largest L1 distance between the channels' normalised histograms."""
    return max(sum(abs(x - y) for x, y in zip(a[k], b[k])) / sum(a[k]) for k in fp.CHANNELS)


def single_core(files: list, rounds: int) -> dict[str, list[float]]:
    """Per-file seconds per pipeline: the best of `rounds`, the order rotating each time."""
    times: dict[str, list[float]] = {name: [] for name in PIPELINES}
    names = list(PIPELINES)
    for index, (_, data, *_) in enumerate(files):
        best = dict.fromkeys(names, float("inf"))
        for turn in range(index, index + rounds):
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                started = time.perf_counter()
                PIPELINES[name](data)
                best[name] = min(best[name], time.perf_counter() - started)
        for name in names:
            times[name].append(best[name])
    return times


def drift(files: list) -> list[tuple[int, float]]:
    """(dhash bits changed, histogram L1) of ours against the seed's steps on the full decode."""
    changes = []
    for _, data, *_ in files:
        hist, dhash = ours(data)
        full_hist, full_dhash = reference(data)
        changes.append((bits(full_dhash, dhash), histogram_l1(full_hist, hist)))
    return changes


def _run_all(name: str, blobs: list[bytes]) -> None:
    for data in blobs:
        PIPELINES[name](data)


def _one(args: tuple[str, bytes]) -> None:
    PIPELINES[args[0]](args[1])


def all_cores(files: list, name: str, workers: int) -> float:
    with ProcessPoolExecutor(workers) as pool:
        for future in [pool.submit(_noop) for _ in range(workers)]:  # start workers before timing
            future.result()
        started = time.perf_counter()
        list(pool.map(_one, [(name, f[1]) for f in files], chunksize=1))
        return time.perf_counter() - started


def _noop() -> None:
    return None


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _peak(name: str, paths: list[str], queue: multiprocessing.Queue) -> None:
    """VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec."""
    PIPELINES[name](Path(paths[0]).read_bytes())  # imports and lazy initialisation
    baseline = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    peak_one = 0
    for path in paths:
        PIPELINES[name](Path(path).read_bytes())
        peak_one = max(peak_one, _status_kib("VmHWM"))
    queue.put((baseline, peak_one))


def peak_memory(files: list, name: str) -> tuple[float, float]:
    """(baseline MiB, peak MiB) of a fresh process running one pipeline over the files."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak, args=(name, [f[0] for f in files], queue))
    process.start()
    baseline, peak = queue.get()
    process.join()
    return baseline / 1024, peak / 1024


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def report_subset(label: str, times: dict, mask: list[bool]) -> None:
    count = sum(mask)
    if not count:
        return
    seconds = {name: sum(t for t, keep in zip(values, mask) if keep) for name, values in times.items()}
    print(f"  {label:<24} n={count:<4} seed {rate(count, seconds['seed']):6.2f} img/s"
          f"   like for like {rate(count, seconds['like for like']):6.2f} img/s"
          f" {seconds['seed'] / seconds['like for like']:5.2f}x"
          f"   as Coco calls it {rate(count, seconds['ours']):6.2f} img/s {seconds['seed'] / seconds['ours']:5.2f}x")


def report_drift(label: str, changes: list[tuple[int, float]]) -> None:
    if not changes:
        return
    changed = sorted(c[0] for c in changes)
    apart = sorted(c[1] for c in changes)
    p95 = int(0.95 * (len(changes) - 1))
    print(f"  {label:<24} n={len(changes):<4} dhash bits changed: median {statistics.median(changed):g},"
          f" p95 {changed[p95]}, max {changed[-1]} of 192;"
          f" histogram L1: median {statistics.median(apart):.4f}, p95 {apart[p95]:.4f}, max {apart[-1]:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N corpus files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2, help="single core: each file's best of this many")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not CORPUS_LIST.exists():
        print("no corpus: run python bench/corpus.py first", file=sys.stderr)
        return 1
    files = load(args.limit)
    total_mb = sum(len(f[1]) for f in files) / 2**20
    formats: dict[str, int] = {}
    for f in files:
        formats[f[2]] = formats.get(f[2], 0) + 1
    big = sum(f[3] >= BIG for f in files)
    print(f"corpus: {len(files)} images, {total_mb:.0f} MiB, {formats}, {big} of >= 2 MP; cpus={os.cpu_count()}")

    times = single_core(files, args.rounds)
    print(f"single core (same process, the three side by side, each file's best of {args.rounds};"
          f" ratios are the seed's time over ours):")
    big_jpeg = [f[2] == "JPEG" and f[3] >= BIG for f in files]
    report_subset("whole corpus", times, [True] * len(files))
    report_subset(">= 2 MP JPEG", times, big_jpeg)
    report_subset("  of which baseline", times, [big and not f[5] for big, f in zip(big_jpeg, files)])
    report_subset("  of which progressive", times, [big and f[5] for big, f in zip(big_jpeg, files)])
    report_subset(">= 2 MP PNG", times, [f[2] == "PNG" and f[3] >= BIG for f in files])
    report_subset(">= 2 MP WEBP", times, [f[2] == "WEBP" and f[3] >= BIG for f in files])
    report_subset("< 2 MP (any format)", times, [f[3] < BIG for f in files])

    print(f"all cores ({args.workers} processes, one pool per pipeline, ours as Coco calls it; the better of two runs"
          f" each, in the order seed, ours, ours, seed, as other work on the machine comes and goes):")
    seed_s, ours_s, ours_again, seed_again = (all_cores(files, name, args.workers)
                                              for name in ("seed", "ours", "ours", "seed"))
    seed_s, ours_s = min(seed_s, seed_again), min(ours_s, ours_again)
    print(f"  {'whole corpus':<24} n={len(files):<4} seed {rate(len(files), seed_s):6.2f} img/s"
          f"   ours {rate(len(files), ours_s):6.2f} img/s {seed_s / ours_s:5.2f}x")

    print("ours against the seed's steps on the full decode:")
    changes = drift(files)
    report_drift("opaque JPEGs", [c for c, f in zip(changes, files) if f[4] and f[2] == "JPEG"])
    report_drift("  of which >= 2048 px", [c for c, f in zip(changes, files)  # decoded at 1/8
                                           if f[4] and f[2] == "JPEG" and min(f[6]) >= 2048])
    report_drift("  of which progressive", [c for c, f in zip(changes, files) if f[4] and f[2] == "JPEG" and f[5]])
    report_drift("all opaque images", [c for c, f in zip(changes, files) if f[4]])
    report_drift("all images", changes)

    if not args.skip_memory:
        big_jpegs = [f for f in files if f[2] == "JPEG" and f[3] >= BIG]
        for label, subset in (("whole corpus", files), (">= 2 MP JPEG", big_jpegs)):
            for name in ("seed", "ours"):
                if subset:
                    baseline, peak = peak_memory(subset, name)
                    print(f"peak RSS {name} ({label}): {peak:.0f} MiB (process baseline {baseline:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
