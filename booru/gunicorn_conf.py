"""gunicorn settings for booru; BOORU_BIND, BOORU_WORKERS and BOORU_THREADS override them.

Also: LOG_LEVEL and LOG_FORMAT=json|text for gunicorn's own logs and the app's, and the shared
directory of prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, default
VAR_DIR/prometheus), set before any worker imports prometheus_client, emptied when gunicorn
starts, with each dead worker marked. One directory per gunicorn: two gunicorns started from the
same checkout need different PROMETHEUS_MULTIPROC_DIR values.
"""
import ctypes
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, whatever the cwd

from gunicorn import glogging  # noqa: E402

from common.config import load_settings  # noqa: E402
from common.logs import JsonFormatter, setup_logging  # noqa: E402

_settings = load_settings()
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_settings.var_dir / "prometheus"))
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


class Logger(glogging.Logger):
    """gunicorn's logger, in JSON when LOG_FORMAT=json, like the rest of LZBooru."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if _settings.log_format == "json":
            for logger in (self.error_log, self.access_log):
                for handler in logger.handlers:
                    handler.setFormatter(JsonFormatter())


logger_class = Logger


def on_starting(server) -> None:
    """Start with an empty metrics directory: the counters of an earlier run are gone."""
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    logging.getLogger("booru").info("metrics of all workers gathered in %s", path)


M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def post_worker_init(worker) -> None:
    """Give large buffers back to the system as soon as they are freed (a decoded upload's pixels:
    glibc otherwise raises its mmap threshold up to 32 MiB and keeps them in the heap), and load
    the worker's search indexes in the background, so its first search is fast."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
    except (OSError, AttributeError):  # not glibc
        pass
    from booru.func.search import warm_up

    warm_up(getattr(worker, "flask_app", None) or worker.wsgi)


def child_exit(server, worker) -> None:
    """A worker is gone: drop its live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
