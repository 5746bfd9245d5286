"""`python -m coco [--once]`: fingerprint claimed images until SIGTERM."""
from __future__ import annotations

import argparse
import logging
import sys

from coco.worker import Coco
from common.client import BooruClient
from common.config import load_settings
from common.logs import setup_logging

log = logging.getLogger("coco")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coco", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run one chapter and exit")
    parser.add_argument("--batch", type=int, help="images per claim (COCO_BATCH)")
    parser.add_argument("--threads", type=int, help="download threads (COCO_THREADS)")
    parser.add_argument("--processes", type=int, help="fingerprinting processes, 1 = inline (COCO_PROCESSES)")
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    if not settings.api_key:
        log.error("API_KEY is not set: coco needs a key with the coco role")
        return 2
    daemon = Coco(BooruClient(settings.url, settings.api_key), settings, batch=args.batch,
                  threads=args.threads, processes=args.processes)
    log.info("coco starting: booru=%s batch=%d threads=%d processes=%d", settings.url, daemon.batch,
             daemon.threads, daemon.processes)
    return daemon.main(once=args.once)


if __name__ == "__main__":
    sys.exit(main())
