"""Index bases kept as files that every booru worker of a machine maps, so a machine holds one copy
of each however many workers run, also after a base is rebuilt.

A directory (SEARCH_INDEX_DIR, one per database: `directory_for`; made readable by booru's user
only) holds, per index kind, the newest stored base: a folder `<kind>-<generation>-<xmin>` of
one .npy file per array of the base.
`generation` grows with every base stored (nanoseconds since the epoch); `xmin` is the oldest
transaction still running when the base's rows were read (follow.py): a worker that maps the base
reads the rows written from that transaction on and is up to date. A base is written under a
temporary name and renamed into place, so a folder with a final name is whole; older
generations are deleted once a newer one is in place (a process still mapping one keeps its pages
until it lets go). Only one process builds a kind's base at a time (`building`: a lock file).
"""
from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

NAME = re.compile(r"^(?P<kind>[a-z]+)-(?P<generation>\d+)-(?P<xmin>\d+)$")


@dataclass(frozen=True)
class Stored:
    """One stored base."""

    path: Path
    generation: int
    xmin: str


def directory_for(root: Path, database_uri: str) -> Path:
    """The folder under `root` for one database's bases (boorus of other databases may share root)."""
    return Path(root) / hashlib.sha256(database_uri.encode()).hexdigest()[:16]


def generations(directory: Path, kind: str) -> list[Stored]:
    """The stored bases of `kind`, oldest first."""
    found = []
    for path in Path(directory).glob(f"{kind}-*"):
        name = NAME.match(path.name)
        if name and name["kind"] == kind:
            found.append(Stored(path, int(name["generation"]), name["xmin"]))
    return sorted(found, key=lambda stored: stored.generation)


def newest(directory: Path, kind: str) -> Stored | None:
    found = generations(directory, kind)
    return found[-1] if found else None


def store(directory: Path, kind: str, arrays: dict[str, np.ndarray], xmin: str) -> Stored:
    """Write a base's arrays as the newest generation of `kind`; delete the older ones."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    generation = max([time.time_ns()] + [older.generation + 1 for older in generations(directory, kind)])
    final = directory / f"{kind}-{generation}-{int(xmin)}"
    partial = directory / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        for name, array in arrays.items():
            np.save(partial / f"{name}.npy", array, allow_pickle=False)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for older in generations(directory, kind):
        if older.generation < generation:
            shutil.rmtree(older.path, ignore_errors=True)
    return Stored(final, generation, str(int(xmin)))


def mapped(stored: Stored) -> dict[str, np.ndarray]:
    """The arrays of a stored base, mapped read-only from its files (FileNotFoundError: it was
    replaced by a newer one meanwhile)."""
    files = list(stored.path.glob("*.npy"))
    if not files:
        raise FileNotFoundError(stored.path)
    return {path.stem: np.asarray(np.load(path, mmap_mode="r", allow_pickle=False)) for path in files}


@contextmanager
def building(directory: Path, kind: str, wait: bool = True) -> Iterator[bool]:
    """Hold the lock of `kind`'s builder: yields True once held, or False at once when another
    process holds it and `wait` is false."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / f"{kind}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def clear(directory: Path) -> None:
    """Forget every stored base (at start-up: they may belong to an earlier state of the database)."""
    shutil.rmtree(directory, ignore_errors=True)
