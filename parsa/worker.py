"""The Parsa daemon: claim links -> resolve them on a thread pool -> post images -> report."""
from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from common.client import BooruClient, BooruError
from common.daemon import Chapter, Daemon, give_back
from parsa import resolvers
from parsa.resolvers import Context, ResolvedImage, ResolveError, Transient, Unsupported

log = logging.getLogger(__name__)
LINK_TYPES = ("reddit", "imgur", "booru", "generic")
POST_IMAGES = 4000  # images per post (booru takes up to 5000)
MAX_POSITION = 1000
REPORT_CHUNK = 1000  # booru takes up to 1000 lease reports at once
MAX_RETRY_AFTER = 30 * 86400


@dataclass(eq=False)
class Outcome:
    """What became of one claimed link."""

    link: dict
    images: list[ResolvedImage] = field(default_factory=list)
    error: ResolveError | None = None

    @property
    def report(self) -> dict:
        return {"id": self.link["id"], "lease": self.link["lease"]}

    def failure(self) -> dict:
        """`{id, lease, error, permanent}` plus `unsupported` and `retry_after` when they apply."""
        error = self.error
        assert error is not None
        report = {**self.report, "error": describe(error)[:2000], "permanent": error.permanent}
        if isinstance(error, Unsupported):
            report["unsupported"] = True
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            report["retry_after"] = int(min(max(retry_after, 0), MAX_RETRY_AFTER))
        return report

    def image_payloads(self) -> list[dict]:
        """The images to post, numbered in their gallery order."""
        return [dict(image.as_payload(self.link["id"]), position=min(n, MAX_POSITION))
                for n, image in enumerate(self.images)]


def describe(error: ResolveError) -> str:
    """`dead: …` / `unsupported: …` / `failed: …`, so booru can file a permanent failure right."""
    return f"{error.state}: {error.reason}"


def resolve_link(link: dict, ctx: Context) -> Outcome:
    """Resolve one claimed link; never raises (a bug becomes a transient failure)."""
    try:
        return Outcome(link, images=resolvers.resolve(str(link.get("url") or ""), ctx))
    except ResolveError as exc:
        return Outcome(link, error=exc)
    except Exception as exc:  # an upstream surprise must not lose the rest of the batch
        log.exception("resolving link %s (%s) failed", link.get("id"), link.get("url"))
        return Outcome(link, error=Transient(f"internal error: {exc.__class__.__name__}: {exc}"))


class Parsa(Daemon):
    name = "parsa"
    max_rounds = 10  # full batches worked back to back before the chapter ends

    def __init__(self, client: BooruClient, ctx: Context, *, interval: float, batch: int = 50,
                 threads: int = 8, types: Sequence[str] = ()):
        super().__init__(interval)
        self.client = client
        self.ctx = ctx
        self.batch = batch
        self.threads = max(1, threads)
        self.types: list[str | None] = list(types) or [None]

    def chapter(self, report: Chapter) -> None:
        """Per link type: claim, resolve, settle; claim again while batches come back full."""
        with ThreadPoolExecutor(self.threads, thread_name_prefix="parsa") as pool:
            for link_type in self.types:
                for _ in range(self.max_rounds):
                    if self.stopping:
                        return
                    links = self.client.claim_links(self.batch, link_type)
                    report.add("claimed", len(links))
                    if links:
                        self.settle(self.resolve_all(pool, links), report)
                    if len(links) < self.batch:
                        break

    def resolve_all(self, pool: ThreadPoolExecutor, links: list[dict]) -> list[Outcome]:
        """Resolve concurrently; on stop, links not yet started are given back."""
        pending: set[Future] = {pool.submit(self.resolve_unless_stopping, link) for link in links}
        done: list[Outcome] = []
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            done.extend(o for o in (future.result() for future in finished) if o is not None)
            if self.stopping and pending:
                pending = {future for future in pending if not future.cancel()}
        begun = {outcome.link["id"] for outcome in done}
        give_back(self.client.release_links, [link for link in links if link["id"] not in begun], "links")
        order = {link["id"]: index for index, link in enumerate(links)}
        return sorted(done, key=lambda outcome: order.get(outcome.link["id"], 0))


    def resolve_unless_stopping(self, link: dict) -> Outcome | None:
        return None if self.stopping else resolve_link(link, self.ctx)

    def settle(self, outcomes: list[Outcome], report: Chapter) -> None:
        """Post the images, then report each link done or failed."""
        resolved = [o for o in outcomes if o.error is None]
        refused = self.post_images(resolved)
        for outcome in refused:
            outcome.error = Transient(f"booru refused the images: {refused[outcome]}")
        resolved = [o for o in resolved if o.error is None]
        failed = [o for o in outcomes if o.error is not None]
        self.report_items(self.client.links_done, [o.report for o in resolved])
        self.report_items(self.client.links_failed, [o.failure() for o in failed])
        report.add("resolved", len(resolved))
        report.add("images", sum(len(o.images) for o in resolved))
        for outcome in failed:
            report.add({"dead": "dead", "unsupported": "unsupported"}.get(outcome.error.state, "failed"))
            log.info("link %s %s", outcome.link["id"], describe(outcome.error))

    def post_images(self, outcomes: list[Outcome]) -> dict[Outcome, str]:
        """Post in chunks; a refused chunk is retried link by link to find the culprit."""
        refused: dict[Outcome, str] = {}
        for chunk in _image_batches(outcomes, POST_IMAGES):
            payload = [image for outcome in chunk for image in outcome.image_payloads()]
            try:
                self.client.post_images(payload)
            except BooruError:
                for outcome in chunk:
                    try:
                        self.client.post_images(outcome.image_payloads())
                    except BooruError as exc:
                        refused[outcome] = exc.message
        return refused

    def report_items(self, send, items: list[dict]) -> None:
        """Send a report; if booru refuses the batch (an expired lease), send item by item."""
        for chunk in _chunks(items, REPORT_CHUNK):
            try:
                send(chunk)
            except BooruError:
                for item in chunk:
                    try:
                        send([item])
                    except BooruError as exc:
                        log.warning("booru refused the report for link %s: %s", item["id"], exc)


def _image_batches(outcomes: list[Outcome], max_images: int) -> Iterable[list[Outcome]]:
    """Group links so that each post carries at most `max_images` images (one link never splits)."""
    batch: list[Outcome] = []
    count = 0
    for outcome in outcomes:
        if batch and count + len(outcome.images) > max_images:
            yield batch
            batch, count = [], 0
        batch.append(outcome)
        count += len(outcome.images)
    if batch:
        yield batch


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def parse_types(values: Iterable[str]) -> list[str]:
    """`--type reddit --type imgur,booru` / PARSA_TYPES=reddit,imgur -> ["reddit", "imgur", "booru"]."""
    types: list[str] = []
    for value in values:
        for name in (part.strip().lower() for part in value.split(",")):
            if not name:
                continue
            if name not in LINK_TYPES:
                raise ValueError(f"unknown link type {name!r} (expected one of {', '.join(LINK_TYPES)})")
            if name not in types:
                types.append(name)
    return types


