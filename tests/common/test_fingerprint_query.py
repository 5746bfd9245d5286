"""A search query's extras: the mirrored dhash's partner, the clipped dhash bits."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance

from common import fingerprint as fp


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, "PNG")
    return out.getvalue()


def _light_picture() -> np.ndarray:
    """A light background (212..250) waving left to right, a dark square in the middle."""
    x = np.arange(640)[None, :, None]
    y = np.arange(480)[:, None, None]
    pixels = 231 + 19 * np.sin(x / 37.0 + y / 53.0 + np.array([0.0, 1.0, 2.0]))
    pixels = np.broadcast_to(pixels, (480, 640, 3)).copy()
    pixels[180:300, 260:380] = (40, 90, 160)
    return pixels


def _clipped_by_hand(grid: np.ndarray) -> dict[str, str]:
    """The documented rule, bit by bit: both compared cells ≥ 250, or both ≤ 5."""
    found = {}
    for channel, name in enumerate(fp.CHANNELS):
        bits = ""
        for row in range(8):
            for column in range(8):
                left, right = int(grid[row, column, channel]), int(grid[row, column + 1, channel])
                bits += "1" if (left >= 250 and right >= 250) or (left <= 5 and right <= 5) else "0"
        found[name] = f"{int(bits, 2):016x}"
    return found


def test_clipped_bits_follow_the_rule_on_the_grid():
    rng = np.random.default_rng(4)
    grid = rng.choice(np.array([0, 3, 5, 6, 100, 249, 250, 255], dtype=np.uint8), size=(8, 9, 3))
    assert fp.dhash_clipped(grid) == _clipped_by_hand(grid)
    assert fp.dhash_clipped(grid) != {name: "0" * 16 for name in fp.CHANNELS}


def test_a_brighter_copy_of_a_light_picture_has_clipped_bits_where_the_background_was():
    original = _light_picture()
    brighter = np.asarray(ImageEnhance.Brightness(Image.fromarray(original.astype(np.uint8))).enhance(1.2))
    before, after = fp.fingerprint(_png(original), query=True), fp.fingerprint(_png(brighter), query=True)
    assert before.dhash_clipped == {name: "0" * 16 for name in fp.CHANNELS}  # 212..250: nothing clipped
    clipped = sum(bin(int(after.dhash_clipped[name], 16)).count("1") for name in fp.CHANNELS)
    assert 96 <= clipped < 192  # all but the square's edges and the cells next to it
    grid = fp._dhash_grid(fp.decode(_png(brighter)))
    assert after.dhash_clipped == _clipped_by_hand(grid)
    assert after.dhash_mirrored_clipped == _clipped_by_hand(grid[:, ::-1])


def test_only_queries_carry_the_extras_and_booru_never_gets_them():
    data = _png(_light_picture())
    stored = fp.fingerprint(data)
    assert stored.dhash_mirrored is stored.dhash_clipped is stored.dhash_mirrored_clipped is None
    payload = fp.fingerprint(data, query=True).to_payload(id=1)
    assert payload["id"] == 1 and not set(fp.QUERY_ONLY) & set(payload)
