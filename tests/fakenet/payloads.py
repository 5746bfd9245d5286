"""Builders for upstream payloads (Reddit, Pushshift, Imgur, boorus) from tests/fakenet/data.

Every builder returns plain dicts / str shaped like the real service's answer, so
tests can route them with `net.route(..., json=...)` or tweak fields first.
"""
from __future__ import annotations

import copy
import hashlib
import html
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from .model import Request, Response

DATA = Path(__file__).parent / "data"
REDDIT_TOKEN_URL = "https://www.reddit.com/api/v1/access_token"

Post = dict[str, Any]


# -- files ---------------------------------------------------------------

@lru_cache(maxsize=None)
def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def load_text(name: str) -> str:
    """A data file's text, e.g. load_text("booru/gelbooru_post.html")."""
    return _read(name)


def load_json(name: str) -> Any:
    """A fresh (deep) copy of a JSON data file, e.g. load_json("reddit/listing_pics_new.json")."""
    return json.loads(_read(name))


def render(name: str, **values: Any) -> str:
    """Fill `{{name}}` placeholders of a template data file."""
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"{name}: no value for {{{{{key}}}}}")
        return str(values[key])
    return re.sub(r"\{\{(\w+)\}\}", fill, _read(name))


def signature(*parts: Any) -> str:
    """A stable fake 40-hex signature, like the `s=` parameter of preview.redd.it URLs."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def html_escape_strings(value: Any) -> Any:
    """Escape &, < and > in every string, as Reddit does without raw_json=1 (and Pushshift always)."""
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, list):
        return [html_escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: html_escape_strings(v) for k, v in value.items()}
    return value


# -- Reddit --------------------------------------------------------------

def reddit_access_token() -> dict[str, Any]:
    """Body of POST /api/v1/access_token as in 2026 (expires_in 86400, scope "*")."""
    return load_json("reddit/access_token.json")


def reddit_ratelimit_headers(remaining: float = 997.0, used: int = 3,
                             reset: int = 15) -> dict[str, str]:
    return {"x-ratelimit-remaining": f"{float(remaining):.1f}", "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset)}


def slugify(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", html.unescape(title).lower())
    return "_".join(words)[:50].rstrip("_") or "untitled"


def gallery_item(media_id: str, *, mime: str = "image/jpg", width: int = 1200,
                 height: int = 900, status: str = "valid", caption: str | None = None,
                 outbound_url: str | None = None, source: dict | None = None) -> dict[str, Any]:
    """One gallery entry: its gallery_data item and its media_metadata value.

    mime "image/gif" gives an AnimatedImage with `s.gif` + `s.mp4`; others give `s.u`
    on preview.redd.it; status other than "valid" gives the bare `{"status": ...}`
    Reddit sends for failed/unprocessed media; `source` replaces `s` entirely.
    """
    item: dict[str, Any] = {"media_id": media_id}
    if caption is not None:
        item["caption"] = caption
    if outbound_url is not None:
        item["outbound_url"] = outbound_url
    if status != "valid":
        return {"item": item, "metadata": {"status": status}}
    ext = mime.split("/")[-1].replace("jpeg", "jpg")
    animated = ext == "gif"
    previews = [w for w in (108, 216, 320, 640, 960, 1080) if w < width]
    metadata = {
        "status": "valid",
        "e": "AnimatedImage" if animated else "Image",
        "m": mime,
        "p": [preview_size(media_id, ext, w, width, height, animated) for w in previews],
        "s": source if source is not None else full_size(media_id, ext, width, height, animated),
        "id": media_id,
    }
    return {"item": item, "metadata": metadata}


def preview_size(media_id: str, ext: str, w: int, width: int, height: int,
                 animated: bool) -> dict[str, Any]:
    fmt = "&format=png8" if animated else "&auto=webp"
    url = (f"https://preview.redd.it/{media_id}.{ext}?width={w}&crop=smart{fmt}"
           f"&s={signature(media_id, w)}")
    return {"y": round(height * w / width), "x": w, "u": url}


def full_size(media_id: str, ext: str, width: int, height: int, animated: bool) -> dict[str, Any]:
    if animated:
        return {"y": height, "gif": f"https://i.redd.it/{media_id}.gif",
                "mp4": f"https://preview.redd.it/{media_id}.gif?format=mp4&s={signature(media_id, 'mp4')}",
                "x": width}
    fmt = {"png": "png", "jpg": "pjpg"}.get(ext, ext)
    return {"y": height, "x": width,
            "u": f"https://preview.redd.it/{media_id}.{ext}?width={width}&format={fmt}"
                 f"&auto=webp&s={signature(media_id, width)}"}


def image_preview(url: str, width: int = 1600, height: int = 1200) -> dict[str, Any]:
    """The `preview` block Reddit adds to i.redd.it posts."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    base = f"https://preview.redd.it/{name}"
    sizes = [w for w in (108, 216, 320, 640, 960, 1080) if w < width]
    return {
        "images": [{
            "source": {"url": f"{base}?auto=webp&s={signature(stem)}", "width": width,
                       "height": height},
            "resolutions": [{"url": f"{base}?width={w}&crop=smart&auto=webp&s={signature(stem, w)}",
                             "width": w, "height": round(height * w / width)} for w in sizes],
            "variants": {},
            "id": stem,
        }],
        "enabled": True,
    }


def reddit_video(url: str, width: int = 1080, height: int = 1920,
                 duration: int = 21) -> dict[str, Any]:
    """The `media`/`secure_media` value of a v.redd.it post."""
    base = url.rstrip("/")
    key = signature(base)[:32]
    return {"reddit_video": {
        "bitrate_kbps": 5000,
        "fallback_url": f"{base}/CMAF_1080.mp4?source=fallback",
        "has_audio": True, "height": height, "width": width,
        "scrubber_media_url": f"{base}/CMAF_96.mp4",
        "dash_url": f"{base}/DASHPlaylist.mpd?a=1778700000%2C{key}&v=1&f=sd",
        "duration": duration,
        "hls_url": f"{base}/HLSPlaylist.m3u8?a=1778700000%2C{key}&v=1&f=sd",
        "is_gif": False, "transcoding_status": "completed",
    }}


def reddit_post(id: str, subreddit: str, url: str | None, created_utc: float | int | str,
                title: str = "A picture", *, author: str = "lzb_poster",
                is_gallery: bool = False, gallery_items: Iterable[dict | str] | None = None,
                crosspost_parent: Post | None = None, selftext: str = "",
                over_18: bool = False, removed_by_category: str | None = None,
                link_flair_text: str | None = None, **fields: Any) -> Post:
    """A t3 `data` dict shaped like a 2026 listing entry (raw_json=1 style: unescaped).

    The kind follows `url`: i.redd.it image, v.redd.it video, any other link;
    `url=None` is a self post; `is_gallery` builds gallery_data + media_metadata from
    `gallery_items` (gallery_item() dicts or bare media ids); `crosspost_parent`
    (another reddit_post) makes a crosspost with a relative url and empty domain.
    Extra keyword fields are set last (e.g. `gallery_data=None` for a deleted gallery).
    """
    post = load_json("reddit/t3_template.json")
    permalink = f"/r/{subreddit}/comments/{id}/{slugify(title)}/"
    created = created_utc if isinstance(created_utc, str) else float(created_utc)
    post.update({
        "id": id, "name": f"t3_{id}", "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}", "title": title, "author": author,
        "author_fullname": f"t2_{signature(author)[:8]}",
        "created": created, "created_utc": created, "permalink": permalink,
        "over_18": over_18, "removed_by_category": removed_by_category,
        "link_flair_text": link_flair_text, "selftext": selftext,
        "thumbnail": f"https://b.thumbs.redditmedia.com/{signature(id)[:43]}.jpg",
    })
    if selftext:
        post["selftext_html"] = f'<!-- SC_OFF --><div class="md"><p>{html.escape(selftext)}</p>\n</div><!-- SC_ON -->'
    if crosspost_parent is not None:
        _make_crosspost(post, crosspost_parent)
    elif is_gallery:
        _make_gallery(post, gallery_items)
    elif url is None:
        _make_self(post)
    else:
        _make_link(post, url)
    if over_18:
        post["thumbnail"] = "nsfw"
    post.update(fields)
    return post


def _set_url(post: Post, url: str, domain: str) -> None:
    post.update({"url": url, "url_overridden_by_dest": url, "domain": domain})


def _make_link(post: Post, url: str) -> None:
    host = (urlsplit(url).hostname or "").lower()
    domain = host[4:] if host.startswith("www.") else host
    _set_url(post, url, domain)
    post["is_reddit_media_domain"] = host in ("i.redd.it", "v.redd.it")
    if host == "i.redd.it":
        post.update({"post_hint": "image", "preview": image_preview(url)})
    elif host == "v.redd.it":
        video = reddit_video(url)
        post.update({"post_hint": "hosted:video", "is_video": True, "media": video,
                     "secure_media": copy.deepcopy(video)})
    else:
        post.update({"post_hint": "link", "thumbnail": "default", "thumbnail_height": None,
                     "thumbnail_width": None})


def _make_self(post: Post) -> None:
    url = f"https://www.reddit.com{post['permalink']}"
    _set_url(post, url, f"self.{post['subreddit']}")
    del post["url_overridden_by_dest"]
    post.pop("post_hint", None)
    post.update({"is_self": True, "is_reddit_media_domain": False, "thumbnail": "self",
                 "thumbnail_height": None, "thumbnail_width": None})


def _make_gallery(post: Post, items: Iterable[dict | str] | None) -> None:
    entries = [gallery_item(i) if isinstance(i, str) else i
               for i in (items if items is not None else (f"{post['id']}g1", f"{post['id']}g2"))]
    _set_url(post, f"https://www.reddit.com/gallery/{post['id']}", "reddit.com")
    post.pop("post_hint", None)
    post.update({
        "is_gallery": True, "is_reddit_media_domain": False,
        "gallery_data": {"items": [dict(e["item"], id=900000 + n) for n, e in enumerate(entries)]},
        "media_metadata": {e["item"]["media_id"]: e["metadata"] for e in entries},
    })


def _make_crosspost(post: Post, parent: Post) -> None:
    _set_url(post, parent["permalink"], "")
    post.pop("post_hint", None)
    post.update({"crosspost_parent": parent["name"],
                 "crosspost_parent_list": [copy.deepcopy(parent)],
                 "is_reddit_media_domain": False, "thumbnail": parent.get("thumbnail", "default")})


def reddit_comment(id: str, post: Post, body: str = "Nice one.", *,
                   author: str = "lzb_commenter", created_utc: float | None = None,
                   **fields: Any) -> Post:
    """A t1 `data` dict replying to `post`."""
    comment = load_json("reddit/t1_template.json")
    created = float(created_utc if created_utc is not None else float(post["created_utc"]) + 600)
    comment.update({
        "id": id, "name": f"t1_{id}", "author": author,
        "author_fullname": f"t2_{signature(author)[:8]}",
        "subreddit": post["subreddit"], "subreddit_id": post["subreddit_id"],
        "subreddit_name_prefixed": f"r/{post['subreddit']}",
        "link_id": post["name"], "parent_id": post["name"],
        "permalink": f"{post['permalink']}{id}/", "body": body,
        "body_html": f'<div class="md"><p>{html.escape(body)}</p>\n</div>',
        "created": created, "created_utc": created,
    })
    comment.update(fields)
    return comment


def thing(data: Post) -> dict[str, Any]:
    """Wrap a t1/t3 data dict as {"kind", "data"} (kind from its fullname)."""
    if "kind" in data and "data" in data:
        return data
    return {"kind": data["name"].split("_", 1)[0], "data": data}


def reddit_listing(posts: Iterable[Post], after: str | None = None,
                   before: str | None = None) -> dict[str, Any]:
    """A `Listing` of things, as /r/<sub>/new and /user/<name>/overview answer."""
    children = [thing(p) for p in posts]
    return {"kind": "Listing", "data": {
        "after": after, "dist": len(children), "modhash": None, "geo_filter": None,
        "children": children, "before": before}}


def reddit_about(name: str, created_utc: float = 1201233135.0, *, subscribers: int = 1000,
                 over18: bool = False) -> dict[str, Any]:
    """A t5 `/r/<name>/about` answer, with the fields booru reads (display_name, created_utc)."""
    return {"kind": "t5", "data": {
        "display_name": name, "display_name_prefixed": f"r/{name}", "name": f"t5_{signature(name)[:6]}",
        "id": signature(name)[:6], "title": name, "url": f"/r/{name}/", "created": created_utc,
        "created_utc": created_utc, "subscribers": subscribers, "over18": over18,
        "subreddit_type": "public", "public_description": f"Pictures for r/{name}", "lang": "en"}}


def reddit_comments(post: Post, comments: Iterable[Post] | None = None) -> list[dict[str, Any]]:
    """GET /comments/<id>: [Listing(the t3), Listing(t1 comments)]."""
    replies = list(comments) if comments is not None else [reddit_comment(f"c{post['id']}", post)]
    first = reddit_listing([post])
    second = reddit_listing(replies)
    second["data"]["dist"] = None
    return [first, second]


def reddit_json(payload: Any) -> Callable[[Request], Response]:
    """Route handler serving `payload` as Reddit does: HTML-escaped unless ?raw_json=1."""
    def handler(request: Request) -> Response:
        raw = request.query.get("raw_json") == "1"
        return Response(json=payload if raw else html_escape_strings(payload))
    return handler


def reddit_listing_handler(posts: Iterable[Post], page_size: int | None = None,
                           max_items: int = 1000) -> Callable[[Request], Response]:
    """Route handler paging `posts` (newest first) by ?limit= and ?after=/?before=, like /r/x/new.

    Like Reddit, nothing past `max_items` is ever listed.
    """
    things = list(posts)[:max_items]

    def handler(request: Request) -> Response:
        limit = min(int(request.query.get("limit") or page_size or 25), 100)
        if page_size:
            limit = min(limit, page_size)
        names = [p["name"] for p in things]
        start = 0
        if request.query.get("after") in names:
            start = names.index(request.query["after"]) + 1
        elif request.query.get("before") in names:
            start = max(0, names.index(request.query["before"]) - limit)
        page = things[start:start + limit]
        more = start + limit < len(things)
        listing = reddit_listing(page, after=page[-1]["name"] if page and more else None)
        return reddit_json(listing)(request)
    return handler


# -- Pushshift -----------------------------------------------------------

_PUSHSHIFT_DROP = {
    "2021": {"approved_at_utc", "approved_by", "archived", "banned_at_utc", "banned_by",
             "can_gild", "category", "clicked", "content_categories", "created",
             "discussion_type", "distinguished", "downs", "edited", "gilded", "hidden",
             "hide_score", "likes", "media_embed", "mod_note", "mod_reason_by",
             "mod_reason_title", "mod_reports", "name", "num_reports", "quarantine",
             "removal_reason", "removed_by", "report_reasons", "saved", "secure_media_embed",
             "selftext_html", "subreddit_name_prefixed", "top_awarded_type", "ups",
             "user_reports", "view_count", "visited"},
    "2022": {"approved_at_utc", "approved_by", "author_is_blocked", "banned_at_utc",
             "banned_by", "can_mod_post", "clicked", "created", "downs", "likes", "mod_note",
             "mod_reason_by", "mod_reason_title", "mod_reports", "name", "num_reports",
             "removal_reason", "report_reasons", "saved", "selftext_html", "ups",
             "user_reports", "visited"},
}


def pushshift_submission(post: Post, shape: str = "2022") -> Post:
    """A Reddit t3 dict as Pushshift archived it: fewer fields, archive stamps, `&amp;` escapes."""
    if shape not in _PUSHSHIFT_DROP:
        raise ValueError("shape is '2021' or '2022'")
    record = {k: v for k, v in post.items() if k not in _PUSHSHIFT_DROP[shape]}
    created = post["created_utc"]
    if isinstance(created, float) and created.is_integer():
        record["created_utc"] = int(created)
    seen = int(float(created)) + 11
    record["whitelist_status"] = record["parent_whitelist_status"] = "all_ads"
    if shape == "2021":
        record["full_link"] = f"https://www.reddit.com{post['permalink']}"
        record["retrieved_on"] = seen
        record = dict(sorted(record.items()))
    else:
        record["retrieved_utc"] = seen
        record["updated_utc"] = seen + 1
        record["utc_datetime_str"] = datetime.fromtimestamp(
            int(float(created)), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return html_escape_strings(record)


def pushshift_page(posts: Iterable[Post], shape: str = "2022", *, total: int | None = None,
                   subreddit: str | None = None, since: int | None = None,
                   until: int | None = None, size: int = 100) -> dict[str, Any]:
    """A /reddit/submission/search body: {"data": [...], "metadata": {...}} in the 2021 or 2022 shape."""
    records = [pushshift_submission(p, shape) for p in posts]
    count = len(records) if total is None else total
    if shape == "2021":
        return {"data": records, "metadata": _metadata_2021(count, len(records), subreddit,
                                                            since, until, size)}
    return {"data": records, "error": None,
            "metadata": _metadata_2022(count, subreddit, since, until, size)}


def _metadata_2021(total: int, returned: int, subreddit: str | None, after: int | None,
                   before: int | None, size: int) -> dict[str, Any]:
    base = load_json("pushshift/search_2021.json")["metadata"]
    ranges = []
    if after is not None:
        ranges.append({"range": {"created_utc": {"gt": after}}})
    if before is not None:
        ranges.append({"range": {"created_utc": {"lt": before}}})
    must: list[dict] = ([{"terms": {"subreddit": [subreddit.lower()]}}] if subreddit else []) + ranges
    base["es_query"]["query"]["bool"]["filter"]["bool"]["must"] = must
    base["es_query"]["size"] = size
    base.update({"after": after, "before": before, "agg_size": size, "size": size,
                 "limit": str(size), "ranges": ranges, "results_returned": returned,
                 "subreddit": [subreddit.lower()] if subreddit else None,
                 "total_results": total})
    return base


def _metadata_2022(total: int, subreddit: str | None, since: int | None, until: int | None,
                   size: int) -> dict[str, Any]:
    base = load_json("pushshift/search_2022.json")["metadata"]
    times = []
    if since is not None:
        times.append({"range": {"created_utc": {"gte": int(since) * 1000}}})
    if until is not None:
        times.append({"range": {"created_utc": {"lt": int(until) * 1000}}})
    must: list[dict] = [{"bool": {"must": times}}]
    if subreddit:
        must.append({"bool": {"should": [{"match": {"subreddit": subreddit.lower()}}],
                              "minimum_should_match": 1}})
    base["es"]["hits"]["total"]["value"] = total
    base["es_query"]["size"] = size
    base["es_query"]["query"] = {"bool": {"must": must}}
    base["es_query2"] = json.dumps(base["es_query"], separators=(",", ":"))
    return base


def pushshift_handler(posts: Iterable[Post], shape: str = "2022",
                      max_size: int = 100) -> Callable[[Request], Response]:
    """Route handler for /reddit/submission/search over `posts`.

    Honours subreddit, ids, since/after, until/before, size/limit (capped at
    `max_size`) and answers newest first with a correct total, as PMAW needs.
    """
    archive = list(posts)

    def handler(request: Request) -> Response:
        q = request.query
        since = _int_or_none(q.get("since") or q.get("after"))
        until = _int_or_none(q.get("until") or q.get("before"))
        subs = {s.lower() for s in q.get("subreddit", "").split(",") if s}
        ids = {i.removeprefix("t3_") for i in q.get("ids", "").split(",") if i}
        hits = [p for p in archive
                if (not subs or p["subreddit"].lower() in subs)
                and (not ids or p["id"] in ids)
                and (since is None or float(p["created_utc"]) >= since)
                and (until is None or float(p["created_utc"]) < until)]
        hits.sort(key=lambda p: float(p["created_utc"]), reverse=True)
        size = min(int(q.get("size") or q.get("limit") or max_size), max_size)
        sub = next(iter(subs)) if len(subs) == 1 else None
        return Response(json=pushshift_page(hits[:size], shape, total=len(hits), subreddit=sub,
                                            since=since, until=until, size=size))
    return handler


def _int_or_none(value: str | None) -> int | None:
    return int(float(value)) if value not in (None, "") else None


# -- Imgur ---------------------------------------------------------------

def imgur_envelope(data: Any, status: int = 200, success: bool | None = None) -> dict[str, Any]:
    return {"data": data, "success": status < 400 if success is None else success, "status": status}


def imgur_image(id: str, *, width: int = 1600, height: int = 1200, mime: str = "image/jpeg",
                title: str | None = None, datetime_utc: int = 1700000000,
                **fields: Any) -> dict[str, Any]:
    """An image model (the `data` of GET /3/image/{id}); animated types get gifv/mp4 links."""
    image = load_json("imgur/image.json")["data"]
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif",
           "video/mp4": "mp4", "image/webp": "webp"}.get(mime, "jpg")
    animated = mime in ("image/gif", "video/mp4")
    image.update({"id": id, "title": title, "datetime": datetime_utc, "type": mime,
                  "animated": animated, "width": width, "height": height,
                  "size": width * height // 8, "link": f"https://i.imgur.com/{id}.{ext}"})
    if animated:
        image.update({"gifv": f"https://i.imgur.com/{id}.gifv",
                      "mp4": f"https://i.imgur.com/{id}.mp4", "looping": True, "has_sound": False})
    image.update(fields)
    return image


def imgur_album(id: str, images: list[dict[str, Any]], *, title: str | None = None,
                datetime_utc: int = 1700000000, **fields: Any) -> dict[str, Any]:
    """The `data` of GET /3/album/{id} with its images."""
    album = load_json("imgur/album.json")["data"]
    cover = images[0] if images else None
    album.update({"id": id, "title": title, "datetime": datetime_utc,
                  "cover": cover["id"] if cover else None,
                  "cover_width": cover["width"] if cover else None,
                  "cover_height": cover["height"] if cover else None,
                  "link": f"https://imgur.com/a/{id}", "images_count": len(images),
                  "images": images})
    album.update(fields)
    return album


def imgur_gallery_album(id: str, images: list[dict[str, Any]], *, title: str = "A gallery post",
                        **fields: Any) -> dict[str, Any]:
    """The `data` of GET /3/gallery/album/{id} (an album with gallery votes and topic)."""
    gallery = load_json("imgur/gallery_album.json")["data"]
    album = imgur_album(id, images, title=title)
    album.update({k: v for k, v in gallery.items() if k not in album})
    album.update(fields)
    return album


def imgur_gallery_image(image: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The `data` of GET /3/gallery/image/{id}."""
    gallery = load_json("imgur/gallery_image.json")["data"]
    merged = dict(image)
    merged.update({k: v for k, v in gallery.items() if k not in image})
    merged.update(fields)
    return merged


def imgur_error(status: int, message: str, request_path: str,
                method: str = "GET") -> dict[str, Any]:
    """An error body like {"data": {"error", "request", "method"}, "success": false, "status": N}."""
    return imgur_envelope({"error": message, "request": request_path, "method": method}, status)


def imgur_credits(client_remaining: int = 12450, user_remaining: int = 1990,
                  user_reset: int = 1776003600) -> dict[str, Any]:
    """GET /3/credits: the rate-limit state."""
    body = load_json("imgur/credits.json")
    body["data"].update({"ClientRemaining": client_remaining, "UserRemaining": user_remaining,
                         "UserReset": user_reset})
    return body


def imgur_ratelimit_headers(client_remaining: int = 12450, user_remaining: int = 1990,
                            user_reset: int = 1776003600) -> dict[str, str]:
    """The X-RateLimit-* headers Imgur sends with API answers."""
    return {"X-RateLimit-ClientLimit": "12500", "X-RateLimit-ClientRemaining": str(client_remaining),
            "X-RateLimit-UserLimit": "2000", "X-RateLimit-UserRemaining": str(user_remaining),
            "X-RateLimit-UserReset": str(user_reset)}


# -- Boorus --------------------------------------------------------------

DANBOORU_CATEGORIES = {"general": 0, "artist": 1, "copyright": 3, "character": 4, "meta": 5}
DEFAULT_TAGS = {"artist": ["mori_sketchbook"], "copyright": ["original"],
                "character": ["lighthouse_keeper_(original)"],
                "general": ["1girl", "coat", "night", "ocean", "scenery"], "meta": ["highres"]}


def danbooru_post_json(id: int = 7654321, md5: str = "3b5d5c3712955042212316173ccf37be", *,
                       ext: str = "jpg", tags: dict[str, list[str]] | None = None,
                       source: str = "https://www.pixiv.net/artworks/112233445",
                       created_at: str = "2024-03-09T18:22:41.512-05:00", rating: str = "g",
                       width: int = 1600, height: int = 1200, **fields: Any) -> dict[str, Any]:
    """GET /posts/{id}.json: md5, file_url, tag_string and tag_string_<category>."""
    tags = tags if tags is not None else DEFAULT_TAGS
    post = load_json("booru/danbooru_post.json")
    everything = sorted(t for names in tags.values() for t in names)
    post.update({
        "id": id, "md5": md5, "file_ext": ext, "source": source, "created_at": created_at,
        "updated_at": created_at, "rating": rating, "image_width": width, "image_height": height,
        "tag_string": " ".join(everything), "tag_count": len(everything),
        "file_url": f"https://cdn.donmai.us/original/{md5[:2]}/{md5[2:4]}/{md5}.{ext}",
        "large_file_url": f"https://cdn.donmai.us/sample/{md5[:2]}/{md5[2:4]}/sample-{md5}.jpg",
        "preview_file_url": f"https://cdn.donmai.us/180x180/{md5[:2]}/{md5[2:4]}/{md5}.jpg",
    })
    for category in DANBOORU_CATEGORIES:
        names = tags.get(category, [])
        post[f"tag_string_{category}"] = " ".join(names)
        post[f"tag_count_{category}"] = len(names)
    post.update(fields)
    return post


def danbooru_post_html(post: dict[str, Any] | None = None) -> str:
    """The /posts/{id} page for a danbooru_post_json() dict (og:image, data-md5, tag lists)."""
    post = post if post is not None else danbooru_post_json()
    sections = []
    for category, heading in (("copyright", "Copyrights"), ("character", "Characters"),
                              ("artist", "Artists"), ("general", "General"), ("meta", "Meta")):
        names = post[f"tag_string_{category}"].split()
        if names:
            items = "".join(_danbooru_tag(name, DANBOORU_CATEGORIES[category]) for name in names)
            sections.append(f'<h3 class="{category}-tag-list">{heading}</h3>'
                            f'<ul class="{category}-tag-list">{items}</ul>')
    return render("booru/danbooru_post.html", id=post["id"], md5=post["md5"],
                  ext=post["file_ext"], file_url=post["file_url"],
                  large_file_url=post["large_file_url"],
                  preview_file_url=post["preview_file_url"],
                  tags=html.escape(post["tag_string"]), rating=post["rating"],
                  width=post["image_width"], height=post["image_height"],
                  source=html.escape(post["source"]), created_at=post["created_at"],
                  tag_lists="\n".join(sections))


def _danbooru_tag(name: str, category: int) -> str:
    quoted = html.escape(name.replace("(", "%28").replace(")", "%29"))
    return (f'<li class="tag-type-{category}" data-tag-name="{html.escape(name)}">'
            f'<a class="wiki-link" href="/wiki_pages/{quoted}">?</a> '
            f'<a class="search-tag" href="/posts?tags={quoted}">{html.escape(name.replace("_", " "))}</a> '
            f'<span class="post-count" title="1204">1.2k</span></li>')


GELBOORU_TYPES = ("artist", "character", "copyright", "metadata", "general")


def gelbooru_post_html(id: int = 9081726, md5: str = "a1f4e2c9b07d3358e6f0c2b4d9a87e15", *,
                       ext: str = "jpg", tags: dict[str, list[str]] | None = None,
                       posted: str = "2023-11-04 21:17:08",
                       source: str = "https://twitter.com/example_artist/status/1721000000000000000",
                       rating: str = "Safe", width: int = 1600, height: int = 1200,
                       host: str = "gelbooru.com", image_host: str = "img3.gelbooru.com") -> str:
    """A Gelbooru 0.2.x `index.php?page=post&s=view&id=N` page (og:image, Original image, tag lists)."""
    tags = tags if tags is not None else {
        "artist": DEFAULT_TAGS["artist"], "character": DEFAULT_TAGS["character"],
        "copyright": DEFAULT_TAGS["copyright"], "metadata": DEFAULT_TAGS["meta"],
        "general": DEFAULT_TAGS["general"]}
    file_url = f"https://{image_host}/images/{md5[:2]}/{md5[2:4]}/{md5}.{ext}"
    items = "".join(_gelbooru_tag(name, kind) for kind in GELBOORU_TYPES
                    for name in tags.get(kind, []))
    every = " ".join(name for names in tags.values() for name in names)
    return render("booru/gelbooru_post.html", id=id, md5=md5, file_url=file_url,
                  sample_url=f"https://{image_host}/samples/{md5[:2]}/{md5[2:4]}/sample_{md5}.jpg",
                  host=host, tag_items=items, tags=html.escape(every), posted=posted,
                  source=html.escape(source, quote=True), rating=rating, width=width,
                  height=height)


def _gelbooru_tag(name: str, kind: str) -> str:
    quoted = html.escape(name)
    return (f'<li class="tag-type-{kind}">\n'
            f'\t\t\t<a href="index.php?page=wiki&amp;s=list&amp;search={quoted}" title="Wiki">?</a>\n'
            f'\t\t\t<a rel="nofollow" href="javascript:;" onclick="tagPM(\'{quoted}\'); return false;" title="Add to search">+</a>\n'
            f'\t\t\t<a rel="nofollow" href="javascript:;" onclick="tagPM(\'-{quoted}\'); return false;" title="Remove from search">-</a>\n'
            f'\t\t\t<a href="index.php?page=post&amp;s=list&amp;tags={quoted}">{html.escape(name.replace("_", " "))}</a> '
            f'<span style="color: #a0a0a0;">318</span></li>')


def gelbooru_dapi_xml(posts: Iterable[dict[str, Any]] | None = None, count: int | None = None) -> str:
    """`index.php?page=dapi&s=post&q=index` XML; posts are dicts of <post> attributes."""
    rows = list(posts) if posts is not None else [gelbooru_dapi_post()]
    body = "".join(
        "<post " + " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in row.items()) + "/>\n"
        for row in rows)
    total = len(rows) if count is None else count
    return f'<?xml version="1.0" encoding="UTF-8"?><posts count="{total}" offset="0">{body}</posts>'


def gelbooru_dapi_post(id: int = 9081726, md5: str = "a1f4e2c9b07d3358e6f0c2b4d9a87e15", *,
                       ext: str = "jpg", tags: str = "1girl coat night ocean scenery",
                       created_at: str = "Sat Nov 04 21:17:08 -0500 2023",
                       source: str = "", **attrs: Any) -> dict[str, Any]:
    """Attributes of one <post/> row, in Gelbooru's order and formats."""
    row = load_json("booru/gelbooru_dapi_post.json")
    base = f"https://img3.gelbooru.com/images/{md5[:2]}/{md5[2:4]}/{md5}"
    row.update({"file_url": f"{base}.{ext}", "sample_url": f"{base}.{ext}",
                "preview_url": f"https://img3.gelbooru.com/thumbnails/{md5[:2]}/{md5[2:4]}/thumbnail_{md5}.jpg",
                "tags": f" {tags} ", "id": str(id), "md5": md5, "created_at": created_at,
                "source": source})
    row.update({k: str(v) for k, v in attrs.items()})
    return row
