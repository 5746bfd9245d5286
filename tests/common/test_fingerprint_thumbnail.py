"""The thumbnail made from the fingerprint's own decode: aspect kept, never enlarged, upright, JPEG."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from common import fingerprint as fp
from tests.fakenet.images import make_image


def _open(thumbnail: fp.Thumbnail) -> Image.Image:
    image = Image.open(io.BytesIO(thumbnail.jpeg))
    assert image.format == "JPEG" and image.size == (thumbnail.width, thumbnail.height)
    return image.convert("RGB")


def test_longest_side_is_the_setting_and_the_aspect_ratio_is_kept():
    for width, height, fmt in ((3000, 2000, "JPEG"), (600, 900, "PNG"), (2500, 2500, "JPEG")):
        thumbnail = fp.fingerprint(make_image(width, height, fmt, 4), thumbnail_size=320).thumbnail
        assert max(thumbnail.width, thumbnail.height) <= 320
        assert abs(thumbnail.width / thumbnail.height - width / height) < 0.02
        _open(thumbnail)


def test_a_small_image_is_not_enlarged_and_none_is_made_when_off():
    data = make_image(120, 80, "PNG", 2)
    thumbnail = fp.fingerprint(data, thumbnail_size=320).thumbnail
    assert (thumbnail.width, thumbnail.height) == (120, 80)
    assert fp.fingerprint(data).thumbnail is None and fp.fingerprint(data, thumbnail_size=0).thumbnail is None


def test_the_thumbnail_looks_like_the_image_and_fingerprints_near_it():
    data = make_image(1600, 1200, "JPEG", 9)
    full = np.asarray(fp.decode(data, size=(160, 120)), dtype=float)
    result = fp.fingerprint(data, thumbnail_size=320)
    small = np.asarray(_open(result.thumbnail).resize((160, 120)), dtype=float)
    assert np.abs(full - small).mean() < 6
    again = fp.fingerprint(result.thumbnail.jpeg)
    differing = sum(bin(int(again.dhash[c], 16) ^ int(result.dhash[c], 16)).count("1") for c in fp.CHANNELS)
    assert differing <= 16


def test_orientation_is_applied_to_the_thumbnail():
    picture = Image.new("RGB", (400, 200), "white")
    exif = Image.Exif()
    exif[fp.ORIENTATION] = 6  # turned 90°: displayed 200×400
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    thumbnail = fp.fingerprint(out.getvalue(), thumbnail_size=100).thumbnail
    assert (thumbnail.width, thumbnail.height) == (50, 100)


def test_region_dhashes_come_from_the_thumbnail_alone():
    """What Coco sends with a new thumbnail equals what it sends when upgrading from that stored
    thumbnail, and is the region dhashes of the thumbnail's own pixels."""
    from common.regions import WINDOWS, archive_dhashes

    data = make_image(1600, 1200, "JPEG", 11)
    made = fp.fingerprint(data, thumbnail_size=320)
    assert len(made.regions) == len(WINDOWS) and all(len(r) == 48 for r in made.regions)
    pixels = np.asarray(_open(made.thumbnail))
    assert np.array_equal(fp.regions_array(made.regions), archive_dhashes(pixels))
    assert fp.fingerprint(made.thumbnail.jpeg, is_thumbnail=True).regions == made.regions
    assert fp.fingerprint(data).regions is None and fp.fingerprint(made.thumbnail.jpeg).regions is None
    other = fp.fingerprint(make_image(1600, 1200, "JPEG", 12), thumbnail_size=320)
    assert other.regions != made.regions
