"""Search uploads cost a bounded amount of a worker's memory: PNG, GIF and WEBP past the decode
budget (MAX_DECODE_PIXELS) are refused from their header, JPEGs are decoded reduced, and what a
decode took is given back."""
from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psutil
import pytest
import requests
from PIL import Image

from common import fingerprint

MIB = 1024 * 1024


def palette_image(side: int, kind: str) -> bytes:
    """A `side`² palette picture that compresses to kilobytes (the hostile upload of the issue)."""
    pixels = np.zeros((side, side), np.uint8)
    pixels[::7, ::5] = 3
    image = Image.fromarray(pixels, "P")
    image.putpalette([n % 256 for n in range(768)])
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def jpeg(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (10, 120, 200)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "GIF", "WEBP"])
def test_past_the_decode_budget_is_refused_before_decoding(kind):
    data = palette_image(4000, kind) if kind != "WEBP" else _webp(4000)
    with pytest.raises(fingerprint.ImageError, match="decode budget"):
        fingerprint.fingerprint(data, query=True, max_decode_pixels=15_000_000)
    fingerprint.fingerprint(data, query=True, max_decode_pixels=16_000_000)  # within it: decoded


def _webp(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (1, 2, 3)).save(buffer, "WEBP", quality=10)
    return buffer.getvalue()


def test_a_large_jpeg_is_decoded_reduced_within_the_budget():
    fingerprint.fingerprint(jpeg(6000), query=True, max_decode_pixels=15_000_000)  # 36 MP, decoded at 1/8


def _workers_rss(live_booru) -> dict[int, int]:
    master = psutil.Process(live_booru.process.popen.pid)
    return {child.pid: child.memory_info().rss for child in master.children(recursive=True)}


def test_hostile_uploads_cost_a_worker_little_memory(live_booru):
    hostile = [palette_image(8000, "PNG"), palette_image(8000, "GIF")]
    assert max(len(data) for data in hostile) < 200_000
    url = f"{live_booru.url}/similarity/file"
    headers = {"X-API-Key": live_booru.admin_key}

    def upload(data: bytes) -> requests.Response:
        return requests.post(url, headers=headers, files={"image": ("q", data)}, timeout=60)

    warm = upload(jpeg(800))  # the worker's search index and decoders are loaded once
    assert warm.status_code == 200, warm.text
    for _ in range(2):
        upload(jpeg(800))
    before = _workers_rss(live_booru)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(upload, hostile * 4))
    after = _workers_rss(live_booru)
    growth = max(after[pid] - before.get(pid, after[pid]) for pid in after)
    assert growth < 150 * MIB, f"a worker grew by {growth / MIB:.0f} MiB for 8 hostile uploads"
    assert {a.status_code for a in answers} == {422}
    assert all("decode budget" in a.json()["message"] for a in answers)
