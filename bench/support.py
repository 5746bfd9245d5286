"""What the benchmarks share: booru under gunicorn as supervisord runs it, an embedded PostgreSQL, a migrated database, realistic
synthetic fingerprints bulk-loaded with COPY, and the seed's search recreated in SQL."""
from __future__ import annotations

import atexit
import io
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common.config import embedded_password  # noqa: E402

PIXELS = 512 * 512  # every channel histogram of a 512×512 image sums to this

# The seed's three SQL functions as it described them: a PL/pgSQL distance per row, then sort.
SEED_FUNCTIONS = """
CREATE OR REPLACE FUNCTION seed_dhash_xor_norm(r1 bit(64), g1 bit(64), b1 bit(64),
                                               r2 bit(64), g2 bit(64), b2 bit(64)) RETURNS integer AS $$
BEGIN
    RETURN bit_count(r1 # r2) + bit_count(g1 # g2) + bit_count(b1 # b2);
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE OR REPLACE FUNCTION seed_abs_norm(r1 int[], g1 int[], b1 int[], r2 int[], g2 int[], b2 int[])
RETURNS double precision AS $$
DECLARE
    total double precision := 0;
BEGIN
    FOR i IN 1..4 LOOP
        total := total + abs(r1[i]::float8 / 262144 - r2[i]::float8 / 262144)
                       + abs(g1[i]::float8 / 262144 - g2[i]::float8 / 262144)
                       + abs(b1[i]::float8 / 262144 - b2[i]::float8 / 262144);
    END LOOP;
    RETURN total;
END $$ LANGUAGE plpgsql IMMUTABLE;

CREATE OR REPLACE FUNCTION seed_eucl_norm(r1 int[], g1 int[], b1 int[], r2 int[], g2 int[], b2 int[])
RETURNS double precision AS $$
DECLARE
    total double precision := 0;
BEGIN
    FOR i IN 1..4 LOOP
        total := total + (r1[i]::float8 / 262144 - r2[i]::float8 / 262144) ^ 2
                       + (g1[i]::float8 / 262144 - g2[i]::float8 / 262144) ^ 2
                       + (b1[i]::float8 / 262144 - b2[i]::float8 / 262144) ^ 2;
    END LOOP;
    RETURN sqrt(total);
END $$ LANGUAGE plpgsql IMMUTABLE;
"""

SEED_QUERIES = {
    "dhash_xor_norm": "SELECT id, seed_dhash_xor_norm(red, green, blue, %s::bit(64), %s::bit(64), %s::bit(64)) AS d "
                      "FROM dhash ORDER BY d, id LIMIT %s",
    "abs_norm": "SELECT id, seed_abs_norm(red, green, blue, %s, %s, %s) AS d FROM histogram ORDER BY d, id LIMIT %s",
    "eucl_norm": "SELECT id, seed_eucl_norm(red, green, blue, %s, %s, %s) AS d FROM histogram ORDER BY d, id LIMIT %s",
}


# --- an embedded PostgreSQL ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Postgres:
    process: subprocess.Popen
    server: str  # postgresql://postgres:PASSWORD@127.0.0.1:PORT

    def uri(self, database: str) -> str:
        return f"{self.server}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start_postgres(data: Path, *settings: str) -> Postgres:
    """`python -m booru.embedded_db` in the background, as tests/conftest.py does."""
    port = free_port()
    data.parent.chmod(0o755)  # the benchmark's own folder: as root, PostgreSQL's user must reach it
    args = [sys.executable, "-m", "booru.embedded_db", "--data", str(data), "--port", str(port)]
    for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off", *settings):
        args += ["-c", setting]
    env = {**os.environ, "ENV_FILE": os.devnull, "DATABASE_URI": "", "PYTHONPATH": str(ROOT),
           "VAR_DIR": str(data.parent)}
    log = open(data.parent / "postgres.log", "ab")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = f"postgresql://postgres:{embedded_password(data.parent)}@127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            psycopg2.connect(f"{server}/postgres").close()
            return Postgres(process, server)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the embedded PostgreSQL did not start; see {log.name}")
            time.sleep(0.3)


def start_booru(uri: str, port: int, workers: int = 2, env: dict[str, str] | None = None) -> subprocess.Popen:
    """booru as supervisord.conf runs it: gunicorn with booru/gunicorn_conf.py, on 127.0.0.1:port."""
    metrics = Path(tempfile.mkdtemp(prefix="lzb-bench-metrics-"))
    index_dir = tempfile.mkdtemp(prefix="lzb-bench-index-")
    atexit.register(shutil.rmtree, index_dir, True)
    process_env = {**os.environ, "ENV_FILE": os.devnull, "DATABASE_URI": uri, "PYTHONPATH": str(ROOT),
                   "BOORU_BIND": f"127.0.0.1:{port}", "BOORU_WORKERS": str(workers), "LOG_LEVEL": "WARNING",
                   "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                   "SEARCH_INDEX_DIR": index_dir, **(env or {})}
    command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "booru" / "gunicorn_conf.py"),
               "booru:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=process_env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _healthy(f"http://127.0.0.1:{port}/api/health"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("booru did not start under gunicorn")
        time.sleep(0.3)
    return process


def _healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def migrated_app(uri: str):
    """A booru app over `uri`, the database created and migrated, the seed's functions added."""
    os.environ["ENV_FILE"] = os.devnull
    from flask_migrate import upgrade

    from booru import create_app
    from booru.cli import create_database
    from booru.extensions import db

    create_database(uri)
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade()
        db.session.execute(db.text(SEED_FUNCTIONS))
        db.session.commit()
    return app


# --- realistic fingerprints ---------------------------------------------------------------------

def _pack(bits: np.ndarray) -> np.ndarray:
    """(n, 64) booleans -> (n,) uint64, first bit most significant."""
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def _fresh(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """New pictures: channel dhashes that share most bits (colour channels see the same
    edges), some with many zero bits (flat areas); skewed, channel-correlated histograms."""
    words = np.empty((n, 3), dtype=np.uint64)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        ones = rng.uniform(0.08, 0.5, size=(m, 1))
        luma = rng.random((m, 64)) < ones
        for channel in range(3):
            words[start:start + m, channel] = _pack(luma ^ (rng.random((m, 64)) < 0.08))
    shared = rng.dirichlet(np.full(4, 0.6), size=n)
    fractions = np.stack([0.7 * shared + 0.3 * rng.dirichlet(np.full(4, 0.6), size=n) for _ in range(3)], axis=1)
    return words, _counts(fractions)


def _counts(fractions: np.ndarray) -> np.ndarray:
    """(n, 3, 4) fractions -> (n, 12) pixel counts summing to PIXELS per channel."""
    counts = np.floor(fractions * PIXELS).astype(np.int64)
    counts[:, :, 3] = PIXELS - counts[:, :, :3].sum(axis=2)
    return counts.reshape(-1, 12)


def _flip_bits(rng: np.random.Generator, words: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """Each row with flips[row] random bits toggled (a bit drawn twice toggles back)."""
    flipped = words.copy()
    rows = np.arange(len(words))
    for step in range(int(flips.max(initial=0))):
        bit = rng.integers(0, 192, size=len(words))
        mask = np.where(flips > step, np.uint64(1) << (bit % 64).astype(np.uint64), np.uint64(0))
        flipped[rows, bit // 64] ^= mask
    return flipped


def _nudge(rng: np.random.Generator, counts: np.ndarray, spread: float = 0.03) -> np.ndarray:
    fractions = counts.reshape(-1, 3, 4) / PIXELS * rng.normal(1, spread, size=(len(counts), 3, 4)).clip(0.5)
    return _counts(fractions / fractions.sum(axis=2, keepdims=True))


def _variants(rng: np.random.Generator, words: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Near-duplicates: re-encoded, resized, retouched copies (1–40 bits, histograms nudged)."""
    return _flip_bits(rng, words, rng.integers(1, 41, size=len(words))), _nudge(rng, counts)


def fingerprints(n: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    """n fingerprints: 50 % new pictures, 15 % near-duplicates of one, 35 % exact copies with
    a heavy head (the most reposted image has thousands of copies), shuffled."""
    rng = np.random.default_rng(seed)
    fresh, variant = int(n * 0.5), int(n * 0.15)
    words, counts = _fresh(rng, fresh)
    parents = rng.integers(0, fresh, size=variant)
    near_words, near_counts = _variants(rng, words[parents], counts[parents])
    words, counts = np.concatenate([words, near_words]), np.concatenate([counts, near_counts])
    popular = (len(words) * rng.random(n - len(words)) ** 4).astype(np.int64)
    words, counts = np.concatenate([words, words[popular]]), np.concatenate([counts, counts[popular]])
    order = rng.permutation(n)
    return words[order], counts[order]


def region_windows(rng: np.random.Generator, images: int, keys: int) -> np.ndarray:
    """images × keys × 3 uint64 region dhashes: per image a random 192-bit dhash whose `keys`
    windows differ from it by 10–40 bits (a picture's windows are alike)."""
    parts = []
    for start in range(0, images, 20_000):
        m = min(20_000, images - start)
        base = rng.integers(0, 2**64, size=(m, 3), dtype=np.uint64)
        noise = rng.random((m, keys, 192)) < rng.uniform(10 / 192, 40 / 192, (m, keys, 1))
        words = np.packbits(noise.reshape(m, keys, 3, 64), axis=-1).view(">u8").astype(np.uint64)[..., 0]
        parts.append(base[:, None, :] ^ words)
    return np.concatenate(parts) if parts else np.empty((0, keys, 3), dtype=np.uint64)


def near_queries(rng: np.random.Generator, words: np.ndarray, counts: np.ndarray, k: int):
    """Reposts of stored images: a stored row with 0–16 bits flipped and its histogram nudged
    (one in five an exact copy)."""
    rows = rng.integers(0, len(words), size=k)
    exact = rng.random(k) < 0.2
    flips = np.where(exact, 0, rng.integers(1, 17, size=k))
    nudged = _nudge(rng, counts[rows], 0.01)
    nudged[exact] = counts[rows][exact]
    return _flip_bits(rng, words[rows], flips), nudged


def novel_queries(rng: np.random.Generator, k: int):
    return _fresh(rng, k)


# --- bulk loading -------------------------------------------------------------------------------

def _copy(cursor, table: str, columns: str, lines) -> None:
    buffer = io.StringIO("".join(lines))
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def load(server_uri: str, start: int, words: np.ndarray, counts: np.ndarray, regions: np.ndarray | None = None) -> float:
    """Insert images start+1 … start+len(words) with their post, dhash and histogram (and region
    dhashes, if given); seconds taken."""
    began = time.monotonic()
    ids = np.arange(start + 1, start + len(words) + 1)
    connection = psycopg2.connect(server_uri)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("INSERT INTO subreddit (name, created) VALUES ('pics', '2008-01-25') "
                           "ON CONFLICT DO NOTHING")
            _copy(cursor, "submission", "id, title, author, subreddit, created",
                  (f"b{np.base_repr(i, 36).lower()}\trepost number {i}\tuser{i % 5000}\tpics\t2024-05-01 12:00:00+00\n"
                   for i in ids.tolist()))
            _copy(cursor, "image", "id, url, submission_id, state",
                  (f"{i}\thttps://i.redd.it/{i}.jpg\tb{np.base_repr(i, 36).lower()}\tencoded\n" for i in ids.tolist()))
            signed = words.view(np.int64)
            cursor.execute("CREATE TEMP TABLE stage_dhash (id bigint, r bigint, g bigint, b bigint) ON COMMIT DROP")
            _copy(cursor, "stage_dhash", "id, r, g, b",
                  (f"{i}\t{r}\t{g}\t{b}\n" for i, (r, g, b) in zip(ids.tolist(), signed.tolist())))
            cursor.execute("INSERT INTO dhash (id, red, green, blue) "
                           "SELECT id, r::bit(64), g::bit(64), b::bit(64) FROM stage_dhash")
            cursor.execute("CREATE TEMP TABLE stage_histogram (id bigint, v int[]) ON COMMIT DROP")
            _copy(cursor, "stage_histogram", "id, v",
                  (f"{i}\t{{{','.join(map(str, row))}}}\n" for i, row in zip(ids.tolist(), counts.tolist())))
            cursor.execute("INSERT INTO histogram (id, red, green, blue) SELECT id, v[1:4], v[5:8], v[9:12] "
                           "FROM stage_histogram")
            if regions is not None:
                flat = regions.reshape(len(regions), -1).view(np.int64)
                _copy(cursor, "region_dhash", "id, dhashes",
                      (f"{i}\t{{{','.join(map(str, row))}}}\n" for i, row in zip(ids.tolist(), flat.tolist())))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE submission, image, dhash, histogram, region_dhash")
    finally:
        connection.close()
    return time.monotonic() - began


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    values = np.array(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))
