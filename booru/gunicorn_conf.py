"""gunicorn settings for booru; BOORU_BIND, BOORU_WORKERS and BOORU_THREADS override them.

Also: LOG_LEVEL and LOG_FORMAT=json|text for gunicorn's own logs and the app's, and the shared
directory of prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, default
VAR_DIR/prometheus), set before any worker imports prometheus_client, emptied when gunicorn
starts, with each dead worker marked. One directory per gunicorn: two gunicorns started from the
same checkout need different PROMETHEUS_MULTIPROC_DIR values.

The search indexes' bases are files under SEARCH_INDEX_DIR (default VAR_DIR/search-index, one
folder per database, emptied when gunicorn starts) that every worker maps, so a machine holds one
copy of them however many workers run, also after a base is rebuilt
(booru/func/similarity/stored.py; SEARCH_INDEX_DIR empty: each process builds its own in memory,
shared copy-on-write from the master until a worker rebuilds). The master stores them before it forks the workers
(preload_app, BOORU_PRELOAD=0 turns it off: then the first worker to start stores them and the
others wait for it). Each worker follows new fingerprints in its own small delta. The master's
database connections are closed before the fork.
"""
import ctypes
import logging
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, whatever the cwd

from gunicorn import glogging  # noqa: E402

from common.config import load_settings  # noqa: E402
from common.logs import JsonFormatter, setup_logging  # noqa: E402

_settings = load_settings()
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_settings.var_dir / "prometheus"))
os.environ.setdefault("SEARCH_INDEX_DIR", str(_settings.var_dir / "search-index"))
setup_logging(_settings.log_level, _settings.log_format)

bind = os.environ.get("BOORU_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("BOORU_WORKERS", (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("BOORU_THREADS", 4))
# booru.serving.Worker reads whole requests on an event loop before a thread runs the app, so slow
# clients hold no thread (README "Limits"); BOORU_WORKER_CLASS=gthread is gunicorn's threaded worker,
# kept for comparison (bench/hostile_bench.py).
worker_class = os.environ.get("BOORU_WORKER_CLASS", "booru.serving.Worker")
worker_connections = int(os.environ.get("BOORU_CONNECTIONS", 1000))
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new connections over
# the workers: on one shared socket, whichever event loop wakes first accepts a whole burst.
reuse_port = True
# What gunicorn itself refuses (README "Limits"): answered in JSON by booru.serving.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
timeout = 120
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
# supervisorctl manages booru; gunicorn's control socket would be one path shared by every gunicorn
# of the user (~/.gunicorn/gunicorn.ctl), so two boorus on one machine would take each other's.
control_socket_disable = True
preload_app = os.environ.get("BOORU_PRELOAD", "1") != "0"


# Danbooru clients may send the API key in the query string; the access log never shows it.
_KEY_PARAMETER = re.compile(r"(?i)((?:^|[?&])api_key=)[^&\s]*")


class Logger(glogging.Logger):
    """gunicorn's logger, in JSON when LOG_FORMAT=json, like the rest of LZBooru, and without API keys."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q"):
            if isinstance(atoms.get(name), str):
                atoms[name] = _KEY_PARAMETER.sub(r"\1[redacted]", atoms[name])
        return atoms

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if _settings.log_format == "json":
            for logger in (self.error_log, self.access_log):
                for handler in logger.handlers:
                    handler.setFormatter(JsonFormatter())


logger_class = Logger


def on_starting(server) -> None:
    """Start with an empty metrics directory (the counters of an earlier run are gone) and no
    stored search index (it may hold an earlier state of the database, e.g. before a restore);
    compile the search indexes' loops, once for every worker."""
    from booru import sqlalchemy_uri
    from booru.func.similarity import stored
    from booru.func.similarity.dhash_index import compile_loops

    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    logging.getLogger("booru").info("metrics of all workers gathered in %s", path)
    if os.environ["SEARCH_INDEX_DIR"]:
        stored.clear(stored.directory_for(Path(os.environ["SEARCH_INDEX_DIR"]), sqlalchemy_uri(_settings.database_uri)))
    started = time.monotonic()
    compile_loops()  # before the workers are forked: they share the compiled loops
    logging.getLogger("booru").info("search index loops compiled (or read from numba's cache) in %.1f s",
                                    time.monotonic() - started)


def when_ready(server) -> None:
    """With preload_app: store the search indexes' bases in the master, then close its
    connections, so the workers forked next map the bases and open connections of their own."""
    if not server.cfg.preload_app:
        return
    from booru.extensions import db
    from booru.func.similarity import preload

    app = server.app.wsgi()
    preload(app)
    with app.app_context():
        db.engine.dispose()


def post_fork(server, worker) -> None:
    """A forked worker never uses the master's pooled connections (closed without a goodbye)."""
    if server.cfg.preload_app:
        from booru.extensions import db

        with worker.app.wsgi().app_context():
            db.engine.dispose(close=False)


M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def post_worker_init(worker) -> None:
    """Give large buffers back to the system as soon as they are freed (a decoded upload's pixels:
    glibc otherwise raises its mmap threshold up to 32 MiB and keeps them in the heap), and bring
    the worker's search indexes up to date in the background (load them, without preload_app), so
    its first search is fast."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
    except (OSError, AttributeError):  # not glibc
        pass
    from booru.func.similarity import warm_up

    warm_up(getattr(worker, "flask_app", None) or worker.wsgi)


def child_exit(server, worker) -> None:
    """A worker is gone: drop its live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
