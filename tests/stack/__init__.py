"""The whole stack as supervisord.conf starts it (embedded PostgreSQL, booru under gunicorn, greg,
parsa, coco) against the fake internet: the end-to-end pipeline and the faults it must survive.

    python -m pytest tests/stack -q          # about 3 minutes on 2 cores
    LZB_KEEP_STACK=1 python -m pytest ...     # keep the temporary var/ (logs, pgdata) afterwards

One stack serves the whole package (tests/stack/conftest.py); each test uses its own subreddits
and URLs, and the fake internet is never reset under it.
"""
