"""Logging set-up shared by every process: LOG_LEVEL and LOG_FORMAT=text|json."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr at `level` (LOG_LEVEL), as text or one JSON object per line (LOG_FORMAT)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    known_level = isinstance(logging.getLevelName(str(level).upper()), int)
    root.setLevel(str(level).upper() if known_level else logging.INFO)
    for noisy in ("urllib3", "prawcore", "pmaw", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if not known_level:
        logging.getLogger(__name__).warning("LOG_LEVEL=%s is not a level (DEBUG, INFO, WARNING, ERROR); "
                                            "logging at INFO", level)
    if fmt not in ("json", "text"):
        logging.getLogger(__name__).warning("LOG_FORMAT=%s is neither json nor text; logging as text", fmt)
