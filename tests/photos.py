"""Photo-like test pictures made with numpy and OpenCV: textured, with corners ORB can find."""
from __future__ import annotations

import cv2
import numpy as np


def picture(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """An RGB picture: smooth colour noise at two scales, ellipses, rectangles and lines."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (width, height),
                        interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8), (width, height),
                      interpolation=cv2.INTER_LINEAR)
    pixels = cv2.addWeighted(coarse, 0.6, fine, 0.4, 0)
    for _ in range(25):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = rng.integers(3)
        if kind == 0:
            cv2.ellipse(pixels, (x, y), (int(rng.integers(5, 60)), int(rng.integers(5, 60))),
                        float(rng.integers(180)), 0, 360, colour, -1)
        elif kind == 1:
            cv2.rectangle(pixels, (x, y), (x + int(rng.integers(5, 80)), y + int(rng.integers(5, 80))), colour, -1)
        else:
            cv2.line(pixels, (x, y), (int(rng.integers(0, width)), int(rng.integers(0, height))), colour,
                     int(rng.integers(1, 6)))
    return pixels


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()
