"""The real gallery-dl, told the live booru is a Danbooru instance, downloads a tag search."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
import requests

from tests.booru.helpers import add_subreddit
from tests.support import base_env, wait_until

pytestmark = pytest.mark.slow
SUBREDDIT = "lzbooru_gdl"
INSTANCE = "lzbooru"  # gallery-dl's category for the instance: the first part of its file names

# submission id -> (image URL, tags, nsfw); the search is `lara_croft`
POSTS = {
    "gdl1": ("https://i.redd.it/lzgdl_one.jpg", ["character:lara_croft", "series:tomb_raider", "rating:general"], False),
    "gdl2": ("https://i.redd.it/lzgdl_two.png", ["character:lara_croft", "creator:someone", "cave"], True),
    "gdl3": ("https://i.imgur.com/lzgdl3.jpg", ["lara_croft", "meta:highres"], False),
    "gdl4": ("https://i.redd.it/lzgdl_other.jpg", ["landscape"], False),  # not in the search
}
PENDING = ("gdl5", "https://i.redd.it/lzgdl_later.jpg")  # tagged, never fingerprinted: not a post


def _archive(app, live_booru, fakenet) -> dict[str, bytes]:
    """The POSTS fingerprinted by a real coco from the fake internet; returns each URL's bytes."""
    served = {url: fakenet.route_image(url, width=200 + n, height=150, seed=n, fmt="PNG" if url.endswith("png") else "JPEG")
              for n, (url, _, _) in enumerate(POSTS.values())}
    add_subreddit(app, SUBREDDIT)
    client = live_booru.client
    client.post_submissions([
        {"id": sid, "title": f"post {sid}", "author": "lzb_poster", "subreddit": SUBREDDIT, "nsfw": nsfw,
         "created": f"2026-04-1{n}T12:00:00+00:00", "flair": None, "removed": None, "crosspost_parent": None,
         "links": [{"url": url, "type": "reddit"}]}
        for n, (sid, (url, _, nsfw)) in enumerate([*POSTS.items(), (PENDING[0], (PENDING[1], [], False))])])
    client.post_images([{"submission_id": sid, "url": url, "tags": tags} for sid, (url, tags, _) in POSTS.items()])
    return served


def _run(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def test_gallery_dl_downloads_a_tag_search_with_names_and_metadata(app, fakenet, live_booru, tmp_path):
    served = _archive(app, live_booru, fakenet)
    coco = _run([sys.executable, "-m", "coco", "--once"],
                base_env(URL=live_booru.url, API_KEY=live_booru.daemon_key, **fakenet.env()), timeout=90)
    assert coco.returncode == 0, coco.stdout + coco.stderr
    encoded = live_booru.admin.get("/image", state="encoded", limit=100)["items"]
    assert len(encoded) == len(POSTS), coco.stdout + coco.stderr
    live_booru.client.post_images([{"submission_id": PENDING[0], "url": PENDING[1], "tags": ["character:lara_croft"]}])

    root = live_booru.url.removesuffix("/api")
    config = tmp_path / "gallery-dl.json"
    config.write_text(json.dumps({"extractor": {
        "base-directory": str(tmp_path / "out"),
        "Danbooru": {INSTANCE: {"root": root}},
        INSTANCE: {"username": "gallery-dl", "password": live_booru.admin_key,
                   "sleep-request": 0, "threshold": 1},  # threshold 1: page on (b<id>) until a page is empty
    }}))
    gallery_dl = _run([sys.executable, "-m", "gallery_dl", "--config-ignore", "--config", str(config),
                       "--write-metadata", "--verbose", f"{root}/posts?tags=lara_croft"],
                      base_env(HOME=str(tmp_path), **fakenet.env()), timeout=120)
    print(gallery_dl.stdout, gallery_dl.stderr)  # the run, for the record (pytest -s)
    assert gallery_dl.returncode == 0, gallery_dl.stdout + gallery_dl.stderr

    ids = {image["url"]: image["id"] for image in live_booru.admin.get("/image", state="any", limit=100)["items"]}
    folder = tmp_path / "out" / INSTANCE / "lara_croft"
    wanted = {f"{INSTANCE}_{ids[url]}_{url.rsplit('/', 1)[1]}": url
              for url, tags, _ in POSTS.values() if {"character:lara_croft", "lara_croft"} & set(tags)}
    files = {path.name: path for path in folder.iterdir() if not path.name.endswith(".json")}
    assert set(files) == set(wanted)
    for name, url in wanted.items():
        data = files[name].read_bytes()
        assert data == served[url]
        metadata = json.loads((folder / f"{name}.json").read_text())
        sid, (_, tags, nsfw) = next((sid, post) for sid, post in POSTS.items() if post[0] == url)
        assert metadata["id"] == ids[url] and metadata["file_url"] == url
        assert metadata["md5"] == hashlib.md5(data).hexdigest() and metadata["file_size"] == len(data)
        assert metadata["search_tags"] == "lara_croft" and metadata["category"] == INSTANCE
        plain = sorted(tag.partition(":")[2] or tag for tag in tags if not tag.startswith("rating:"))
        assert sorted(metadata["tags"]) == plain
        assert metadata["tags_character"] == (["lara_croft"] if "character:lara_croft" in tags else [])
        assert metadata["rating"] == ("g" if "rating:general" in tags else "e" if nsfw else "g")
        assert metadata["source"] == f"https://redd.it/{sid}"
        assert metadata["date"].startswith("2026-04-1")

    log = live_booru.process.output()
    assert "page=b" in log  # gallery-dl paged on by id
    assert live_booru.admin_key not in log


def test_keys_in_the_query_string_stay_out_of_the_access_log(live_booru):
    root = live_booru.url.removesuffix("/api")
    response = requests.get(f"{root}/posts.json", params={"login": "x", "api_key": live_booru.admin_key}, timeout=10)
    assert response.status_code == 200
    wait_until(lambda: "/posts.json" in live_booru.process.output(), timeout=10, message="the access log line")
    log = live_booru.process.output()
    assert "api_key=[redacted]" in log and live_booru.admin_key not in log
