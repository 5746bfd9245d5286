"""`python -m parsa [--type T ...] [--once]`: resolve claimed links into images until SIGTERM."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from common.client import BooruClient
from common.config import load_settings
from common.logs import setup_logging
from parsa.resolvers import Context
from parsa.worker import Parsa, parse_types

log = logging.getLogger("parsa")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parsa", description=__doc__)
    parser.add_argument("--type", action="append", default=[], metavar="T",
                        help="only claim links of this type (reddit, imgur, booru, generic); "
                             "repeatable or comma-separated; default: PARSA_TYPES or every type")
    parser.add_argument("--once", action="store_true", help="run one chapter and exit")
    parser.add_argument("--batch", type=int, help="links per claim (PARSA_BATCH)")
    parser.add_argument("--threads", type=int, help="resolver threads (PARSA_THREADS)")
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    try:
        types = parse_types(args.type or [os.environ.get("PARSA_TYPES", "")])
    except ValueError as exc:
        parser.error(str(exc))
    if not settings.api_key:
        log.error("API_KEY is not set: parsa needs a key with the parsa role")
        return 2
    daemon = Parsa(BooruClient(settings.url, settings.api_key), Context.from_settings(settings),
                   interval=settings.chapter_interval, batch=args.batch or settings.parsa_batch,
                   threads=args.threads or settings.parsa_threads, types=types)
    log.info("parsa starting: booru=%s types=%s", settings.url, ",".join(types) or "all")
    if not settings.imgur_client_id:
        log.warning("IMGUR_CLIENT_ID is not set: Imgur albums and galleries will fail until it is")
    return daemon.main(once=args.once)


if __name__ == "__main__":
    sys.exit(main())
