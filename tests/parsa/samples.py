"""The project's own upstream payloads for Parsa's tests, built field for field after the
recorded ones (Reddit `/comments/<id>`, Imgur API v3, Danbooru JSON) but with our own content."""
from __future__ import annotations

from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# --- Reddit ----------------------------------------------------------------------------------

def media(media_id: str, ext: str = "jpg", *, status: str = "valid", animated: bool = False,
          mime: str | None = None, mp4_only: bool = False) -> dict:
    """One `media_metadata` entry: `s.u` for stills, `s.gif` + `s.mp4` for animations."""
    entry: dict[str, Any] = {"status": status, "id": media_id,
                             "e": "AnimatedImage" if animated else "Image",
                             "m": mime or f"image/{ext}"}
    if status != "valid":
        return entry
    preview = f"https://preview.redd.it/{media_id}.{ext}"
    entry["p"] = [{"y": 108, "x": 108, "u": f"{preview}?width=108&crop=smart&auto=webp&s=0a1b"}]
    if animated:
        entry["s"] = {"y": 300, "x": 400, "mp4": f"{preview}?format=mp4&s=9f8e"}
        if not mp4_only:
            entry["s"]["gif"] = f"https://i.redd.it/{media_id}.{ext}"
    else:
        entry["s"] = {"y": 300, "x": 400, "u": f"{preview}?width=400&format=pjpg&auto=webp&s=77aa"}
    return entry


def post(post_id: str, **fields: Any) -> dict:
    """A t3's `data` with the fields Parsa reads and a few it ignores."""
    data = {"id": post_id, "name": f"t3_{post_id}", "subreddit": "lzbooru_test", "title": f"post {post_id}",
            "author": "lzb_tester", "created_utc": 1595282400.0, "domain": "self.lzbooru_test",
            "is_self": False, "is_video": False, "is_gallery": False, "over_18": False,
            "removed_by_category": None, "permalink": f"/r/lzbooru_test/comments/{post_id}/post/",
            "url": f"https://www.reddit.com/r/lzbooru_test/comments/{post_id}/post/"}
    data.update(fields)
    return data


def gallery(post_id: str, entries: list[dict], **fields: Any) -> dict:
    """A gallery post: items in the order given, `media_metadata` keyed by media id."""
    items = [{"media_id": e["id"], "id": 500000 + n} for n, e in enumerate(entries)]
    values = {"is_gallery": True, "domain": "reddit.com", "url": f"https://www.reddit.com/gallery/{post_id}",
              "gallery_data": {"items": items}, "media_metadata": {e["id"]: e for e in entries}}
    values.update(fields)
    return post(post_id, **values)


def crosspost(post_id: str, parent: dict) -> dict:
    return post(post_id, domain="", url=parent["permalink"], crosspost_parent=parent["name"],
                crosspost_parent_list=[parent])


def comments_listing(submission: dict) -> list[dict]:
    """What `/comments/<id>?raw_json=1` answers: [Listing(t3), Listing(t1)]."""
    def listing(children: list[dict]) -> dict:
        return {"kind": "Listing", "data": {"after": None, "dist": len(children) or None,
                                            "modhash": None, "children": children, "before": None}}
    return [listing([{"kind": "t3", "data": submission}]), listing([])]


# --- Imgur API v3 ------------------------------------------------------------------------------

def imgur_image(image_id: str, ext: str = "png", *, animated: bool = False,
                mime: str | None = None, link: str | None = None) -> dict:
    image = {"id": image_id, "title": None, "description": None, "datetime": 1596966065,
             "type": mime or f"image/{'jpeg' if ext == 'jpg' else ext}", "animated": animated,
             "width": 640, "height": 480, "size": 12345, "views": 10, "bandwidth": 123450,
             "nsfw": False, "section": None, "in_gallery": False,
             "link": link or f"https://i.imgur.com/{image_id}.{ext}"}
    if animated:
        image.update(gifv=f"https://i.imgur.com/{image_id}.gifv", mp4=f"https://i.imgur.com/{image_id}.mp4",
                     looping=True)
    return image


def imgur_album(album_id: str, images: list[dict], *, gallery: bool = False) -> dict:
    album = {"id": album_id, "title": "an album", "description": None, "datetime": 1596966000,
             "cover": images[0]["id"] if images else None, "privacy": "public", "layout": "blog",
             "link": f"https://imgur.com/a/{album_id}", "images_count": len(images), "images": images}
    if gallery:
        album.update(is_album=True, ups=10, downs=1, points=9, score=9, comment_count=0)
    return album


def imgur_ok(data: Any) -> dict:
    return {"data": data, "success": True, "status": 200}


def imgur_error(status: int, message: str, request: str = "/3/image/xxxxxxx") -> dict:
    return {"data": {"error": message, "request": request, "method": "GET"}, "success": False,
            "status": status}


# --- Danbooru ----------------------------------------------------------------------------------

def danbooru_post(post_id: int = 5123456, md5: str = "0123456789abcdef0123456789abcdef", **fields: Any) -> dict:
    data = {"id": post_id, "created_at": "2021-03-04T05:06:07.890-05:00", "uploader_id": 1,
            "score": 3, "source": "https://www.pixiv.net/artworks/88000000", "md5": md5,
            "rating": "q", "image_width": 800, "image_height": 600, "file_ext": "png",
            "tag_string": "1girl aria_(lzb) lzb_artist lzb_series solo translated",
            "tag_string_general": "1girl solo", "tag_string_character": "aria_(lzb)",
            "tag_string_copyright": "lzb_series", "tag_string_artist": "lzb_artist",
            "tag_string_meta": "translated", "is_deleted": False,
            "file_url": f"https://cdn.donmai.us/original/01/23/{md5}.png",
            "large_file_url": f"https://cdn.donmai.us/sample/01/23/sample-{md5}.jpg",
            "preview_file_url": f"https://cdn.donmai.us/180x180/01/23/{md5}.jpg"}
    data.update(fields)
    return data
