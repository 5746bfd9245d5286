"""The HTTP edge: thin Flask-RESTful resources over booru.func, under /api, and the Danbooru read API at the root."""
from __future__ import annotations

from flask import Flask

from booru.api.archive import Health, Stats, SubmissionItem, SubmissionList, SubredditItem, SubredditList
from booru.api.base import BooruApi
from booru.api.chapters import ChapterReport
from booru.api.danbooru import DanbooruPost, DanbooruPostCounts, DanbooruPosts, DanbooruTags
from booru.api.openapi import OpenApi
from booru.api.queues import (Dhashes, Fingerprints, Histograms, ImageClaim, ImageItem, ImageList, ImageRelease,
                              ImageThumbnail, LinkClaim, LinkList, LinkRelease, LinksOfType)
from booru.api.similarity import SimilarityFile, SimilarityPosts, SimilarityUrl
from booru.api.upgrade import UpgradeClaim, UpgradeRelease, Upgrades

ROUTES = [
    (Health, "/api/health"),
    (Stats, "/api/stats"),
    (SubredditList, "/api/subreddit"),
    (SubredditItem, "/api/subreddit/<string:name>"),
    (SubmissionList, "/api/submission"),
    (SubmissionItem, "/api/submission/<string:submission_id>"),
    (LinkList, "/api/link"),
    (LinkClaim, "/api/link/claim"),
    (LinkRelease, "/api/link/release"),
    (LinksOfType, "/api/link/<string:link_type>"),
    (ImageList, "/api/image"),
    (ImageClaim, "/api/image/claim"),
    (ImageRelease, "/api/image/release"),
    (Fingerprints, "/api/image/fingerprints"),
    (ImageItem, "/api/image/<int:image_id>"),
    (ImageThumbnail, "/api/image/<int:image_id>/thumbnail"),
    (Upgrades, "/api/image/upgrade"),
    (UpgradeClaim, "/api/image/upgrade/claim"),
    (UpgradeRelease, "/api/image/upgrade/release"),
    (Histograms, "/api/histogram"),
    (Dhashes, "/api/dhash"),
    (ChapterReport, "/api/chapter"),
    (OpenApi, "/api/openapi.json"),
    (SimilarityUrl, "/api/similarity/url"),
    (SimilarityFile, "/api/similarity/file"),
    (DanbooruPosts, "/posts.json"),
    (DanbooruPost, "/posts/<int:post_id>.json"),
    (DanbooruTags, "/tags.json"),
    (DanbooruPostCounts, "/counts/posts.json"),
    (SimilarityPosts, "/api/similarity/posts"),
]


def init_api(app: Flask) -> BooruApi:
    api = BooruApi(app, catch_all_404s=True)
    for resource, path in ROUTES:
        api.add_resource(resource, path)
    return api
