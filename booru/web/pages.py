"""The pages: search by picture, browse, one image, the archive's state. Thin over booru.func."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from booru.api.base import instance
from booru import quota
from booru.auth import requires
from booru.errors import ApiError, Unusable
from booru.func import gallery, images, stats, subreddits
from booru.func import similarity as search
from booru.func.similarity.results import PostFilter
from booru.schemas import ALGORITHMS, DEFAULT_ALGORITHM, ImageListQuery, SimilarityQuery
from booru.web.blueprint import web
from booru.web.pictures import POST_FILTERS
from booru.web.results import grouped_tags, http_url, human_bytes, pictures, when

PAGE_SIZE = 48
SIMILAR = 12
SEARCH_PARAMETERS = ("algorithm", "q", "max_distance", *POST_FILTERS)
BROWSE_FILTERS = ("tags", "subreddit", "author", "nsfw", "cursor")
MAX_TAG_PREFIX = 100

web.add_app_template_filter(when, "when")
web.add_app_template_filter(human_bytes, "human_bytes")
web.add_app_template_filter(http_url, "http_url")


def _given(source: MultiDict, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields that were filled in (an empty form field means "not set")."""
    return {name: source[name].strip() for name in names if source.get(name, "").strip()}


def _search_form(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"algorithms": ALGORITHMS, "default_algorithm": DEFAULT_ALGORITHM, "values": values or {}}


@web.get("/")
@requires("reader")
def index():
    return render_template("search.html", form=_search_form())


def _read_upload() -> bytes | None:
    upload = request.files.get("image")
    if upload is None or not upload.filename:  # a form's empty file field still sends a part
        return None
    limit = current_app.config["SETTINGS"].max_image_bytes
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(f"the image is larger than {limit} bytes", status=413)
    return data or None


def _results(source: MultiDict):
    """Search with the picture uploaded or named by `url`, and show what was found."""
    chosen = _given(source, SEARCH_PARAMETERS + ("url",))
    form = _search_form(chosen)
    try:
        params = instance(SimilarityQuery).load({k: v for k, v in chosen.items() if k in SEARCH_PARAMETERS})
        data, field = _read_upload(), "image"
        if data is None:
            if "url" not in chosen:
                raise Unusable("choose a picture, drop or paste one, or give its URL", {"image": ["missing"]})
            data, field = search.fetch_image(chosen["url"]), "url"
        found = search.search_fingerprint(search.fingerprint_query(data, field), params["algorithm"],
                                          params["q"], params.get("max_distance"),
                                          PostFilter(**{name: params[name] for name in POST_FILTERS}))
    except ApiError as exc:
        return render_template("search.html", form=form, error=exc.message, errors=exc.errors or {}), exc.status
    except ValidationError as exc:
        return render_template("search.html", form=form, error="the search is not valid", errors=exc.messages), 422
    return render_template("results.html", form=form, found=found, pictures=pictures(found),
                           query_url=chosen.get("url"),
                           filters={name: chosen[name] for name in POST_FILTERS if name in chosen})


@web.post("/search")
@requires("reader", cost=quota.SEARCH)
def search_upload():
    return _results(MultiDict({**request.args.to_dict(), **request.form.to_dict()}))


@web.get("/search")
@requires("reader", cost=quota.SEARCH)
def search_url():
    """Results for `?url=`: for links, bookmarklets and a browser's "search image with" entry."""
    if not request.args.get("url", "").strip():
        return redirect(url_for("web.index"))
    return _results(request.args)


@web.get("/browse")
@requires("reader")
def browse():
    chosen = _given(request.args, BROWSE_FILTERS)
    filters = instance(ImageListQuery).load(chosen)
    filters.update(state="encoded", limit=PAGE_SIZE)
    items, cursor = images.list_images(filters)
    kept = {k: v for k, v in chosen.items() if k != "cursor"}
    return render_template("browse.html", items=items, filters=kept, subreddits=subreddits.list_subreddits(),
                           next_url=url_for("web.browse", **kept, cursor=cursor) if cursor else None,
                           first_url=url_for("web.browse", **kept) if "cursor" in chosen else None)


@web.get("/browse/tags")
@requires("reader")
def tag_suggestions():
    """Tags starting with `?q=`, for the browse page's autocomplete."""
    return jsonify(gallery.suggest_tags(request.args.get("q", "")[:MAX_TAG_PREFIX]))


def _similar(image_id: int, copies: set[int]) -> list[dict]:
    """Pictures like a stored one, best first, without its own copies."""
    fingerprint = gallery.stored_fingerprint(image_id)
    if fingerprint is None:
        return []
    found = search.search_fingerprint(fingerprint, "combined", SIMILAR + len(copies), None)
    return [hit for hit in pictures(found) if hit["id"] not in copies][:SIMILAR]


@web.get("/image/<int:image_id>")
@requires("reader")
def image_page(image_id: int):
    image = images.get_image(image_id)
    posts = gallery.posts_of_picture(image_id, image["sha256"])
    copies = {post["image_id"] for post in posts} | {image_id}
    return render_template("image.html", image=image, posts=posts, tags=grouped_tags(image["tags"]),
                           similar=_similar(image_id, copies))


@web.get("/status")
@requires("admin")
def status():
    """What `flask stats` prints, for an admin."""
    return render_template("status.html", stats=stats.archive_stats())
