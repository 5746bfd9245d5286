"""The archive as a Danbooru 2 site: a post is an archived (encoded) image. Tag searches with
Danbooru's metatags, numbered and keyset pages, the post and tag shapes Danbooru clients read.

Hydrus namespaces map to Danbooru's tag categories (`creator:` artist, `series:` copyright,
`character:`, `meta:`, unnamespaced general); Danbooru spells those tags without the namespace.
Tags of any other namespace keep it (`person:jane_doe`) and count as general; `rating:` tags give
the post's rating instead of a tag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from flask import url_for
from sqlalchemy import text

from booru.errors import Gone, NotFound, Unusable
from booru.extensions import db
from booru.func import images
from booru.func.tags import has_tag, split_tag
from booru.func.thumbnails import thumbnailed

POST_STATE = "encoded"
DEFAULT_LIMIT = 20
MAX_POST_LIMIT = 200
MAX_TAG_LIMIT = 1000
MAX_PAGE = 1000  # numbered pages stop here, as on Danbooru; b<id>/a<id> pages go on
MAX_TERMS = 30  # each term is a condition of the query

CATEGORIES = {"": 0, "creator": 1, "series": 3, "character": 4, "meta": 5}  # namespace -> category
CATEGORY_NAMES = {0: "general", 1: "artist", 3: "copyright", 4: "character", 5: "meta"}
RATING_NAMESPACE = "rating"
SEVERITY = "gsqe"  # Danbooru's ratings, least explicit first
RATING_TAGS = {"general": "g", "safe": "s", "sensitive": "s", "questionable": "q", "explicit": "e"}
RATING_WORDS = {**RATING_TAGS, **{letter: letter for letter in SEVERITY}}


def unrated(nsfw: bool) -> str:
    """The rating of a post without a rating tag: Reddit's NSFW flag says only "not safe",
    so such a post is explicit (hidden by every client's safe mode); any other post general."""
    return "e" if nsfw else "g"


_TAG_SEVERITY = " ".join(f"WHEN '{name}' THEN {SEVERITY.index(letter) + 1}" for name, letter in RATING_TAGS.items())
# The rating of post `i` of submission `s`, in SQL: the most explicit rating tag, else unrated().
RATING_SQL = f"""COALESCE(
    (SELECT ('{{{",".join(SEVERITY)}}}'::text[])[max(CASE t.name {_TAG_SEVERITY} END)]
     FROM image_tag it JOIN tag t ON t.id = it.tag_id WHERE it.image_id = i.id AND t.namespace = '{RATING_NAMESPACE}'),
    CASE WHEN s.nsfw THEN '{unrated(True)}' ELSE '{unrated(False)}' END)"""

# The name Danbooru shows for tag `t`, and its category, in SQL.
_CATEGORY_NAMESPACES = ", ".join(f"'{namespace}'" for namespace in CATEGORIES)
DISPLAY_NAME_SQL = (f"CASE WHEN t.namespace IN ({_CATEGORY_NAMESPACES}) THEN t.name "
                    f"ELSE t.namespace || ':' || t.name END")
CATEGORY_SQL = "CASE t.namespace " + " ".join(f"WHEN '{ns}' THEN {c}" for ns, c in CATEGORIES.items() if c) + " ELSE 0 END"


# -- searching ----------------------------------------------------------------

@dataclass
class Search:
    """SQL conditions on image `i` and submission `s` for a Danbooru tag search."""

    conditions: list[str] = field(default_factory=lambda: [f"i.state = '{POST_STATE}'"])
    params: dict[str, object] = field(default_factory=dict)
    ascending: bool = False


@dataclass(frozen=True)
class Metatag:
    """A `name:value` search term that is not a tag: how its value reads, an example, its SQL."""

    pattern: re.Pattern
    example: str
    condition: Callable[[str, re.Match], tuple[str, dict[str, object]]]


_ID = r"\d{1,18}"  # fits a bigint


def _id_condition(key: str, match: re.Match) -> tuple[str, dict[str, object]]:
    if match["op"]:
        return f"i.id {match['op']} :{key}", {key: int(match["bound"])}
    if match["list"]:
        return f"i.id = ANY(:{key})", {key: [int(n) for n in match["list"].split(",")]}
    bounds = [(f"i.id >= :{key}_low", match["low"]), (f"i.id <= :{key}_high", match["high"])]
    return (" AND ".join(sql for sql, value in bounds if value) or "true",
            {f"{key}_{side}": int(match[side]) for side in ("low", "high") if match[side]})


METATAGS = {
    "id": Metatag(re.compile(rf"^(?:(?P<op><=|>=|<|>)(?P<bound>{_ID})|(?P<list>{_ID}(?:,{_ID})*)"
                             rf"|(?P<low>{_ID})?\.\.(?P<high>{_ID})?)$"),
                  "id:42, id:1,2,3, id:>100, id:10..20", _id_condition),
    "md5": Metatag(re.compile(r"^[0-9a-fA-F]{32}(?:,[0-9a-fA-F]{32})*$"),
                   "md5:4f39497ef8fcd059984c3b1fe86cf542 (several: comma-separated)",
                   lambda key, match: (f"i.md5 = ANY(:{key})", {key: match[0].lower().split(",")})),
    "rating": Metatag(re.compile("^(?:" + "|".join(RATING_WORDS) + ")(?:,(?:" + "|".join(RATING_WORDS) + "))*$", re.I),
                      "rating:g, rating:explicit, rating:q,e",
                      # a CASE: the planner then expects half the posts to match, not 0.5 %, and
                      # keeps walking the newest posts first instead of sorting every tagged one
                      lambda key, match: (f"CASE WHEN {RATING_SQL} = ANY(:{key}) THEN true ELSE false END",
                                          {key: sorted({RATING_WORDS[w] for w in match[0].lower().split(",")})})),
}
ORDERS = {"id": True, "id_asc": True, "id_desc": False}


def search(tags: str) -> Search:
    """Parse a Danbooru tag search: tags (`-` excludes; a tag without namespace is found in any
    of Danbooru's categories), `id:`, `md5:`, `rating:` and `order:id`/`order:id_desc`."""
    found = Search()
    terms = tags.split()
    if len(terms) > MAX_TERMS:
        raise Unusable(f"at most {MAX_TERMS} terms in a search", {"tags": [f"at most {MAX_TERMS} terms"]})
    for n, term in enumerate(terms):
        negate = term.startswith("-") and len(term) > 1
        body = term[1:] if negate else term
        name, sep, value = body.partition(":")
        name = name.lower()
        if sep and name == "order":
            if negate or value.lower() not in ORDERS:
                raise Unusable(f"unsupported order {term!r}; one of " + ", ".join(f"order:{o}" for o in ORDERS),
                               {"tags": [f"unsupported order {term!r}"]})
            found.ascending = ORDERS[value.lower()]
            continue
        if sep and name in METATAGS:
            metatag = METATAGS[name]
            match = metatag.pattern.match(value)
            if not match:
                raise Unusable(f"cannot read {term!r}; e.g. {metatag.example}", {"tags": [f"cannot read {term!r}"]})
            condition, params = metatag.condition(f"term_{n}", match)
        else:
            namespace, tag = split_tag(body)
            if not tag:
                raise Unusable(f"empty tag in {tags!r}", {"tags": ["empty tag"]})
            namespaces = (namespace,) if namespace else categories_of(tag)
            condition, params = has_tag(f"term_{n}", namespaces, tag) if namespaces else ("false", {})
        found.conditions.append(f"NOT ({condition})" if negate else condition)
        found.params.update(params)
    return found


def categories_of(name: str) -> tuple[str, ...]:
    """The namespaces of Danbooru's categories that have a tag `name`: looked up first, so that a
    name found in one category is searched as fast as a namespaced tag."""
    return tuple(db.session.scalars(text("SELECT namespace FROM tag WHERE name = :name AND namespace = ANY(:namespaces) "
                                         "ORDER BY namespace"), {"name": name, "namespaces": list(CATEGORIES)}))


def clamp_limit(limit: int | None, maximum: int) -> int:
    """Danbooru answers out-of-range limits with its nearest allowed one."""
    return DEFAULT_LIMIT if limit is None else min(max(limit, 1), maximum)


PAGE = re.compile(rf"^(?:(?P<number>\d{{1,9}})|(?P<direction>[ab])(?P<id>{_ID}))$")


def page_offset(number: int, limit: int) -> int:
    if number > MAX_PAGE:
        raise Gone(f"You cannot go beyond page {MAX_PAGE}. Narrow the search, or page with b<id> "
                   f"(the posts before id) instead.", {"page": [f"at most {MAX_PAGE}"]})
    return (max(number, 1) - 1) * limit


def list_posts(tags: str, limit: int | None = None, page: str | None = None) -> list[dict]:
    """A page of posts, newest first (oldest first with order:id): page `N` (1-based), `b<id>`
    (the posts just below id) or `a<id>` (the posts just above id, still newest first)."""
    limit = clamp_limit(limit, MAX_POST_LIMIT)
    found = search(tags)
    match = PAGE.match(page or "1")
    if not match:
        raise Unusable(f"cannot read page {page!r}; a number, b<id> or a<id>", {"page": ["a number, b<id> or a<id>"]})
    if match["number"]:
        rows = images.views(found.conditions, found.params, limit, found.ascending,
                            page_offset(int(match["number"]), limit))
    elif match["direction"] == "b":
        rows = images.views(found.conditions + ["i.id < :page_id"], {**found.params, "page_id": int(match["id"])},
                            limit)
    else:
        rows = images.views(found.conditions + ["i.id > :page_id"], {**found.params, "page_id": int(match["id"])},
                            limit, ascending=True)[::-1]
    return post_views(rows)


def get_post(post_id: int) -> dict:
    rows = images.views(["i.id = :id", f"i.state = '{POST_STATE}'"], {"id": post_id}, 1)
    if not rows:
        raise NotFound("That record was not found.", {"id": [f"no post {post_id}"]})
    return post_views(rows)[0]


def count_posts(tags: str) -> int:
    found = search(tags)
    return images.count(found.conditions, found.params)


# -- the post -----------------------------------------------------------------

MIME_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
                   "image/avif": "avif", "image/bmp": "bmp", "video/mp4": "mp4", "video/webm": "webm"}


def thumbnail_url(image_id: int) -> str:
    """The absolute URL of booru's thumbnail of an image (GET /api/image/<id>/thumbnail)."""
    return url_for("imagethumbnail", image_id=image_id, _external=True)


def file_urls(row: dict, thumbnail: str | None) -> dict[str, str]:
    """Where a client fetches a post's file, its sample and its preview: the image's own URL, and
    booru's `thumbnail` URL for the sample and the preview when the image has one."""
    small = thumbnail or row["url"]
    return {"file_url": row["url"], "large_file_url": small, "preview_file_url": small}


def post_views(rows: list[dict]) -> list[dict]:
    """post_view() of each row, those with a stored thumbnail pointing at it."""
    with_thumbnail = thumbnailed([row["id"] for row in rows])
    return [post_view(row, thumbnail_url(row["id"]) if row["id"] in with_thumbnail else None) for row in rows]


def file_ext(mime: str | None, url: str) -> str:
    if mime in MIME_EXTENSIONS:
        return MIME_EXTENSIONS[mime]
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rpartition(".")[2].lower() if "." in name else ""


def rating_of(tags: list[str], nsfw: bool) -> str:
    """The post's rating letter: its most explicit rating tag, else unrated() (as RATING_SQL)."""
    letters = [RATING_TAGS[name] for namespace, name in map(split_tag, tags)
               if namespace == RATING_NAMESPACE and name in RATING_TAGS]
    return max(letters, key=SEVERITY.index) if letters else unrated(nsfw)


def categorized(tags: list[str]) -> dict[str, list[str]]:
    """Tags by Danbooru category name, sorted, as Danbooru spells them; rating tags left out."""
    found: dict[str, list[str]] = {name: [] for name in CATEGORY_NAMES.values()}
    for tag in tags:
        namespace, name = split_tag(tag)
        if namespace == RATING_NAMESPACE:
            continue
        if namespace in CATEGORIES:
            found[CATEGORY_NAMES[CATEGORIES[namespace]]].append(name)
        else:
            found["general"].append(f"{namespace}:{name}")
    return {category: sorted(names) for category, names in found.items()}


def post_view(row: dict, thumbnail: str | None = None) -> dict:
    """An image row of images.views() as a Danbooru post (the fields and order Danbooru answers
    with; those the archive has no notion of keep Danbooru's neutral values)."""
    tags = categorized(row["tags"])
    every = sorted(name for names in tags.values() for name in names)
    return {
        "id": row["id"],
        "created_at": row["created"],
        "uploader_id": 0,
        "score": 0,
        "source": row["source_url"] or f"https://redd.it/{row['submission_id']}",
        "md5": row["md5"],
        "last_comment_bumped_at": None,
        "rating": rating_of(row["tags"], row["nsfw"]),
        "image_width": row["width"],
        "image_height": row["height"],
        "tag_string": " ".join(every),
        "is_note_locked": False,
        "fav_count": 0,
        "file_ext": file_ext(row["mime"], row["url"]),
        "last_noted_at": None,
        "is_rating_locked": False,
        "parent_id": None,
        "has_children": False,
        "approver_id": None,
        **{f"tag_count_{category}": len(tags[category]) for category in ("general", "artist", "character", "copyright")},
        "file_size": row["bytes"],
        "is_status_locked": False,
        "pool_string": "",
        "up_score": 0,
        "down_score": 0,
        "is_pending": False,
        "is_flagged": False,
        "is_deleted": False,
        "tag_count": len(every),
        "updated_at": row["created"],
        "is_banned": False,
        "pixiv_id": None,
        "last_commented_at": None,
        "has_active_children": False,
        "bit_flags": 0,
        "tag_count_meta": len(tags["meta"]),
        "has_large": False,
        "has_visible_children": False,
        "is_favorited": False,
        **{f"tag_string_{category}": " ".join(tags[category])
           for category in ("general", "character", "copyright", "artist", "meta")},
        **file_urls(row, thumbnail),
    }


# -- tags ---------------------------------------------------------------------

TAG_ORDERS = {"count": "post_count DESC, t.id DESC", "name": "name ASC, t.id ASC", "date": "created_at DESC, t.id DESC"}


def like_pattern(wildcards: str) -> str:
    """Danbooru's `*` wildcards as a LIKE pattern (with `\\` as escape), other characters literal."""
    escaped = wildcards.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def list_tags(name_matches: str | None = None, category: int | None = None, order: str = "count",
              limit: int | None = None, page: int = 1) -> list[dict]:
    """Tags with archived posts, as Danbooru names and categorises them, with their post counts;
    `created_at` is when the first of those posts was archived."""
    limit = clamp_limit(limit, MAX_TAG_LIMIT)
    conditions, params = [f"t.namespace <> '{RATING_NAMESPACE}'"], {"limit": limit, "offset": page_offset(page, limit)}
    if name_matches:
        conditions.append(f"{DISPLAY_NAME_SQL} LIKE :pattern ESCAPE '\\'")
        params["pattern"] = like_pattern(name_matches)
    if category is not None:
        conditions.append(f"{CATEGORY_SQL} = :category")
        params["category"] = category
    rows = db.session.execute(text(f"""
        SELECT t.id, {DISPLAY_NAME_SQL} AS name, count(*) AS post_count, {CATEGORY_SQL} AS category,
               min(i.created) AS created_at
        FROM tag t JOIN image_tag it ON it.tag_id = t.id JOIN image i ON i.id = it.image_id AND i.state = '{POST_STATE}'
        WHERE {" AND ".join(conditions)}
        GROUP BY t.id ORDER BY {TAG_ORDERS[order]} LIMIT :limit OFFSET :offset"""), params).mappings()
    return [{"id": row["id"], "name": row["name"], "post_count": row["post_count"], "category": row["category"],
             "created_at": row["created_at"], "updated_at": row["created_at"], "is_deprecated": False}
            for row in rows]
