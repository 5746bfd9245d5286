"""Greg's chapter: for every subreddit booru knows, fetch what is new and post it.

`updated` (and `backfilled_until` for the archive half of a combined source) only move
after booru accepted the posts before that point, so a crash or a booru outage never
skips posts; fetching an overlap again is harmless because booru upserts by id.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Iterable, Iterator

from common.client import BooruClient, BooruError, BooruUnavailable
from common.config import Settings
from common.daemon import Chapter, Daemon
from common.http_failures import Backoff
from greg.format import BadPost, format_submission, iso, parse_time
from greg.sources import Interrupted, Page, Plan, Source, UpstreamError, build, plan, trouble

log = logging.getLogger("greg")

BATCH = 1000                 # submissions per POST /api/submission
PAGES_PER_CHAPTER = 50       # archive pages per subreddit per chapter, so every subreddit moves
EPOCH = datetime(2005, 6, 1, tzinfo=timezone.utc)  # before Reddit's first post


def format_all(posts: Iterable[dict], subreddit: str | None = None) -> tuple[list[dict], int]:
    """(submissions, bad): payloads deduplicated by id; `subreddit` forces booru's spelling."""
    out: dict[str, dict] = {}
    bad = 0
    for post in posts:
        try:
            submission = format_submission(post)
        except BadPost as exc:
            log.warning("greg: skipping a malformed post: %s", exc)
            bad += 1
            continue
        if subreddit is not None:
            submission["subreddit"] = subreddit
        out[submission["id"]] = submission
    return list(out.values()), bad


def post_batches(client: BooruClient, submissions: list[dict], batch: int = BATCH) -> tuple[int, int]:
    """(accepted, rejected): posts in batches; a batch booru refuses as invalid is split until
    the offending submissions are found, logged and skipped. BooruUnavailable propagates."""
    accepted = rejected = 0
    for start in range(0, len(submissions), batch):
        done, refused = _post_or_split(client, submissions[start:start + batch])
        accepted, rejected = accepted + done, rejected + refused
    return accepted, rejected


def _post_or_split(client: BooruClient, chunk: list[dict]) -> tuple[int, int]:
    if not chunk:
        return 0, 0
    try:
        client.post_submissions(chunk)
        return len(chunk), 0
    except BooruError as exc:
        if exc.status not in (400, 409, 413, 422):
            raise
        if len(chunk) == 1:
            log.warning("greg: booru refused submission %s: %s %s", chunk[0]["id"], exc.message,
                        exc.payload.get("errors") if isinstance(exc.payload, dict) else "")
            return 0, 1
    middle = len(chunk) // 2
    left, right = _post_or_split(client, chunk[:middle]), _post_or_split(client, chunk[middle:])
    return left[0] + right[0], left[1] + right[1]


def starting_after(subreddits: list[dict], name: str | None) -> list[dict]:
    """The subreddits in booru's order, begun after `name`: a subreddit whose upstream fails every
    time (and backs its whole source off) cannot keep the ones behind it waiting forever."""
    names = [subreddit["name"] for subreddit in subreddits]
    start = names.index(name) + 1 if name in names else 0
    return subreddits[start:] + subreddits[:start]


class Greg(Daemon):
    name = "greg"

    def __init__(self, settings: Settings, client: BooruClient | None = None):
        super().__init__(settings.chapter_interval)
        self.settings = settings
        self.client = client or BooruClient(settings.url, settings.api_key)
        self.sources: dict[str, Source] = {}
        self.backoff = Backoff(base=2.0, cap=900.0)  # per source, after upstream trouble
        self.last_asked: str | None = None  # the subreddit a source was last asked about

    def source(self, name: str) -> Source:
        if name not in self.sources:
            self.sources[name] = build(name, self.settings, self.stop_event)
        return self.sources[name]

    def chapter(self, report: Chapter) -> None:
        subreddits = self.client.subreddits()
        report.add("subreddits", len(subreddits))
        unusable = self.unusable_sources(subreddits, report)
        for subreddit in starting_after(subreddits, self.last_asked):
            if self.stopping:
                break
            self.sync(subreddit, unusable, report)

    def unusable_sources(self, subreddits: list[dict], report: Chapter) -> set[str]:
        """Sources that cannot work this chapter, each logged once (missing credentials...)."""
        unusable: set[str] = set()
        specs = {s.get("source") or self.settings.greg_source for s in subreddits}
        for spec in specs | {self.settings.greg_source}:
            try:
                chosen = plan(spec)
            except ValueError as exc:
                log.error("greg: %s", exc)
                report.add("errors")
                continue
            for name in filter(None, (chosen.archive, chosen.live)):
                problem = self.source(name).problem() if name not in unusable else None
                if problem:
                    log.warning("greg: %s", problem)
                    report.add("errors")
                    unusable.add(name)
        return unusable

    def sync(self, subreddit: dict, unusable: set[str], report: Chapter) -> None:
        try:
            spec = plan(subreddit.get("source") or self.settings.greg_source)
        except ValueError:
            return  # logged once per chapter by unusable_sources
        try:
            if spec.live not in unusable and self.backoff.ready(spec.live):
                self.last_asked = subreddit["name"]
                updated = self.run_live(subreddit, spec, report)
                if updated is not None:
                    subreddit = {**subreddit, "updated": iso(updated)}
            if spec.archive and spec.archive not in unusable and self.backoff.ready(spec.archive):
                self.last_asked = subreddit["name"]
                self.run_archive(subreddit, spec.archive, report)
        except BooruError as exc:
            if exc.status != 404:
                raise
            log.warning("greg: r/%s vanished from booru meanwhile: %s", subreddit["name"], exc)
            report.add("errors")

    def run_live(self, subreddit: dict, spec: Plan, report: Chapter) -> datetime | None:
        """Fetch from `updated` (or creation) on; returns the new `updated`, None on failure."""
        name = subreddit["name"]
        start = parse_time(subreddit.get("updated")) or parse_time(subreddit.get("created")) or EPOCH
        source = self.source(spec.live)
        moved = self.consume(spec.live, name, source.fetch_since(name, start), "updated", start,
                             report, limit=None if source.live else PAGES_PER_CHAPTER)
        if moved is not None:
            self.client.update_subreddit(name, last_polled=iso(datetime.now(timezone.utc)))
            if moved == start and parse_time(subreddit.get("updated")) is None:
                return None  # nothing fetched: still no live high-water mark
        return moved

    def run_archive(self, subreddit: dict, archive: str, report: Chapter) -> None:
        """Backfill from `backfilled_until` (or creation) up to the live source's `updated`
        (up to now while the live source has no high-water mark yet)."""
        name = subreddit["name"]
        bound = parse_time(subreddit.get("updated")) or datetime.now(timezone.utc)
        start = parse_time(subreddit.get("backfilled_until")) or parse_time(subreddit.get("created")) or EPOCH
        if start >= bound:
            return
        pages = self.source(archive).fetch_since(name, start, bound)
        self.consume(archive, name, pages, "backfilled_until", start, report, limit=PAGES_PER_CHAPTER)

    def consume(self, source: str, name: str, pages: Iterator[Page], mark: str,
                start: datetime, report: Chapter, limit: int | None) -> datetime | None:
        """Post each page, then move `mark` to its checkpoint. Returns the last mark, or None
        when the source failed (logged once, backed off) or greg is stopping."""
        mark_at = start
        try:
            for count, page in enumerate(pages, 1):
                report.add("fetched", len(page.posts))
                self.post(name, page.posts, report)
                if page.until is not None and page.until > mark_at:
                    self.client.update_subreddit(name, **{mark: iso(page.until)})
                    mark_at = page.until
                if self.stopping or (limit is not None and count >= limit):
                    break
        except Interrupted:
            return None
        except (BooruUnavailable, BooruError):
            raise
        except UpstreamError as exc:
            self.upstream_failed(source, name, exc, report)
            return None
        except Exception as exc:  # a surprise from a source library must not crash-loop greg
            log.debug("greg: %s failed on r/%s", source, name, exc_info=True)
            self.upstream_failed(source, name, UpstreamError(
                f"unexpected {exc.__class__.__name__}: {exc}"), report)
            return None
        finally:
            close = getattr(pages, "close", None)
            if close:
                close()
        self.backoff.ok(source)
        trouble.clear(source)
        trouble.clear(f"{source} r/{name}")
        return mark_at

    def upstream_failed(self, source: str, name: str, exc: UpstreamError, report: Chapter) -> None:
        """Log once, count, and back the source off (not for one subreddit's own trouble)."""
        report.add("errors")
        if exc.subreddit_only:
            trouble.report(f"{source} r/{name}", exc.reason)
            return
        wait = self.backoff.fail(source, exc.retry_after)
        trouble.report(source, exc.reason, f"; backing off {wait:.0f}s")

    def post(self, name: str, posts: list[dict], report: Chapter) -> None:
        submissions, bad = format_all(posts, subreddit=name)
        accepted, rejected = post_batches(self.client, submissions)
        report.add("posted", accepted)
        if bad or rejected:
            report.add("errors", bad + rejected)
