"""Stored index bases (booru.func.similarity.stored): a base read back from its files searches
exactly as the one built in memory; processes following one database share one stored base,
mapped from the same files, and all move over to the base one of them rebuilds; and booru's
gunicorn workers map the stored bases instead of holding copies of their own; and the index's
compiled loops are compiled once, up front, for every base (kernels.py)."""
from __future__ import annotations

import gc
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import requests
from PIL import Image
from sqlalchemy import text

from booru import auth
from booru.extensions import db
from booru.func.similarity import stored
from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.follow import POLL_SECONDS, Follower
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Index
from booru.func.similarity.region_index import KEYS, RegionIndex
from common.config import PROJECT_ROOT
from tests.booru.helpers import seed_images
from tests.booru.test_region_index import oracle
from tests.support import wait_until


def _mapped_paths(pid: int | str = "self") -> set[str]:
    """The files a process maps (its /proc maps)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(None, 5)[5] for line in lines if len(line.split(None, 5)) == 6}


def _same_hits(first, second) -> None:
    for name in ("ids", "distances", "mirrored"):
        assert getattr(first, name).tolist() == getattr(second, name).tolist()


def _listed(hits) -> list[tuple]:
    """Region hits as the oracle lists them."""
    return list(zip(hits.ids.tolist(), hits.distances.tolist(), hits.mirrored.tolist(), hits.windows.tolist(),
                    hits.queries.tolist()))


def _restored(index, directory: Path, kind: str):
    """An index of the same class over `index`'s base, stored and mapped back."""
    found = stored.store(directory, kind, index.snapshot.base.arrays(), "7")
    return type(index)(base=type(index).base_type.restored(stored.mapped(found))), found


def test_a_stored_base_searches_as_the_built_one(tmp_path) -> None:
    rng = np.random.default_rng(5)
    ids = rng.choice(10_000, size=400, replace=False)
    centres = rng.integers(0, 2**64, size=(40, 3), dtype=np.uint64)
    words = centres[rng.integers(0, 40, size=400)] ^ (rng.integers(0, 2**64, size=(400, 3), dtype=np.uint64)
                                                      & rng.integers(0, 2**64, size=(400, 3), dtype=np.uint64)
                                                      & rng.integers(0, 2**64, size=(400, 3), dtype=np.uint64))
    histograms = rng.dirichlet(np.ones(4), size=(400, 3)).reshape(400, 12)
    windows = words[:, None, :] ^ rng.integers(0, 2, size=(400, KEYS, 3), dtype=np.uint64)

    dhashes = DhashIndex(ids, words)
    restored, found = _restored(dhashes, tmp_path, "dhash")
    assert str(found.path / "keys.npy") in _mapped_paths()
    assert not restored.snapshot.base.groups.keys.flags.writeable
    for query in words[:20] ^ np.uint64(0b1011):
        _same_hits(restored.search([query], 40.0, 10), dhashes.search([query], 40.0, 10))

    colours = HistogramIndex(ids, histograms)
    restored, _ = _restored(colours, tmp_path, "histogram")
    for query in histograms[:20] * 0.9 + 0.025:
        for p in (1, 2):
            _same_hits(restored.search(query, 1.0, 10, p), colours.search(query, 1.0, 10, p))

    regions = RegionIndex(ids, windows)
    restored, _ = _restored(regions, tmp_path, "region")
    queries, flags = words[:6], np.array([False, True] * 3)
    assert _listed(restored.nearest(queries, flags, 10, 40.0)) == _listed(regions.nearest(queries, flags, 10, 40.0))


# Run in a process of its own: numba compiles a loop once per process and argument types.
COMPILED_SEARCHES = """
import sys
import numpy as np
from booru.func.similarity import kernels, stored
from booru.func.similarity.dhash_index import DhashIndex, compile_loops
from booru.func.similarity.distances import DhashQuery
from booru.func.similarity.nearest import Nearest
from booru.func.similarity.region_index import KEYS, RegionIndex
from pathlib import Path

loops = (kernels.plan, kernels.within_postings, kernels.within_all, kernels.hamming_all, kernels.distances_all)
before = [len(loop.signatures) for loop in loops]
compile_loops()
compiled = [set(loop.signatures) for loop in loops]
rng = np.random.default_rng(3)
windows = rng.integers(0, 2**64, size=(300, KEYS, 3), dtype=np.uint64)
found = stored.store(Path(sys.argv[1]), "region", RegionIndex(np.arange(300), windows).snapshot.base.arrays(), "7")
mapped = RegionIndex(base=RegionIndex.base_type.restored(stored.mapped(found)))
queries = windows[:3, 0] ^ np.uint64(0b111)
mapped.nearest(queries, np.array([False, True, False]), 5, radius=30, inner=np.array([False, False, True]))
mapped.nearest(queries[:1], np.array([False]), 5, radius=120)  # far: a scan
built = DhashIndex(np.arange(300), windows[:, 0])  # a process's own base
clipped = DhashQuery.of(queries[0] & ~np.uint64(0xFF), np.array([0xFF, 0, 0], dtype=np.uint64))
for radius in (25, 100):
    built.search([clipped, queries[1]], radius, 5)
Nearest(built, [clipped, DhashQuery.of(queries[1])])(5)
print(before, [len(c) for c in compiled], [set(loop.signatures) == c for loop, c in zip(loops, compiled)])
"""


def test_the_loops_compiled_up_front_are_all_that_searches_run(tmp_path) -> None:
    """What gunicorn's master compiles before it forks the workers (compile_loops) is every
    loop a search runs, over mapped bases and a process's own alike (lookups, marked lookups,
    scans, nearest without a radius, queries with clipped bits): no worker compiles its own."""
    done = subprocess.run([sys.executable, "-c", COMPILED_SEARCHES, str(tmp_path)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[0, 0, 0, 0, 0] [1, 1, 1, 1, 1] [True, True, True, True, True]"


UNCACHED_SEARCH = """
from numba.core import caching
caching.CacheImpl._locator_classes = []  # as where no directory numba could cache in is writable
import numpy as np
from booru.func.similarity.dhash_index import DhashIndex
stored = np.random.default_rng(2).integers(0, 2**64, size=(200, 3), dtype=np.uint64)
hits = DhashIndex(np.arange(200), stored).search([stored[17] ^ np.uint64(0b101)], 8, 3)
print(hits.ids.tolist(), hits.distances.tolist())
"""


def test_the_loops_compile_where_numba_can_keep_no_cache() -> None:
    done = subprocess.run([sys.executable, "-c", UNCACHED_SEARCH], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[17] [6.0]"


def test_a_newer_generation_replaces_the_older_ones(tmp_path) -> None:
    first = stored.store(tmp_path, "dhash", {"keys": np.arange(3)}, "10")
    second = stored.store(tmp_path, "dhash", {"keys": np.arange(4)}, "12")
    other = stored.store(tmp_path, "region", {"keys": np.arange(5)}, "11")
    assert second.generation > first.generation and not first.path.exists()
    assert stored.newest(tmp_path, "dhash") == second and stored.newest(tmp_path, "region") == other
    assert stored.mapped(second)["keys"].tolist() == [0, 1, 2, 3] and second.xmin == "12"
    with pytest.raises(FileNotFoundError):  # replaced meanwhile: the caller looks for the newest again
        stored.mapped(first)
    with stored.building(tmp_path, "dhash") as mine:
        assert mine
        with stored.building(tmp_path, "dhash", wait=False) as theirs:  # a second holder is refused
            assert not theirs


def _write_windows(app, ids: list[int], windows: np.ndarray) -> None:
    with app.app_context():
        for image, words in zip(ids, windows):
            db.session.execute(text("INSERT INTO region_dhash (id, dhashes) VALUES (:id, :dhashes) "
                                    "ON CONFLICT (id) DO UPDATE SET dhashes = excluded.dhashes"),
                               {"id": image, "dhashes": words.reshape(-1).view(np.int64).tolist()})
        db.session.commit()


def _current(app, follower: Follower):
    with app.app_context():
        return follower.current()


def _base_files(follower: Follower) -> set[str]:
    return {str(p) for p in stored.newest(follower.directory, follower.kind).path.glob("*.npy")}


def test_followers_share_one_stored_base_and_move_to_the_one_rebuilt(app, api, tmp_path, monkeypatch) -> None:
    rng = np.random.default_rng(11)
    ids = seed_images(api, app, 24)
    windows = rng.integers(0, 2**64, size=(24, KEYS, 3), dtype=np.uint64)
    _write_windows(app, ids[:12], windows[:12])
    first, second = Follower("region", tmp_path), Follower("region", tmp_path)  # two workers of one machine
    _current(app, first)
    _current(app, second)
    original = stored.newest(tmp_path, "region")
    generation = original.generation
    assert first.generation == second.generation == generation and len(stored.generations(tmp_path, "region")) == 1
    assert _base_files(first) <= _mapped_paths()

    monkeypatch.setattr(Index, "needs_rebuild", lambda index: index.pending >= 5 * KEYS)
    _write_windows(app, ids[12:20], windows[12:20])
    time.sleep(POLL_SECONDS)
    _current(app, first)  # follows the new rows, then folds them into a stored base in the background
    wait_until(lambda: stored.newest(tmp_path, "region").generation > generation, timeout=30,
               message="a rebuilt base stored")
    rebuilt = stored.newest(tmp_path, "region")
    assert [g.generation for g in stored.generations(tmp_path, "region")] == [rebuilt.generation]

    _write_windows(app, ids[20:], windows[20:])  # written after the rebuilt base: read on adopting it
    def adopted(follower: Follower) -> bool:
        time.sleep(POLL_SECONDS)
        _current(app, follower)  # polls, and moves over to the rebuilt base in the background
        return follower.generation == rebuilt.generation

    for follower in (first, second):
        wait_until(lambda: adopted(follower), timeout=30, message="the rebuilt base adopted")
    time.sleep(POLL_SECONDS)
    for follower in (first, second):
        index = _current(app, follower)
        assert len(index) == 24 and len(index.snapshot.delta_ids) <= 4 * KEYS
        queries = windows[[3, 15, 22], 0] ^ np.uint64(0b111)
        flags = np.array([False, True, False])
        assert _listed(index.nearest(queries, flags, 5, 40.0)) == oracle(ids, windows, queries, flags.tolist(), 5, 40.0)
    assert _base_files(second) <= _mapped_paths()
    gc.collect()
    assert not any(path.startswith(str(original.path)) for path in _mapped_paths())  # let go of the old files


def test_a_follower_whose_directory_cannot_be_written_builds_its_own(app, api, tmp_path) -> None:
    ids = seed_images(api, app, 3)
    _write_windows(app, ids, np.random.default_rng(2).integers(0, 2**64, size=(3, KEYS, 3), dtype=np.uint64))
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    follower = Follower("region", blocked / "index")
    assert len(_current(app, follower)) == 3 and follower.directory is None


def test_gunicorn_workers_map_the_stored_bases(live_booru) -> None:
    master = psutil.Process(live_booru.process.popen.pid)
    directory = Path(live_booru.env["SEARCH_INDEX_DIR"])
    query = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 200)).save(query, "PNG")
    for _ in range(6):  # each worker has loaded its indexes (post_worker_init) or does now
        response = requests.post(f"{live_booru.url}/similarity/file", headers={auth.HEADER: live_booru.admin_key},
                                 files={"image": ("q.png", query.getvalue())}, timeout=30)
        assert response.status_code == 200, response.text

    def maps_bases(pid: int) -> bool:
        return any(path.startswith(str(directory)) and path.endswith(".npy") for path in _mapped_paths(pid))

    wait_until(lambda: len(master.children()) == 2 and all(maps_bases(w.pid) for w in master.children()),
               timeout=30, message="every worker maps the stored bases")
    names = [stored.NAME.match(p.name) for p in directory.glob("*/*")]
    assert sorted(name["kind"] for name in names if name) == ["dhash", "histogram", "region"]
    assert not maps_bases(master.pid)  # the master stored them and let go
