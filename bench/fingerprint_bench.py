"""Fingerprinting throughput: ours (common.fingerprint) against the seed's pipeline.

    python bench/corpus.py && python bench/fingerprint_bench.py [--limit N] [--skip-memory]

The seed's pipeline, as it was: PIL open -> convert('RGB') -> resize((512, 512)) ->
cv2.calcHist 4 bins per channel -> imagehash.dhash per channel. Both run side by side in
this process on the same in-memory files (alternating which goes first), then on all cores
with a process pool each. Peak memory is the max RSS of a fresh process running one
pipeline over the corpus. dhash bits changed: seed vs ours on opaque images (JPEG `draft`
and the reducing resize are the only differences there), out of 192.
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
from PIL import Image  # noqa: E402

from common import fingerprint as fp  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning)  # Pillow's advice on palette transparency (seed)
CORPUS_LIST = Path(__file__).resolve().parent / "corpus" / "images.txt"
BIG = 2_000_000


def seed_fingerprint(data: bytes) -> tuple[dict, dict]:
    """The seed's steps, verbatim in spirit."""
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((512, 512))
    pixels = np.array(image)
    hist = {name: [int(v) for v in cv2.calcHist([pixels], [i], None, [4], [0, 256]).ravel()]
            for i, name in enumerate(fp.CHANNELS)}
    red, green, blue = image.split()
    dhash = {"red": str(imagehash.dhash(red)), "green": str(imagehash.dhash(green)),
             "blue": str(imagehash.dhash(blue))}
    return hist, dhash


def ours(data: bytes) -> tuple[dict, dict]:
    result = fp.fingerprint(data)
    return result.histogram, result.dhash


PIPELINES = {"seed": seed_fingerprint, "ours": ours}


def load(limit: int | None) -> list[tuple[str, bytes, str, int, bool, bool]]:
    """(path, bytes, format, pixels, opaque, progressive) for each corpus file."""
    paths = [line for line in CORPUS_LIST.read_text().splitlines() if line][:limit]
    files = []
    for path in paths:
        data = Path(path).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            opaque = image.mode in ("RGB", "L", "CMYK", "YCbCr") and "transparency" not in image.info
            files.append((path, data, image.format, image.size[0] * image.size[1], opaque,
                          bool(image.info.get("progressive") or image.info.get("progression"))))
    return files


def bits(a: dict, b: dict) -> int:
    return sum(bin(int(a[k], 16) ^ int(b[k], 16)).count("1") for k in fp.CHANNELS)


def single_core(files: list) -> tuple[dict, list[int], list[int]]:
    """Per-file seconds per pipeline, plus dhash bit differences on opaque JPEGs / all opaque."""
    times: dict[str, list[float]] = {"seed": [], "ours": []}
    jpeg_bits, opaque_bits = [], []
    for index, (_, data, fmt, _, opaque, _) in enumerate(files):
        order = ("seed", "ours") if index % 2 == 0 else ("ours", "seed")
        results = {}
        for name in order:
            started = time.perf_counter()
            results[name] = PIPELINES[name](data)
            times[name].append(time.perf_counter() - started)
        if opaque:
            diff = bits(results["seed"][1], results["ours"][1])
            opaque_bits.append(diff)
            if fmt == "JPEG":
                jpeg_bits.append(diff)
    return times, jpeg_bits, opaque_bits


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


def report_subset(label: str, files: list, times: dict, mask: list[bool]) -> None:
    seed = sum(t for t, keep in zip(times["seed"], mask) if keep)
    ours_ = sum(t for t, keep in zip(times["ours"], mask) if keep)
    count = sum(mask)
    if not count:
        return
    print(f"  {label:<28} n={count:<4} seed {rate(count, seed):7.2f} img/s   ours {rate(count, ours_):7.2f} img/s"
          f"   ratio {seed / ours_:5.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N corpus files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
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

    times, jpeg_bits, opaque_bits = single_core(files)
    print("single core (same process, alternating):")
    report_subset("whole corpus", files, times, [True] * len(files))
    report_subset(">= 2 MP JPEG", files, times, [f[2] == "JPEG" and f[3] >= BIG for f in files])
    report_subset("  of which baseline", files, times, [f[2] == "JPEG" and f[3] >= BIG and not f[5] for f in files])
    report_subset("  of which progressive", files, times, [f[2] == "JPEG" and f[3] >= BIG and f[5] for f in files])
    report_subset(">= 2 MP PNG", files, times, [f[2] == "PNG" and f[3] >= BIG for f in files])
    report_subset(">= 2 MP WEBP", files, times, [f[2] == "WEBP" and f[3] >= BIG for f in files])
    report_subset("< 2 MP (any format)", files, times, [f[3] < BIG for f in files])

    print(f"all cores ({args.workers} processes, one pool per pipeline):")
    seed_s = all_cores(files, "seed", args.workers)
    ours_s = all_cores(files, "ours", args.workers)
    print(f"  {'whole corpus':<28} n={len(files):<4} seed {rate(len(files), seed_s):7.2f} img/s   "
          f"ours {rate(len(files), ours_s):7.2f} img/s   ratio {seed_s / ours_s:5.2f}x")

    for label, values in (("opaque JPEGs", jpeg_bits), ("all opaque images", opaque_bits)):
        if values:
            print(f"dhash bits changed vs full decode ({label}, n={len(values)}): median "
                  f"{statistics.median(values):g}, p95 {sorted(values)[int(0.95 * (len(values) - 1))]}, "
                  f"max {max(values)} of 192")

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
