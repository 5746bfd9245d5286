"""`python -m greg` runs the aggregation daemon; `python -m greg import FILE.zst ...` imports dumps."""
from __future__ import annotations

import argparse
import logging
import sys

from common.client import BooruClient
from common.config import load_settings
from common.logs import setup_logging

log = logging.getLogger("greg")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m greg", description=__doc__)
    top.add_argument("--once", action="store_true", help="run one chapter and exit")
    commands = top.add_subparsers(dest="command")
    commands.add_parser("run", help="run the daemon (the default)")
    imp = commands.add_parser("import", help="import monthly submission dumps (RS_YYYY-MM.zst)")
    imp.add_argument("files", nargs="+", metavar="FILE.zst")
    imp.add_argument("--subreddit", "-s", action="append", default=[], metavar="NAME",
                     help="keep this subreddit (repeatable; default: the subreddits booru knows)")
    imp.add_argument("--batch", type=int, default=1000, help="submissions per POST (default 1000)")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    if not settings.api_key:
        log.error("API_KEY is not set: greg needs a key with the greg role")
        return 2
    if args.command == "import":
        from greg import dump
        client = BooruClient(settings.url, settings.api_key)
        return dump.main(args.files, args.subreddit, min(max(args.batch, 1), 1000), client,
                         progress=not args.no_progress)
    from greg.worker import Greg
    daemon = Greg(settings)
    log.info("greg starting: booru=%s source=%s", settings.url, settings.greg_source)
    return daemon.main(once=args.once)


if __name__ == "__main__":
    sys.exit(main())
