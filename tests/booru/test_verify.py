"""Geometric verification: many inliers between a picture and its cropped, rotated, framed,
squeezed or mirrored copy, few between different pictures; the stored form round-trips."""
from __future__ import annotations

import cv2
import numpy as np

from booru.func.similarity.verify import features, from_bytes, inliers, to_bytes
from tests.photos import picture


def _rotated(pixels: np.ndarray, degrees: float) -> np.ndarray:
    height, width = pixels.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(pixels, turn, (width, height))


def test_copies_verify_and_other_pictures_do_not() -> None:
    original = features(picture(10))
    copies = {
        "crop": picture(10)[40:400, 100:600],
        "rotated": _rotated(picture(10), 5),
        "framed": cv2.copyMakeBorder(picture(10), 200, 0, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255)),
        "small": cv2.resize(picture(10), (240, 180), interpolation=cv2.INTER_AREA),
    }
    for name, copy in copies.items():
        assert inliers(features(copy), original) >= 40, name
    assert inliers(features(picture(10)[:, ::-1], mirrored=True), original) >= 40
    assert max(inliers(features(picture(seed)), original) for seed in range(11, 16)) < 15


def test_a_copy_squeezed_to_another_aspect_ratio_verifies() -> None:
    """Its width scaled by 0.6 (one axis scaled, the other not: no similarity fits it)."""
    original = features(picture(10))
    for size in ((384, 480), (640, 288)):
        assert inliers(features(cv2.resize(picture(10), size, interpolation=cv2.INTER_AREA)), original) >= 30, size


def test_stored_features_round_trip() -> None:
    found = features(picture(12))
    again = from_bytes(to_bytes(found))
    assert np.array_equal(again.descriptors, found.descriptors)
    assert np.allclose(again.points, found.points, atol=0.25)
    assert inliers(features(picture(12)), again) >= 40


def test_a_flat_picture_has_nothing_to_verify() -> None:
    flat = np.full((300, 400, 3), 128, np.uint8)
    assert len(features(flat)) == 0
    assert inliers(features(flat), features(picture(13))) == 0
