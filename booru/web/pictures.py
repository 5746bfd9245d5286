"""A picture's thumbnail for the pages, and every post of a picture a page at a time."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from booru.api.base import instance
from booru.api.queues import thumbnail_response
from booru import quota
from booru.auth import requires
from booru.errors import NotFound
from booru.func import gallery
from booru.func.similarity.results import PostFilter, picture_posts
from booru.schemas import SimilarityPostsQuery
from booru.web.blueprint import web
from booru.web.results import http_url

POSTS_PAGE = 50
POST_FILTERS = ("subreddit", "author", "nsfw", "after", "before")
REDIRECT_SECONDS = 300  # how long a browser may keep going to the original URL before asking again


@web.get("/image/<int:image_id>/thumbnail")
@requires("reader", cost=quota.THUMBNAIL)
def image_thumbnail(image_id: int):
    """The stored thumbnail, else a redirect to the archived http(s) URL (no thumbnail was made:
    THUMBNAIL_SIZE=0, or the image was fingerprinted before thumbnails existed)."""
    response = thumbnail_response(image_id)
    if response is not None:
        return response
    target = http_url(gallery.image_url(image_id))
    if not target:
        raise NotFound(f"no thumbnail of image {image_id}")
    response = redirect(target, 302)
    response.headers["Cache-Control"] = f"private, max-age={REDIRECT_SECONDS}"
    return response


@web.get("/picture/<int:image_id>/posts")
@requires("reader")
def picture_posts_page(image_id: int):
    """The posts of the picture that image `image_id` is, oldest first, filtered as the search was,
    keyset paged by `cursor`."""
    given = {name: value.strip() for name, value in request.args.items()
             if name in POST_FILTERS + ("cursor",) and value.strip()}
    args = instance(SimilarityPostsQuery).load({**given, "image": image_id, "limit": POSTS_PAGE})
    page = picture_posts(image_id, PostFilter(**{name: args[name] for name in POST_FILTERS}), POSTS_PAGE,
                         args["cursor"])
    if page is None:
        raise NotFound(f"no image {image_id}")
    filters = {name: value for name, value in given.items() if name != "cursor"}
    return render_template(
        "posts.html", image_id=image_id, page=page, filters=filters,
        next_url=url_for("web.picture_posts_page", image_id=image_id, **filters, cursor=page["next"])
        if page["next"] else None,
        first_url=url_for("web.picture_posts_page", image_id=image_id, **filters) if "cursor" in given else None)
