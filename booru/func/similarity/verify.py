"""Geometric verification: ORB features of the query and of an archived thumbnail, matched and
fitted with a RANSAC affine transform (rotation, scale, shift, and a scale that differs between
two axes, as a copy stretched or squeezed to another aspect ratio has); the inliers count how
much of the picture the two share, whatever was cut, added, rotated or stretched around it."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

LONGEST = 320  # both sides are compared at about the archived thumbnail's size
FEATURES = 500
RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
REPROJECTION = 5.0  # px at LONGEST: a match farther than this from the fitted transform is an outlier
# A fit that shrinks or grows the query more than this is degenerate (many query points
# crowding onto a few stored ones), not a copy.
SCALES = (1 / 6, 6.0)
# A fit that stretches one axis more than this against the other, or mirrors, is not a copy
# (the search tries mirrored copies apart, with mirrored features).
ANISOTROPY = 2.0
_local = threading.local()


@dataclass(frozen=True)
class Features:
    points: np.ndarray  # n × 2 float32
    descriptors: np.ndarray  # n × 32 uint8

    def __len__(self) -> int:
        return len(self.points)


def _orb() -> cv2.ORB:
    if not hasattr(_local, "orb"):
        _local.orb = cv2.ORB_create(nfeatures=FEATURES)
    return _local.orb


def _matcher() -> cv2.BFMatcher:
    if not hasattr(_local, "matcher"):
        _local.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _local.matcher


def features(pixels: np.ndarray, mirrored: bool = False,
             within: tuple[float, float, float, float] | None = None) -> Features:
    """ORB keypoints and descriptors of an RGB image at LONGEST px (aspect ratio kept); with
    `within` (top, bottom, left, right as shares of the image, before mirroring), only
    keypoints inside that rectangle."""
    height, width = pixels.shape[:2]
    scale = LONGEST / max(height, width)
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    if scale < 1:
        grey = cv2.resize(grey, (max(1, round(width * scale)), max(1, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
    if mirrored:
        grey = np.ascontiguousarray(grey[:, ::-1])
    mask = None
    if within is not None:
        top, bottom, left, right = within
        if mirrored:
            left, right = 1 - right, 1 - left
        rows, columns = grey.shape
        mask = np.zeros(grey.shape, np.uint8)
        mask[round(top * rows):round(bottom * rows), round(left * columns):round(right * columns)] = 255
    keypoints, descriptors = _orb().detectAndCompute(grey, mask)
    if descriptors is None:
        return Features(np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8))
    return Features(np.array([k.pt for k in keypoints], dtype=np.float32), descriptors)


def inliers(query: Features, stored: Features) -> int:
    """Matches (one per stored point, passing the ratio test) consistent with one affine
    transform from query to stored that is `plausible` (0 if none fits)."""
    if len(query) < 4 or len(stored) < 4:
        return 0
    pairs = _matcher().knnMatch(query.descriptors, stored.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    nearest: dict[int, cv2.DMatch] = {}
    for match in good:  # one query point per stored point: the nearest
        if match.trainIdx not in nearest or match.distance < nearest[match.trainIdx].distance:
            nearest[match.trainIdx] = match
    good = list(nearest.values())
    if len(good) < 4:
        return 0
    source = query.points[[m.queryIdx for m in good]]
    target = stored.points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffine2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION,
                                           maxIters=500)
    if transform is None or mask is None or not plausible(transform):
        return 0
    return int(mask.sum())


def plausible(transform: np.ndarray) -> bool:
    """Whether a 2×3 affine transform is one a copy can have: not mirrored, its scale (the
    geometric mean of the two axes') within SCALES, one axis stretched at most ANISOTROPY
    times the other."""
    linear = transform[:, :2]
    if np.linalg.det(linear) <= 0:
        return False
    larger, smaller = np.linalg.svd(linear, compute_uv=False)
    return SCALES[0] <= float(np.sqrt(larger * smaller)) <= SCALES[1] and larger <= ANISOTROPY * smaller


def to_bytes(found: Features) -> bytes:
    """Stored form: a count, the points as float16 pairs, the descriptors."""
    return (len(found).to_bytes(2, "big") + found.points.astype(np.float16).tobytes()
            + found.descriptors.astype(np.uint8).tobytes())


def from_bytes(data: bytes) -> Features:
    count = int.from_bytes(data[:2], "big")
    points = np.frombuffer(data, np.float16, 2 * count, 2).reshape(count, 2).astype(np.float32)
    descriptors = np.frombuffer(data, np.uint8, 32 * count, 2 + 4 * count).reshape(count, 32)
    return Features(points, descriptors)
