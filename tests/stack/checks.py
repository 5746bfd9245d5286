"""Assertions on the archive, through booru's API only."""
from __future__ import annotations

import hashlib
from collections import Counter

from tests.stack.stack import Stack
from tests.stack.world import Expected


def register(stack: Stack, *names: str) -> None:
    for name in names:
        stack.post("/subreddit", {"name": name})


def archived_images(stack: Stack, expected: Expected) -> list[dict]:
    """The archive's images that belong to the expected submissions."""
    subreddits = set(expected.submissions.values())
    return [image for name in subreddits for image in stack.images(name)
            if image["submission_id"] in expected.submissions]


def all_submissions_present(stack: Stack, expected: Expected) -> bool:
    subreddits = set(expected.submissions.values())
    found = {sid for name in subreddits for sid in stack.submissions(name)}
    return set(expected.submissions) <= found


def assert_images_once(stack: Stack, expected: Expected) -> list[dict]:
    """Every expected image exactly once, encoded, with the fingerprints of the bytes served."""
    images = archived_images(stack, expected)
    keys = Counter((image["submission_id"], image["url"]) for image in images)
    duplicated = {key: n for key, n in keys.items() if n > 1}
    assert not duplicated, f"duplicated images: {duplicated}"
    assert set(keys) == set(expected.images), (
        f"missing: {sorted(set(expected.images) - set(keys))}\nunexpected: {sorted(set(keys) - set(expected.images))}")
    for image in images:
        data = expected.images[(image["submission_id"], image["url"])]
        where = f"{image['submission_id']} {image['url']}: {image}"
        assert image["state"] == "encoded", where
        assert image["sha256"] == hashlib.sha256(data).hexdigest(), where
        assert image["md5"] == hashlib.md5(data).hexdigest(), where
        assert image["width"] and image["height"] and image["bytes"] == len(data), where
    return images


def assert_tags(images: list[dict], expected: Expected) -> None:
    """Booru images carry their namespaced tags and their source URL."""
    for image in images:
        key = (image["submission_id"], image["url"])
        wanted = expected.tags.get(key)
        if wanted:
            assert wanted <= set(image["tags"]), f"{image['url']}: tags {image['tags']}, wanted {wanted}"
        if key in expected.sources:
            assert image["source_url"] == expected.sources[key], image


def assert_crossposts(stack: Stack, expected: Expected) -> None:
    for sid, parent in expected.crossposts.items():
        row = stack.submissions(expected.submissions[sid])[sid]
        assert row["crosspost_parent"] == parent, row


def assert_links(stack: Stack, expected: Expected) -> None:
    """Dead links dead with their reason, unsupported ones unsupported with a reason, the rest done."""
    links = stack.links()
    for sid in expected.submissions:
        link = links.get(sid)
        assert link is not None, f"no link for submission {sid}"
        if sid in expected.dead:
            assert link["state"] == "dead" and expected.dead[sid] in (link["error"] or ""), link
        elif sid in expected.unsupported:
            assert link["state"] == "unsupported" and link["error"], link
        else:
            assert link["state"] == "done", link


def assert_fingerprint_count(stack: Stack, expected: Expected) -> None:
    """One histogram + dhash per image: the archive's fingerprint count equals its encoded images."""
    stats = stack.stats()
    assert stats["fingerprints"] == stats["images"]["encoded"], stats


def assert_archive(stack: Stack, expected: Expected) -> None:
    assert all_submissions_present(stack, expected)
    images = assert_images_once(stack, expected)
    assert_tags(images, expected)
    assert_links(stack, expected)
    assert_crossposts(stack, expected)
    assert_fingerprint_count(stack, expected)
