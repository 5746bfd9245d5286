"""The README's examples work when pasted: its curl URLs are valid URLs (no raw spaces), the
browse example answers, and its jq filter reads a log that holds text and JSON lines."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from common.config import PROJECT_ROOT
from tests.booru.helpers import add_subreddit, fingerprint_payload, submission

README = (PROJECT_ROOT / "README.md").read_text()
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
COMMANDS = [line for block in SHELL_BLOCKS for line in block.replace("\\\n", " ").splitlines()]


def _curl_urls() -> list[str]:
    urls = []
    for command in COMMANDS:
        if command.strip().startswith("curl"):
            words = shlex.split(command.split("  #")[0], comments=False)
            urls += [w for w in words if w.startswith("http")]
    return urls


def test_curl_urls_are_valid_when_pasted():
    urls = _curl_urls()
    assert len(urls) >= 5
    for url in urls:
        assert not re.search(r"\s", url), url
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.netloc == "127.0.0.1:5000", url


def test_the_browse_example_answers(app, api):
    (url,) = [u for u in _curl_urls() if "/api/image?" in u]
    add_subreddit(app, "EarthPorn")
    api.post("/api/submission", json={"submissions": [submission("b1", "EarthPorn"), submission("b2", "EarthPorn")]})
    images = [{"submission_id": f"b{n}", "url": f"https://x.org/{n}.jpg", "tags": ["character:lara_croft", rating]}
              for n, rating in ((1, "rating:general"), (2, "rating:explicit"))]
    api.post("/api/image", json={"images": images}, role="parsa")
    for item in api.post("/api/image/claim", json={"limit": 10}, role="coco").json["items"]:
        fingerprint = fingerprint_payload(item["id"], item["lease"], item["id"])
        api.post("/api/image/fingerprints", json={"items": [fingerprint]}, role="coco")
    parts = urlsplit(url)
    response = api.get(f"{parts.path}?{parts.query}", role="reader")
    assert response.status_code == 200, response.json
    assert [item["url"] for item in response.json["items"]] == ["https://x.org/1.jpg"]


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_jq_example_reads_a_log_with_text_and_json_lines(tmp_path):
    (command,) = [c for c in COMMANDS if c.strip().startswith("jq")]
    words = shlex.split(command)
    log = tmp_path / "parsa.log"
    chapter = {"time": "2026-05-01T12:00:03+00:00", "level": "INFO", "message": "parsa chapter: ...",
               "daemon": "parsa", "claimed": 50, "done": 45, "failed": 3, "skipped": 2, "elapsed": 12.31}
    log.write_text("2026-05-01 11:59:00,000 INFO common.daemon: parsa chapter: claimed=0 done=0\n"
                   + json.dumps(chapter) + "\n"
                   + json.dumps({"level": "INFO", "message": "not a chapter"}) + "\n")
    result = subprocess.run([*words[:-1], str(log)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"time": chapter["time"], "claimed": 50, "done": 45, "failed": 3, "skipped": 2, "elapsed": 12.31}]
