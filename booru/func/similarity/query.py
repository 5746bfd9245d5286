"""The query image: fetched safely from a user's URL or uploaded, then fingerprinted."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from flask import current_app

from booru.errors import Unusable
from common.fetch import IMAGE_TYPES, FetchError, fetch
from common.fingerprint import Fingerprint, ImageError, fingerprint_rendered

FETCH_DEADLINE = 30.0


def fetch_image(url: str) -> bytes:
    """The image at a user's URL, through the safe fetcher only."""
    settings = current_app.config["SETTINGS"]
    try:
        return fetch(url, max_bytes=settings.max_image_bytes, timeout=settings.fetch_timeout,
                     deadline=min(settings.fetch_deadline, FETCH_DEADLINE), accept_types=IMAGE_TYPES).content
    except FetchError as exc:
        raise Unusable(f"cannot fetch the image at url: {exc.reason}", {"url": [exc.reason]}) from None


@dataclass(frozen=True)
class Query(Fingerprint):
    """A query image's fingerprint with the upright render it was computed from, for the
    searches that look at the picture itself (`visual`) without decoding it again."""

    render: np.ndarray | None = field(default=None, repr=False, compare=False)


def fingerprint_query(data: bytes, field_name: str) -> Query:
    try:
        settings = current_app.config["SETTINGS"]
        found, small = fingerprint_rendered(data, settings.max_image_pixels, query=True,
                                            max_decode_pixels=settings.max_decode_pixels)
        return Query(**vars(found), render=small)
    except ImageError as exc:
        raise Unusable(f"cannot use the image: {exc.reason}", {field_name: [exc.reason]}) from None

