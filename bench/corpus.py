"""Build the benchmark corpus of real images from Debian packages (reproducible, not committed).

    python bench/corpus.py            # -> bench/corpus/images.txt (one path per line)

Downloads pinned packages with `apt-get download`, unpacks them with `dpkg-deb -x`
under bench/corpus/, and lists every JPEG/PNG/WEBP/GIF they ship: all wallpapers
(large JPEGs, PNGs and WEBPs, byte-identical copies dropped) plus a fixed, seeded sample of openclipart's PNG clip art
(small, palette and alpha images), so the corpus mixes sizes and formats; plus the photographs
scikit-image ships in its wheel (WHEEL_PHOTOS) and those OpenCV ships with its samples, from the
opencv-python source distribution on PyPI (OPENCV_PHOTOS).
"""
from __future__ import annotations

import argparse
import hashlib
import random
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
# Debian 12 (bookworm) versions, pinned so the corpus is the same everywhere.
WALLPAPER_PACKAGES = {
    "gnome-backgrounds": "43.1-1",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "mate-backgrounds": "1.26.0-1",
    "desktop-base": "12.0.6+nmu1~deb12u1",
    "ukui-wallpapers": "20.04.3-1.1",
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lomiri-wallpapers-20.04": "20.04.0-2",
    "sway-backgrounds": "1.7-6",
}
CLIPART_PACKAGE, CLIPART_VERSION = "openclipart-png", "1:0.18+dfsg-19"
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
CLIPART_SAMPLE = 300
SEED = 20260521
# Photographs scikit-image ships in its wheel (pip download, unzipped): the ones that are photos,
# not drawings, scans or microscope images (and one of the two stereo motorcycles).
PHOTO_WHEEL, PHOTO_WHEEL_VERSION = "scikit-image", "0.26.0"
WHEEL_PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
                "hubble_deep_field.jpg", "coins.png", "moon.png")
# Photographs in OpenCV's samples/data (one of each stereo pair or sequence; no renders, charts,
# text or drawings), from the pinned source distribution (PyPI file host, checked by its sha256).
OPENCV_SDIST = ("https://files.pythonhosted.org/packages/ac/71/25c98e634b6bdeca4727c7f6d6927b056080668c5008ad3c8fc9e7f8f6ec/"
                "opencv-python-4.12.0.88.tar.gz",
                "8b738389cede219405f6f3880b851efa3415ccd674752219377353f017d2994d")
OPENCV_PHOTOS = ("aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png", "board.jpg",
                 "box_in_scene.png", "building.jpg", "butterfly.jpg", "chicky_512.png", "ela_original.jpg",
                 "fruits.jpg", "graf1.png", "HappyFish.jpg", "home.jpg", "lena.jpg", "leuvenA.jpg",
                 "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg", "pca_test1.jpg", "rubberwhale1.png",
                 "smarties.png", "squirrel_cls.jpg", "stuff.jpg", "sudoku.png")


def download(package: str, version: str, debs: Path) -> Path:
    """Fetch one package's .deb with apt-get (cached across runs); the pinned version if the
    archive still has it, else the current one."""
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        pinned = subprocess.run(["apt-get", "download", "-q", f"{package}={version}"], cwd=debs)
        if pinned.returncode != 0:
            subprocess.run(["apt-get", "download", "-q", package], cwd=debs, check=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
    return found[-1]


def unpack(deb: Path, root: Path) -> Path:
    target = root / deb.name.split("_")[0]
    if not target.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return target


def images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)


def unique(paths: list[Path]) -> list[Path]:
    """Drop symlinks and byte-identical copies (wallpaper packages ship one picture under many names)."""
    seen: set[str] = set()
    kept = []
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if not path.is_symlink() and digest not in seen:
            seen.add(digest)
            kept.append(path)
    return kept


def wheel_photos(corpus: Path) -> list[Path]:
    """WHEEL_PHOTOS out of the pinned scikit-image wheel (downloaded with pip, cached)."""
    target = corpus / "root" / PHOTO_WHEEL
    if not target.exists():
        wheels = corpus / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "-d", str(wheels), f"{PHOTO_WHEEL}=={PHOTO_WHEEL_VERSION}"], check=True)
        wheel = sorted(wheels.glob("scikit_image-*.whl"))[-1]
        with zipfile.ZipFile(wheel) as archive:
            for name in WHEEL_PHOTOS:
                archive.extract(f"skimage/data/{name}", target)
    return [target / "skimage" / "data" / name for name in WHEEL_PHOTOS]


def opencv_photos(corpus: Path) -> list[Path]:
    """OPENCV_PHOTOS out of the pinned opencv-python source distribution (downloaded, cached)."""
    target = corpus / "root" / "opencv-samples"
    if not target.exists():
        url, digest = OPENCV_SDIST
        archive_path = corpus / "wheels" / url.rsplit("/", 1)[1]
        archive_path.parent.mkdir(parents=True, exist_ok=True)
        if not archive_path.exists():
            urllib.request.urlretrieve(url, archive_path)
        if hashlib.sha256(archive_path.read_bytes()).hexdigest() != digest:
            archive_path.unlink()
            raise SystemExit(f"{archive_path.name}: not the pinned file (sha256 differs)")
        target.mkdir(parents=True)
        with tarfile.open(archive_path) as archive:
            for member in archive.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if "/opencv/samples/data/" in member.name and name in OPENCV_PHOTOS and member.isfile():
                    (target / name).write_bytes(archive.extractfile(member).read())
    return [target / name for name in OPENCV_PHOTOS]


def build(corpus: Path = CORPUS, clipart: int = CLIPART_SAMPLE) -> list[Path]:
    debs, root = corpus / "debs", corpus / "root"
    debs.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    chosen: list[Path] = []
    for package, version in WALLPAPER_PACKAGES.items():
        chosen += images_under(unpack(download(package, version, debs), root))
    art = images_under(unpack(download(CLIPART_PACKAGE, CLIPART_VERSION, debs), root))
    chosen += sorted(random.Random(SEED).sample(art, min(clipart, len(art))))
    chosen += wheel_photos(corpus)
    chosen += opencv_photos(corpus)
    chosen = unique(chosen)
    (corpus / "images.txt").write_text("".join(f"{p}\n" for p in chosen))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clipart", type=int, default=CLIPART_SAMPLE, help="openclipart PNGs to sample")
    args = parser.parse_args()
    images = build(clipart=args.clipart)
    by_ext: dict[str, int] = {}
    for path in images:
        by_ext[path.suffix.lower()] = by_ext.get(path.suffix.lower(), 0) + 1
    print(f"{len(images)} images in {CORPUS / 'images.txt'}: {by_ext}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
