"""Search quality on real photographs: recall@1 per edit, and `match` given to pictures that are
not in the archive.

    python bench/corpus.py && python bench/search_quality.py [--workers 2] [--limit N]

Rules (fixed before any figure was read; a rule changed later is reported under both):

* Photos: corpus images (bench/corpus.py) of at least 200,000 pixels, not icons, logos or clip
  art, at most 5 % transparent, whose seed dhash has at least 24 bits set; the same picture
  shipped in several sizes counts once (the largest; 32×32 grey thumbnails differing by < 3/255
  on average) and a hit on another size of it is right. Held out: photos whose sha1(file name) ends in a hex digit below 4 (a quarter);
  the rest tune. Not archived: photos whose sha1("absent:" + file name) is divisible by 6.
* Archive: every archived photo and every other corpus image (distractors: clip art,
  wallpapers that are not photos, icons), each as Coco stores it: the seed fingerprint of the
  file, a thumbnail (JPEG q85, longest side 320) and the region dhashes and ORB features
  computed from that thumbnail alone.
* Queries: each photo (archived or not), scaled to at most 1280 px on its longest side as the
  "posted" copy, edited by each of EDITS (the function of the same name below says exactly
  how) and saved as JPEG q90 unless the edit says otherwise.
* A query is searched through the code path of POST /api/similarity/file on an upload under
  `visual`: decode and fingerprint the bytes once (the seed fingerprint and its render), then search
  (`combined`'s nearest few as global candidates, `visual_search`: regions, index,
  verification), timed apart, at default settings; when visual finds nothing, the endpoint's
  fill (the nearest by `combined`, without a radius) is the first hit. The seed's
  `dhash (seed)` (plain dhash, whole archive, nearest first) and `combined` (booru's previous
  default, with its default radius) for comparison, on the same archive.
* Recall@1: the first hit is the query's original. Match rate: share of queries of
  not-archived photos whose first hit says `match`. Both reported for the tuning, the
  held-out and the added photos apart (`photo_set`).

Implemented after the first figures were read, as the rule above says: a hit on another size
of the same picture is right, and such sizes of a photo that is not archived are not archived
either (the first runs counted them wrong and kept them archived).
Rules changed after the first figures were read: plasma-workspace-wallpapers ships each
wallpaper with a `contents/screenshot.*` preview and in several crops, and gnome-backgrounds
each picture as a light and a dark variant (`-l`, `-d`), which the same-picture rule above did
not catch; later also sway-backgrounds, which ships each of its pictures in several sizes and
crops (`Sway_Wallpaper_<colour>_<size>`). Files of one wallpaper count as the same picture: a hit on a sibling
is right (column `visual`; `strict` counts the original file only, as first ruled), and the
siblings of a photo that is not archived are not archived either (before: they were, and
a query of a not-archived photo that met its own wallpaper's preview counted as a false match).
Changed later still, and reported under both rules: desktop-base ships each theme's picture
as a GRUB background in 16:9 and 4:3 and as login previews, which now count as one picture
(`desktop-base:<theme>`); and the first hit now includes the endpoint's fill when visual
finds nothing (before: such a query counted as a miss; column `no fill`). Later again, and
reported under both rules: the same package ships each theme's picture as its boot splash's
background too (`plymouth/themes/<theme>/*background*`), which now counts as that theme's picture.
Added after every method and threshold was chosen: OpenCV's sample photos (bench/corpus.py),
reported apart as `added` (photos never tuned on; they are also distractors for the others,
whose figures moved by that).

Added later still, after the figures above were read: EXTRA_EDITS, common repost edits the
EDITS do not cover (a stretch, heavy recompression, blur, noise, a keystone skew, a sticker, a
two-picture collage, a caption on a padded picture, a quarter turn). They are queried on the
same photos in the same run and reported in their own table per photo set, never in the EDITS
means above. Their rules (each function `_extra_*` below says exactly how) were fixed before
any of their figures was read; `rotate90` is beyond what the search is meant to find and is
reported for information. The collage's other half is a photo that is not archived (so the
query's original is the only archived picture in it), chosen per photo from its file name.
The confidence thresholds are calibrated on the EDITS queries alone, as before.

Added after them: PROBE_EDITS (bench/probe_edits.py, whose docstring gives their rules and when
they were written), the issue's edit classes with other parameters and more common repost edits,
reported in a third table per photo set, never in the means above. Then PAD_EDITS
(bench/pad_edits.py, likewise), a picture on a blurred copy of itself, in a fourth table, and
COMBO_EDITS (bench/combo_edits.py, likewise), the issue's edit classes combined, in a fifth, and
CANVAS_EDITS (bench/canvas_edits.py, likewise), pictures turned on a grown canvas, in a sixth,
and CORNER_EDITS (bench/corner_edits.py, likewise), copies cropped from a corner, in a seventh,
and MIRROR_EDITS (bench/mirror_edits.py, likewise), mirrored copies with other edits, in an eighth,
and FILTER_EDITS (bench/filter_edits.py, likewise), copies under a photo filter, in a ninth.
The time per query is over every query, theirs included since they were added.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import math
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from booru.func.similarity import visual  # noqa: E402
from edit_basics import crop as _crop  # noqa: E402
from edit_basics import font as _font  # noqa: E402
from edit_basics import jpeg as _jpeg  # noqa: E402
from canvas_edits import CANVAS_EDITS, canvas_edit  # noqa: E402
from corner_edits import CORNER_EDITS, corner_edit  # noqa: E402
from filter_edits import FILTER_EDITS, filter_edit  # noqa: E402
from mirror_edits import MIRROR_EDITS, MIRRORED  # noqa: E402
from combo_edits import COMBO_EDITS, combo_edit  # noqa: E402
from pad_edits import PAD_EDITS, pad_edit  # noqa: E402
from probe_edits import PROBE_EDITS, probe_edit  # noqa: E402
from booru.func.similarity.combined import combined_search  # noqa: E402
from booru.func.similarity.dhash_index import DhashIndex  # noqa: E402
from booru.func.similarity.distances import dhash_words, normalise_histograms  # noqa: E402
from booru.func.similarity.histogram_index import HistogramIndex  # noqa: E402
from booru.func.similarity.nearest import Nearest  # noqa: E402
from booru.func.similarity.confidence import LIKELY, MATCH  # noqa: E402
from booru.func.similarity.confidence import confidence as seed_confidence  # noqa: E402
from booru.func.similarity.planner import (COMBINED_WEIGHT, DEFAULT_RADIUS, MAX_DISTANCE, dhash_queries,  # noqa: E402
                                          search_indexes)
from booru.func.similarity.region_index import RegionIndex  # noqa: E402
from booru.func.similarity.verify import Features, features, from_bytes, to_bytes  # noqa: E402
from common.fingerprint import CHANNELS, ImageError, decode, fingerprint, fingerprint_rendered  # noqa: E402
from common.regions import archive_dhashes  # noqa: E402

CORPUS_LIST = Path(__file__).resolve().parent / "corpus" / "images.txt"
POSTED = 1280
THUMBNAIL, THUMBNAIL_QUALITY = 320, 85
EDITS = ("resize50", "jpeg50", "bright20", "mirror", "watermark", "grayscale", "saturation", "thumb160",
         "crop5", "crop10", "crop15", "crop15_side", "caption", "bars", "letterbox", "padding", "rotate3",
         "rotate5", "screenshot", "crop_caption", "rotate_crop", "screenshot_crop")
EXTRA_EDITS = ("stretch80", "recompress", "blur2", "noise8", "keystone", "sticker", "collage",
               "caption_padding", "rotate90")
SAME_PICTURE_MAE = 3.0
SEED_ALGORITHMS = ("combined", "dhash_xor_norm", "abs_norm", "eucl_norm")


def _caption(picture: Image.Image) -> Image.Image:
    """A white bar a quarter of the picture's height above it, two lines of black text."""
    width, height = picture.size
    bar = max(40, height // 4)
    canvas = Image.new("RGB", (width, height + bar), "white")
    canvas.paste(picture, (0, bar))
    pen = ImageDraw.Draw(canvas)
    size = bar // 4
    pen.text((width // 20, bar // 6), "when the repost hits", font=_font(size), fill="black")
    pen.text((width // 20, bar // 6 + size * 5 // 4), "different this time", font=_font(size), fill="black")
    return canvas


def _bars(picture: Image.Image) -> Image.Image:
    """Black bars of 15 % of the height above and below, white text in both."""
    width, height = picture.size
    bar = max(24, height * 15 // 100)
    canvas = Image.new("RGB", (width, height + 2 * bar), "black")
    canvas.paste(picture, (0, bar))
    pen = ImageDraw.Draw(canvas)
    pen.text((width // 8, bar // 4), "TOP TEXT GOES HERE", font=_font(bar // 2), fill="white")
    pen.text((width // 8, height + bar + bar // 4), "BOTTOM TEXT", font=_font(bar // 2), fill="white")
    return canvas


def _letterbox(picture: Image.Image) -> Image.Image:
    """Centred on a black 16:9 canvas just large enough to hold it."""
    width, height = picture.size
    canvas_width = max(width, math.ceil(height * 16 / 9))
    canvas_height = max(height, math.ceil(canvas_width * 9 / 16))
    canvas_width = max(canvas_width, math.ceil(canvas_height * 16 / 9))
    canvas = Image.new("RGB", (canvas_width, canvas_height), "black")
    canvas.paste(picture, ((canvas_width - width) // 2, (canvas_height - height) // 2))
    return canvas


def _padding(picture: Image.Image) -> Image.Image:
    """A light grey border of 8 % of the width on every side."""
    width, height = picture.size
    border = max(4, width * 8 // 100)
    return ImageOps.expand(picture, border=border, fill=(235, 235, 235))


def _screenshot(picture: Image.Image) -> Image.Image:
    """A phone screenshot (1080×2340, saved at 540×1170): status bar with time and icons, an app
    bar with a user name, the picture at 80 % of the width on white, buttons and comment text
    under it, a navigation bar with three icons."""
    canvas = Image.new("RGB", (1080, 2340), "white")
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 0, 1080, 90), fill=(30, 30, 30))
    pen.text((40, 20), "12:34", font=_font(48), fill="white")
    for n in range(4):
        pen.rectangle((820 + 60 * n, 30, 860 + 60 * n, 65), fill="white")
    pen.ellipse((40, 140, 140, 240), fill=(255, 69, 0))
    pen.text((170, 150), "r/pics  ·  u/someone  ·  5h", font=_font(40), fill=(60, 60, 60))
    pen.text((40, 280), "Look what I found on my walk today", font=_font(48), fill="black")
    width, height = picture.size
    shown = 864
    shown_height = min(1500, round(height * shown / width))
    shown_width = round(width * shown_height / height)
    canvas.paste(picture.resize((shown_width, shown_height), Image.Resampling.LANCZOS), ((1080 - shown_width) // 2, 380))
    below = 380 + shown_height + 40
    for n in range(4):
        pen.ellipse((60 + 250 * n, below, 130 + 250 * n, below + 70), outline=(90, 90, 90), width=6)
        pen.text((150 + 250 * n, below + 10), f"{(n + 1) * 123}", font=_font(40), fill=(90, 90, 90))
    pen.text((40, below + 120), "top comment: this is a repost", font=_font(40), fill="black")
    pen.rectangle((0, 2200, 1080, 2340), fill=(245, 245, 245))
    for n, x in enumerate((250, 540, 830)):
        pen.ellipse((x - 30, 2240, x + 30, 2300), outline=(80, 80, 80), width=6)
    return canvas.resize((540, 1170), Image.Resampling.LANCZOS)


def _side(name: str) -> tuple[float, float, float, float]:
    """The one side a 15 % crop cuts, fixed per photo from its file name."""
    side = int(hashlib.sha1(("side:" + name).encode()).hexdigest(), 16) % 4
    cut = [0.0, 0.0, 0.0, 0.0]
    cut[side] = 0.15
    return tuple(cut)


def _extra_stretch80(picture: Image.Image) -> Image.Image:
    """The width scaled by 0.8, the height kept (LANCZOS): the aspect ratio squeezed."""
    width, height = picture.size
    return picture.resize((max(1, round(width * 0.8)), height), Image.Resampling.LANCZOS)


def _extra_recompress(picture: Image.Image) -> bytes:
    """Scaled to at most 640 px on its longest side (LANCZOS), saved as JPEG q20."""
    small = picture.copy()
    small.thumbnail((640, 640), Image.Resampling.LANCZOS)
    return _jpeg(small, 20)


def _extra_blur2(picture: Image.Image) -> Image.Image:
    """PIL's Gaussian blur of radius 2."""
    return picture.convert("RGB").filter(ImageFilter.GaussianBlur(2))


def _extra_noise8(picture: Image.Image, photo: str) -> Image.Image:
    """Gaussian noise of σ 8 (of 255) added to each channel of each pixel, clipped; the noise
    seeded from the photo's file name."""
    rng = np.random.default_rng(_digest("noise:" + photo) % 2**32)
    pixels = np.asarray(picture.convert("RGB"), dtype=np.float32)
    noisy = np.clip(pixels + rng.normal(0.0, 8.0, pixels.shape), 0, 255)
    return Image.fromarray(np.round(noisy).astype(np.uint8))


def _extra_keystone(picture: Image.Image) -> Image.Image:
    """A keystone skew: the top edge narrowed by 10 % of the width (each top corner moved 5 % of
    the width inward), the bottom edge kept, on a canvas of the picture's size, the corners left
    black (bicubic perspective warp)."""
    width, height = picture.size
    inset = 0.05 * width
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32([[inset, 0], [width - inset, 0], [width, height], [0, height]])
    inverse = cv2.getPerspectiveTransform(target, source)  # PIL maps output points to input points
    coefficients = (inverse / inverse[2, 2]).ravel()[:8]
    return picture.convert("RGB").transform((width, height), Image.Transform.PERSPECTIVE, tuple(coefficients),
                                            Image.Resampling.BICUBIC, fillcolor="black")


def _extra_sticker(picture: Image.Image, photo: str) -> Image.Image:
    """An opaque emoji-like sticker covering 10 % of the picture's area: a yellow disc (outlined
    dark brown) with two dark eyes and a smile, centred at 30 % or 70 % of the width and of the
    height (one of the four, fixed per photo from its file name)."""
    width, height = picture.size
    radius = math.sqrt(0.10 * width * height / math.pi)
    where = _digest("sticker:" + photo) % 4
    x, y = width * (0.3, 0.7)[where % 2], height * (0.3, 0.7)[where // 2]
    canvas = picture.convert("RGB")
    pen = ImageDraw.Draw(canvas)
    pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 204, 51), outline=(90, 50, 0),
                width=max(1, round(radius / 15)))
    eye = radius / 7
    for side in (-1, 1):
        pen.ellipse((x + side * radius / 3 - eye, y - radius / 3 - eye, x + side * radius / 3 + eye,
                     y - radius / 3 + eye), fill=(60, 30, 0))
    pen.arc((x - radius / 2, y - radius / 5, x + radius / 2, y + radius / 2), 20, 160, fill=(60, 30, 0),
            width=max(1, round(radius / 10)))
    return canvas


def _extra_collage(picture: Image.Image, photo: str, other: Image.Image) -> Image.Image:
    """A before/after post: the photo and another photo (`other`, one not archived) side by
    side without a gap, the other scaled to the photo's height (LANCZOS); the photo on the left
    or the right, fixed per photo from its file name."""
    width, height = picture.size
    other_width = max(1, round(other.width * height / other.height))
    beside = other.convert("RGB").resize((other_width, height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (width + other_width, height))
    left = _digest("collage:" + photo) % 2 == 0
    canvas.paste(picture.convert("RGB"), (0 if left else other_width, 0))
    canvas.paste(beside, (width if left else 0, 0))
    return canvas


def _extra_caption_padding(picture: Image.Image) -> Image.Image:
    """The `padding` edit's light grey border, then the `caption` edit's bar above it all."""
    return _caption(_padding(picture))


def _extra_rotate90(picture: Image.Image) -> Image.Image:
    """A quarter turn clockwise (the whole picture kept)."""
    return picture.transpose(Image.Transpose.ROTATE_270)


def extra_edit(picture: Image.Image, name: str, photo: str, other: Image.Image) -> bytes:
    """One of EXTRA_EDITS, saved as JPEG q90 unless its function says otherwise."""
    if name == "recompress":
        return _extra_recompress(picture)
    if name in ("noise8", "sticker"):
        return _jpeg(globals()[f"_extra_{name}"](picture, photo))
    if name == "collage":
        return _jpeg(_extra_collage(picture, photo, other))
    if name in EXTRA_EDITS:
        return _jpeg(globals()[f"_extra_{name}"](picture))
    raise ValueError(name)


def edit(picture: Image.Image, name: str, photo: str) -> bytes:
    width, height = picture.size
    if name == "resize50":
        return _jpeg(picture.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS))
    if name == "jpeg50":
        return _jpeg(picture, 50)
    if name == "bright20":
        return _jpeg(ImageEnhance.Brightness(picture).enhance(1.2))
    if name == "mirror":
        return _jpeg(ImageOps.mirror(picture))
    if name == "watermark":
        marked = picture.convert("RGBA")
        layer = Image.new("RGBA", marked.size, (0, 0, 0, 0))
        size = max(12, height // 12)
        ImageDraw.Draw(layer).text((width // 3, height - 2 * size), "@repost_king", font=_font(size),
                                   fill=(255, 255, 255, 160))
        return _jpeg(Image.alpha_composite(marked, layer))
    if name == "grayscale":
        return _jpeg(picture.convert("L"))
    if name == "saturation":
        return _jpeg(ImageEnhance.Color(picture).enhance(1.6))
    if name == "thumb160":
        small = picture.copy()
        small.thumbnail((160, 160), Image.Resampling.LANCZOS)
        return _jpeg(small)
    if name in ("crop5", "crop10", "crop15"):
        share = int(name[4:]) / 100
        return _jpeg(_crop(picture, share, share, share, share))
    if name == "crop15_side":
        return _jpeg(_crop(picture, *_side(photo)))
    if name == "caption":
        return _jpeg(_caption(picture))
    if name == "bars":
        return _jpeg(_bars(picture))
    if name == "letterbox":
        return _jpeg(_letterbox(picture))
    if name == "padding":
        return _jpeg(_padding(picture))
    if name in ("rotate3", "rotate5"):
        return _jpeg(picture.rotate(int(name[6:]), resample=Image.Resampling.BICUBIC))
    if name == "screenshot":
        return _jpeg(_screenshot(picture), 85)
    if name == "crop_caption":
        return _jpeg(_caption(_crop(picture, *_side(photo))))
    if name == "rotate_crop":
        return _jpeg(_crop(picture.rotate(3, resample=Image.Resampling.BICUBIC), 0.05, 0.05, 0.05, 0.05))
    if name == "screenshot_crop":
        return _jpeg(_screenshot(_crop(picture, 0.1, 0.1, 0.1, 0.1)), 85)
    raise ValueError(name)


# --- the archive, as Coco stores it -------------------------------------------------------------

def thumbnail(picture: Image.Image) -> bytes:
    small = picture.convert("RGB")
    small.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    return _jpeg(small, THUMBNAIL_QUALITY)


def decode_thumbnail(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)


def transparent_share(data: bytes) -> float:
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return 0.0
    return float((np.asarray(image.convert("RGBA"))[:, :, 3] < 255).mean())


def archive_item(path: str) -> dict | None:
    """One corpus image as Coco would store it, and what the photo rule needs."""
    data = Path(path).read_bytes()
    try:
        seed = fingerprint(data)
        picture = decode(data, size=None)
    except ImageError:
        return None
    thumb = thumbnail(picture)
    grey = np.asarray(picture.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=np.float32).ravel()
    return {"path": path, "dhash": dhash_words(*(seed.dhash[c] for c in CHANNELS)),
            "histogram": normalise_histograms(np.array([[v for c in CHANNELS for v in seed.histogram[c]]]))[0],
            "regions": archive_dhashes(decode_thumbnail(thumb)), "features": to_bytes(features(decode_thumbnail(thumb))),
            "grey": grey,
            "pixels": picture.width * picture.height, "transparent": transparent_share(data)}


def photo_like(item: dict) -> bool:
    path = item["path"]
    small = "/icons/" in path or "debian-logos" in path or "openclipart" in path
    return (not small and item["pixels"] >= 200_000 and item["transparent"] <= 0.05
            and int(np.bitwise_count(item["dhash"]).sum()) >= 24)


def _digest(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest(), 16)


SETS = ("tuning", "held-out", "added")


def photo_set(path: str) -> str:
    """`added`: OpenCV's sample photos, added to the corpus after every method and threshold
    here was chosen (never tuned on); else `held-out` or `tuning` by `held_out`."""
    if "/opencv-samples/" in path:
        return "added"
    return "held-out" if held_out(path) else "tuning"


def held_out(path: str) -> bool:
    return hashlib.sha1(Path(path).name.encode()).hexdigest()[-1] in "0123"


def archived(path: str) -> bool:
    return _digest("absent:" + Path(path).name) % 6 != 0


def choose_photos(items: list[dict]) -> list[int]:
    """Photo-like items, one per picture (the largest of those within SAME_PICTURE_MAE)."""
    candidates = sorted((n for n, item in enumerate(items) if photo_like(item)), key=lambda n: -items[n]["pixels"])
    chosen: list[int] = []
    for n in candidates:
        if all(np.abs(items[n]["grey"] - items[m]["grey"]).mean() >= SAME_PICTURE_MAE for m in chosen):
            chosen.append(n)
    return sorted(chosen)


# --- the queries --------------------------------------------------------------------------------

STATE: dict = {}


def _init(state_file: str) -> None:
    state = pickle.loads(Path(state_file).read_bytes())
    STATE.update(state)
    STATE["regions"] = RegionIndex(state["ids"], state["region_dhashes"])
    STATE["dhash"] = DhashIndex(state["ids"], state["dhashes"])
    STATE["histogram"] = HistogramIndex(state["ids"], state["histograms"])


def _colours(ids: list[int]) -> dict[int, np.ndarray]:
    """The archived normalised histograms of these images, as booru's histogram index holds them."""
    held, values = STATE["histogram"].snapshot.values_of(np.asarray(ids, dtype=np.int64))
    return {int(i): v for i, v, h in zip(ids, values, held) if h}


def _stored(ids: list[int]) -> dict[int, Features]:
    """The archived ORB features of these images, as booru reads them."""
    return {i: from_bytes(STATE["features"][i]) for i in ids if i in STATE["features"]}


def _posted(path: str) -> Image.Image:
    """The "posted" copy of a corpus image: at most POSTED px on its longest side."""
    picture = decode(Path(path).read_bytes(), size=None)
    picture.thumbnail((POSTED, POSTED), Image.Resampling.LANCZOS)
    return picture


def edited(picture: Image.Image, name: str, path: str, other: str) -> bytes:
    """The bytes of one edit of any table of the "posted" picture of the photo at `path`."""
    if name in FILTER_EDITS:
        return filter_edit(picture, name, _caption)
    if name in MIRROR_EDITS:
        return edited(ImageOps.mirror(picture), MIRRORED[name], path, other)
    if name in CORNER_EDITS:
        return corner_edit(picture, name, Path(path).name, _caption, _letterbox)
    if name in CANVAS_EDITS:
        return canvas_edit(picture, name, _caption)
    if name in COMBO_EDITS:
        return combo_edit(picture, name)
    if name in PAD_EDITS:
        return pad_edit(picture, name)
    if name in PROBE_EDITS:
        return probe_edit(picture, name, Path(path).name)
    if name in EXTRA_EDITS:
        return extra_edit(picture, name, Path(path).name, _posted(other))
    return edit(picture, name, Path(path).name)


def query_photo(job: tuple[int, str, str]) -> list[dict]:
    """Every edit (EDITS, EXTRA_EDITS, PROBE_EDITS, PAD_EDITS, COMBO_EDITS, CANVAS_EDITS,
    CORNER_EDITS, MIRROR_EDITS, FILTER_EDITS) of one photo searched every way (runs in a worker process);
    `other` is the photo the collage puts beside it."""
    original, path, other = job
    picture = _posted(path)
    rows = []
    every = (EDITS + EXTRA_EDITS + PROBE_EDITS + PAD_EDITS + COMBO_EDITS + CANVAS_EDITS + CORNER_EDITS + MIRROR_EDITS
             + FILTER_EDITS)
    for name in every:
        data = edited(picture, name, path, other)
        started = time.perf_counter()
        seed, small = fingerprint_rendered(data, query=True)  # one decode, as the endpoint does
        query = visual.VisualQuery.of(small, seed.width, seed.height)
        decoded = time.perf_counter()
        histogram = normalise_histograms(np.array([[v for c in CHANNELS for v in seed.histogram[c]]]))[0]
        combined = combined_search(STATE["dhash"], STATE["histogram"], dhash_queries(seed), histogram,
                                   DEFAULT_RADIUS["combined"], visual.GLOBAL_CANDIDATES, COMBINED_WEIGHT)
        hits = visual.visual_search(query, STATE["regions"], _stored, 10, colours=_colours,
                                    global_ids=combined.ids)
        fill = None
        if not hits:
            nearest = Nearest(STATE["dhash"], dhash_queries(seed), STATE["histogram"], histogram, COMBINED_WEIGHT)(1)
            fill = (int(nearest.ids[0]), float(nearest.distances[0])) if len(nearest) else None
        took, searched = time.perf_counter() - started, time.perf_counter() - decoded
        plain = STATE["dhash"].search([dhash_words(*(seed.dhash[c] for c in CHANNELS))], 192, 1)
        nearest_by = {}  # each seed algorithm's nearest image and its distance, without a radius
        for algorithm in SEED_ALGORITHMS:
            found = search_indexes({"dhash": STATE["dhash"], "histogram": STATE["histogram"]}, seed, algorithm,
                                   MAX_DISTANCE[algorithm], 1)
            nearest_by[algorithm] = (int(found.ids[0]), float(found.distances[0])) if len(found) else (None, None)
        rows.append({"photo": original, "edit": name, "seconds": took, "search_seconds": searched,
                     "hits": [(h.id, h.distance, h.inliers, h.confidence, h.framed) for h in hits], "fill": fill,
                     "nearest_by": nearest_by,
                     "seed": int(plain.ids[0]) if len(plain) else None,
                     "combined": int(combined.ids[0]) if len(combined) else None})
    return rows


def wallpaper(path: str) -> str:
    """The wallpaper a file shows: its plasma-workspace-wallpapers folder, its gnome-backgrounds
    name without the -l/-d variant suffix, its sway-backgrounds colour, its desktop-base theme
    (the boot splash's background included), else the file itself."""
    head, found, tail = path.partition("/plasma-workspace-wallpapers/usr/share/wallpapers/")
    if found:
        return "plasma:" + tail.split("/")[0]
    if "/gnome-backgrounds/" in path:
        stem = Path(path).stem
        return "gnome:" + (stem[:-2] if stem.endswith(("-l", "-d")) else stem)
    if "/sway-backgrounds/" in path:  # Sway_Wallpaper_<colour>_<size>[_Portrait]
        return "sway:" + "_".join(Path(path).stem.split("_")[:3])
    head, found, tail = path.partition("/usr/share/desktop-base/")
    if found and "-theme/" in tail:
        return "desktop-base:" + tail.split("/")[0]
    head, found, tail = path.partition("/desktop-base/usr/share/plymouth/themes/")
    if found and "background" in Path(tail).name:  # not the splash's logos and dots
        return "desktop-base:" + tail.split("/")[0] + "-theme"
    return path


def same_picture(items: list[dict], first: int, second: int) -> bool:
    """The same picture: the same file, another size of it (SAME_PICTURE_MAE), or a sibling."""
    return (first == second or wallpaper(items[first]["path"]) == wallpaper(items[second]["path"])
            or float(np.abs(items[first]["grey"] - items[second]["grey"]).mean()) < SAME_PICTURE_MAE)


def right(items: list[dict], hit: int | None, photo: int) -> bool:
    return hit is not None and same_picture(items, hit, photo)


def absent_photos(items: list[dict]) -> list[int]:
    return [n for n in choose_photos(items) if not archived(items[n]["path"])]


def collage_partner(items: list[dict], n: int, absent: list[int]) -> int:
    """The not-archived photo the `collage` edit of photo n puts beside it (never n itself nor
    the same picture), chosen by sha1("collage:" + file name)."""
    others = [m for m in absent if not same_picture(items, n, m)]
    return others[_digest("collage:" + Path(items[n]["path"]).name) % len(others)]


def in_archive(items: list[dict], n: int, absent: list[int]) -> bool:
    """Neither a photo that is not archived nor the same picture as one."""
    return not any(same_picture(items, n, m) for m in absent)


def _framed(hit: tuple) -> bool:
    """Whether a stored hit was met through the query's whole frame (rows of earlier runs: no)."""
    return len(hit) > 4 and bool(hit[4])


def _first(row: dict, fill: bool = True) -> tuple:
    """The first hit (id, distance, inliers, confidence), the confidence by the thresholds in
    force now (they do not change the ranking); the fill's (judged by `combined`) if visual
    found nothing."""
    if not row["hits"]:
        if not fill or not row.get("fill"):
            return None, 0.0, 0, "weak"
        image, distance = row["fill"]
        return image, distance, 0, seed_confidence(distance, "combined")
    image, distance, found = row["hits"][0][:3]
    return image, distance, found, visual.confidence(distance, found, _framed(row["hits"][0]))


def report(rows: list[dict], items: list[dict], photos: list[int]) -> None:
    """The EDITS table per photo set, then the EXTRA_EDITS, PROBE_EDITS, PAD_EDITS, COMBO_EDITS,
    CANVAS_EDITS, CORNER_EDITS, MIRROR_EDITS and FILTER_EDITS tables per photo set (apart: their means are never
    mixed), then the time per query (over all)."""
    edited = {r["edit"] for r in rows}
    for edits, heading in ((EDITS, "EDITS"), (EXTRA_EDITS, "EXTRA_EDITS (added later, reported apart)"),
                           (PROBE_EDITS, "PROBE_EDITS (added later still, reported apart)"),
                           (PAD_EDITS, "PAD_EDITS (added later again, reported apart)"),
                           (COMBO_EDITS, "COMBO_EDITS (added later yet, reported apart)"),
                           (CANVAS_EDITS, "CANVAS_EDITS (added later on, reported apart)"),
                           (CORNER_EDITS, "CORNER_EDITS (added after them, reported apart)"),
                           (MIRROR_EDITS, "MIRROR_EDITS (added after those, reported apart)"),
                           (FILTER_EDITS, "FILTER_EDITS (added last, reported apart)")):
        if edited.issuperset(edits):
            print(f"\n===== {heading}")
            _table(rows, items, photos, edits)
    seconds = np.array([r["seconds"] for r in rows])
    print(f"\nper query, decode and search (search_upload): p50 {np.median(seconds) * 1000:.0f} ms, p95 "
          f"{np.percentile(seconds, 95) * 1000:.0f} ms over {len(seconds)} queries (archive of {len(items)})")
    if "search_seconds" in rows[0]:
        searched = np.array([r["search_seconds"] for r in rows])
        print(f"per query, search of the decoded query (visual_search: regions, index, verification): p50 "
              f"{np.median(searched) * 1000:.0f} ms, p95 {np.percentile(searched, 95) * 1000:.0f} ms")


def _table(rows: list[dict], items: list[dict], photos: list[int], edits: tuple[str, ...]) -> None:
    """Recall@1 and match rates of `edits`, per photo set."""
    absent = absent_photos(items)
    for title, chosen in ((name, [n for n in photos if photo_set(items[n]["path"]) == name]) for name in SETS):
        if not chosen:
            continue
        inside = {n for n in chosen if in_archive(items, n, absent)}
        outside = set(chosen) - inside
        print(f"\n--- {title} photos: {len(inside)} archived, {len(outside)} not archived")
        print(f"{'edit':<16} {'visual':>7} {'match':>7} {'strict':>7} {'no fill':>7} {'seed':>7} {'combined':>8}   "
              f"{'not archived: match':>20}")
        totals = np.zeros(7)
        for name in edits:
            mine = [r for r in rows if r["edit"] == name and r["photo"] in inside]
            strangers = [r for r in rows if r["edit"] == name and r["photo"] in outside]
            first = [_first(r) for r in mine]
            visual = np.mean([right(items, h[0], r["photo"]) for h, r in zip(first, mine)])
            matched = np.mean([right(items, h[0], r["photo"]) and h[3] == "match" for h, r in zip(first, mine)])
            strict = np.mean([h[0] == r["photo"] for h, r in zip(first, mine)])
            unfilled = np.mean([right(items, _first(r, fill=False)[0], r["photo"]) for r in mine])
            seed = np.mean([right(items, r["seed"], r["photo"]) for r in mine])
            combined = np.mean([right(items, r["combined"], r["photo"]) for r in mine])
            false = np.mean([_first(r)[3] == "match" for r in strangers]) if strangers else 0.0
            totals += (visual, matched, strict, unfilled, seed, combined, false)
            print(f"{name:<16} {visual:7.1%} {matched:7.1%} {strict:7.1%} {unfilled:7.1%} {seed:7.1%} "
                  f"{combined:8.1%}   {false:20.1%}")
        print(f"{'mean':<16} " + " ".join(f"{v:7.1%}" for v in totals[:5] / len(edits))
              + f" {totals[5] / len(edits):8.1%}   {totals[6] / len(edits):20.1%}")


def calibrate(rows: list[dict], items: list[dict], photos: list[int]) -> None:
    """The `confidence` thresholds the tuning photos give: the fewest inliers (and the largest
    region distance) at which at most 1 % (`match`) or 10 % (`likely`) of the first hits of
    queries of not-archived photos would get that confidence; then what they give."""
    absent = absent_photos(items)
    tuning = {n for n in photos if photo_set(items[n]["path"]) == "tuning"}
    strangers = [r["hits"][0] for r in rows if r["photo"] in tuning and not in_archive(items, r["photo"], absent)
                 and r["hits"]]
    inliers = np.array([h[2] or 0 for h in strangers])
    distances = np.array([np.inf if _framed(h) else h[1] for h in strangers])  # a frame's distance never counts

    def fewest(share: float) -> int:
        return next(t for t in range(1, 1000) if np.mean(inliers >= t) <= share)

    match, likely = fewest(0.01), fewest(0.10)
    nearest = max([d for d in range(0, 193) if np.mean(distances <= d) <= 0.10], default=-1)
    print(f"\ncalibrated on {len(strangers)} queries of not-archived tuning photos: match from {match} inliers, "
          f"likely from {likely} inliers or a region distance of at most {nearest} bits "
          f"(in use: {visual.MATCH_INLIERS}, {visual.LIKELY_INLIERS}, {visual.LIKELY_DISTANCE:g})")
    for title in SETS:
        chosen = {n for n in photos if photo_set(items[n]["path"]) == title}
        mine = [r for r in rows if r["photo"] in chosen and r["hits"]]
        for label, inside in (("archived, first hit right", True), ("not archived", False)):
            part = [r["hits"][0] for r in mine if in_archive(items, r["photo"], absent) == inside
                    and (not inside or right(items, r["hits"][0][0], r["photo"]))]
            found = np.array([h[2] or 0 for h in part])
            near = np.array([np.inf if _framed(h) else h[1] for h in part])
            if len(part):
                print(f"  {title:<8} {label:<26} {len(part):5} queries: match {np.mean(found >= match):6.1%}, "
                      f"likely or match {np.mean((found >= likely) | (near <= nearest)):6.1%}")


def calibrate_seed(rows: list[dict], items: list[dict], photos: list[int]) -> None:
    """The seed algorithms' `confidence` thresholds the tuning photos give: the largest distance
    within which at most 1 % (`match`) or 10 % (`likely`) of the nearest hits of queries of
    not-archived photos fall; then the share of right nearest hits of archived photos within
    them, for the tuning and the held-out photos."""
    absent = absent_photos(items)
    tuning = {n for n in photos if photo_set(items[n]["path"]) == "tuning"}
    print()
    for algorithm in SEED_ALGORITHMS:
        strangers = np.array([r["nearest_by"][algorithm][1] for r in rows if r["photo"] in tuning
                              and not in_archive(items, r["photo"], absent) and r["nearest_by"][algorithm][0] is not None])
        steps = np.unique(strangers)

        def largest(share: float) -> float:
            within = [d for d in steps if np.mean(strangers <= d) <= share]
            return float(within[-1]) if within else 0.0

        match, likely = largest(0.01), largest(0.10)
        shares = []
        for title in SETS:
            right_hits = np.array([r["nearest_by"][algorithm][1] for r in rows
                                   if photo_set(items[r["photo"]]["path"]) == title and in_archive(items, r["photo"], absent)
                                   and right(items, r["nearest_by"][algorithm][0], r["photo"])])
            shares.append(f"{np.mean(right_hits <= MATCH[algorithm]):.1%} / {np.mean(right_hits <= LIKELY[algorithm]):.1%}"
                          if len(right_hits) else "-")
        false = np.mean(strangers <= MATCH[algorithm]), np.mean(strangers <= LIKELY[algorithm])
        print(f"{algorithm:<15} calibrated on {len(strangers)} queries of not-archived tuning photos: match up to "
              f"{match:g}, likely up to {likely:g} (in use: {MATCH[algorithm]:g}, {LIKELY[algorithm]:g}: not archived "
              f"{false[0]:.1%} match / {false[1]:.1%} likely or match; right nearest hits match / likely or match: "
              f"tuning {shares[0]}, held-out {shares[1]}, added {shares[2]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos are queried")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only report the rows of the last run")
    parser.add_argument("--work", type=Path, default=Path("/tmp/search_quality"), help="archive and rows kept here")
    options = parser.parse_args()
    if not CORPUS_LIST.exists():
        sys.exit("no corpus: run python bench/corpus.py first")
    options.work.mkdir(parents=True, exist_ok=True)
    archive_file = options.work / "archive.pickle"
    paths = CORPUS_LIST.read_text().split()
    started = time.monotonic()
    if archive_file.exists():
        items = pickle.loads(archive_file.read_bytes())
    else:
        with ProcessPoolExecutor(options.workers) as pool:
            items = [item for item in pool.map(archive_item, paths, chunksize=4) if item is not None]
        archive_file.write_bytes(pickle.dumps(items))
    photos = choose_photos(items)
    absent = absent_photos(items)
    stored = [n for n in range(len(items)) if in_archive(items, n, absent)]
    print(f"corpus: {len(paths)} files, {len(items)} decodable, {len(photos)} photos; archive of {len(stored)} "
          f"({time.monotonic() - started:.0f} s)")
    state = {"ids": np.array(stored, dtype=np.int64),
             "region_dhashes": np.stack([items[n]["regions"] for n in stored]),
             "dhashes": np.stack([items[n]["dhash"] for n in stored]),
             "histograms": np.stack([items[n]["histogram"] for n in stored]),
             "features": {n: items[n]["features"] for n in stored}}
    state_file = options.work / "state.pickle"
    state_file.write_bytes(pickle.dumps(state))
    jobs = [(n, items[n]["path"], items[collage_partner(items, n, absent)]["path"]) for n in photos][: options.limit]
    if options.report:
        rows = pickle.loads((options.work / "rows.pickle").read_bytes())
        report(rows, items, sorted({r["photo"] for r in rows}))
        fixed = [r for r in rows if r["edit"] in EDITS]  # thresholds are calibrated on EDITS alone
        calibrate(fixed, items, sorted({r["photo"] for r in rows}))
        if "nearest_by" in rows[0]:
            calibrate_seed(fixed, items, sorted({r["photo"] for r in rows}))
        return
    with ProcessPoolExecutor(options.workers, initializer=_init, initargs=(str(state_file),)) as pool:
        rows = [row for part in pool.map(query_photo, jobs) for row in part]
    (options.work / "rows.pickle").write_bytes(pickle.dumps(rows))
    print(f"{len(rows)} queries in {time.monotonic() - started:.0f} s")
    report(rows, items, [n for n, _, _ in jobs])
    fixed = [r for r in rows if r["edit"] in EDITS]  # thresholds are calibrated on EDITS alone
    calibrate(fixed, items, [n for n, _, _ in jobs])
    calibrate_seed(fixed, items, [n for n, _, _ in jobs])


if __name__ == "__main__":
    main()
