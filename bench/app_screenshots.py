"""Screenshots in one app: is a screenshot of a picture that is not archived a `match` for the
archived screenshots of other pictures in the same app, and are copies of archived screenshots
still found?

    python bench/corpus.py && python bench/search_quality.py && python bench/app_screenshots.py

An app draws the same bars, buttons and text around every picture, so two of its screenshots
share much of their frame. Rules, fixed before this script's figures were read (a one-off
script measured the effect first, which is how it was found):

* Photos: bench/search_quality.py's photos (its archive pickle, `--work`), ordered by
  sha1(file name); the first PER_SET are archived, the next PER_SET are strangers.
* Apps: the four screenshot edits of bench/search_quality.py: a phone app (`_screenshot`), a
  dark social-media card, a desktop image viewer and a browser (bench/probe_edits.py).
* Archive: each archived photo in each app (PER_SET × 4 images), as Coco stores them: region
  dhashes and ORB features of the JPEG thumbnail (longest side 320).
* Queries, searched as the endpoint searches an upload under `visual` (the region index and
  verification, `combined`'s nearest few as global candidates, and when visual finds nothing
  the fill: the nearest by `combined`, judged by `combined`), counted on the first hit:
  * strangers: each stranger photo in each app; a `match` or a `likely` is wrong.
  * copies: each archived photo's screenshot in each app, scaled to 80 %: right if the first
    hit shows the same photo (in any app), and how often it is a `match`.
  * bare: each archived photo itself: right if the first hit shows it, and how often a `match`.
* Baseline in the same run: the seed's default, `combined`, nearest first with its confidence,
  on the same archive.

Changed after the first figures were read, and reported under both rules: the first runs left
out the global candidates and the fill (`--no-global`, `visual` alone).
"""
from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_quality as quality  # noqa: E402
from edit_basics import jpeg  # noqa: E402
from probe_edits import _browser, _desktop, _twitter  # noqa: E402

from booru.func.similarity import visual  # noqa: E402
from booru.func.similarity.combined import combined_search  # noqa: E402
from booru.func.similarity.confidence import confidence as seed_confidence  # noqa: E402
from booru.func.similarity.dhash_index import DhashIndex  # noqa: E402
from booru.func.similarity.histogram_index import HistogramIndex  # noqa: E402
from booru.func.similarity.nearest import Nearest  # noqa: E402
from booru.func.similarity.planner import COMBINED_WEIGHT, DEFAULT_RADIUS, dhash_queries, histogram_query  # noqa: E402
from booru.func.similarity.region_index import RegionIndex  # noqa: E402
from booru.func.similarity.verify import features  # noqa: E402
from common.fingerprint import fingerprint, fingerprint_rendered  # noqa: E402
from common.regions import archive_dhashes  # noqa: E402

PER_SET = 30
APPS = {"phone": quality._screenshot, "social card": _twitter, "desktop": _desktop, "browser": _browser}


class Archive:
    """Screenshots as Coco stores them, in booru's region, dhash and histogram indexes."""

    def __init__(self, shots: list[tuple[str, int, Image.Image]]):
        self.labels = [(app, photo) for app, photo, _ in shots]
        regions, words, histograms, self.features = [], [], [], {}
        for n, (_, _, shot) in enumerate(shots):
            data = jpeg(shot)
            thumbnail = quality.decode_thumbnail(quality.thumbnail(shot))
            regions.append(archive_dhashes(thumbnail))
            self.features[n] = features(thumbnail)
            seed = fingerprint(data)
            words.append(dhash_queries(seed)[0].words)  # the direct dhash, as booru's dhash index holds it
            histograms.append(histogram_query(seed))
        ids = np.arange(len(shots), dtype=np.int64)
        self.regions = RegionIndex(ids, np.stack(regions))
        self.dhash, self.histogram = DhashIndex(ids, np.stack(words)), HistogramIndex(ids, np.stack(histograms))

    def visual(self, data: bytes, alone: bool = False) -> tuple[tuple[str, int] | None, str]:
        """The first hit as the endpoint gives it (`alone`: visual_search without the global
        candidates and without the fill)."""
        seed, small = fingerprint_rendered(data, query=True)
        query = visual.VisualQuery.of(small, seed.width, seed.height)
        global_ids = () if alone else combined_search(
            self.dhash, self.histogram, dhash_queries(seed), histogram_query(seed), DEFAULT_RADIUS["combined"],
            visual.GLOBAL_CANDIDATES, COMBINED_WEIGHT).ids
        hits = visual.visual_search(query, self.regions, lambda ids: {i: self.features[i] for i in ids}, 10,
                                    global_ids=global_ids)
        if hits:
            return self.labels[hits[0].id], hits[0].confidence
        return (None, "none") if alone else self.combined(data)

    def combined(self, data: bytes) -> tuple[tuple[str, int] | None, str]:
        seed = fingerprint(data)
        nearest = Nearest(self.dhash, dhash_queries(seed), self.histogram, histogram_query(seed), COMBINED_WEIGHT)(1)
        if not len(nearest):
            return None, "none"
        return self.labels[int(nearest.ids[0])], seed_confidence(float(nearest.distances[0]), "combined")


def _share(flags: list[bool]) -> str:
    return f"{sum(flags):3}/{len(flags)} ({np.mean(flags):6.1%})"


def _found(hits: list[tuple[tuple[str, int] | None, str]], photos: list[int]) -> str:
    """How often the first hit shows the query's photo, and how often it is then a `match`."""
    right = [bool(hit) and hit[1] == n for (hit, _), n in zip(hits, photos)]
    return (f"first {_share(right)}, "
            f"match {_share([first and judged == 'match' for first, (_, judged) in zip(right, hits)])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/search_quality"),
                        help="bench/search_quality.py's work directory (its archive.pickle)")
    parser.add_argument("--no-global", action="store_true",
                        help="visual_search alone: no global candidates, no fill (the first runs' rule)")
    options = parser.parse_args()
    archive_file = options.work / "archive.pickle"
    if not archive_file.exists():
        sys.exit(f"no {archive_file}: run python bench/search_quality.py first")
    items = pickle.loads(archive_file.read_bytes())
    photos = sorted(quality.choose_photos(items),
                    key=lambda n: hashlib.sha1(Path(items[n]["path"]).name.encode()).hexdigest())
    archived, strangers = photos[:PER_SET], photos[PER_SET:2 * PER_SET]
    posted = {n: quality._posted(items[n]["path"]) for n in archived + strangers}
    archive = Archive([(app, n, make(posted[n])) for app, make in APPS.items() for n in archived])
    print(f"archive: {len(archived)} photos × {len(APPS)} apps; strangers: {len(strangers)} photos")
    for app, make in APPS.items():
        print(f"\n{app}")
        for method in ("visual", "combined"):
            search = (lambda data: archive.visual(data, alone=True)) if method == "visual" and options.no_global \
                else getattr(archive, method)
            wrong = [search(jpeg(make(posted[n])))[1] for n in strangers]
            copies, bare = [], []
            for n in archived:
                shot = make(posted[n])
                shot = shot.resize((round(shot.width * .8), round(shot.height * .8)), Image.Resampling.LANCZOS)
                copies.append(search(jpeg(shot)))
                bare.append(search(jpeg(posted[n])))
            print(f"  {method:<8} strangers: match {_share([c == 'match' for c in wrong])}, "
                  f"likely {_share([c == 'likely' for c in wrong])} | copies: {_found(copies, archived)} | "
                  f"bare: {_found(bare, archived)}")


if __name__ == "__main__":
    main()
