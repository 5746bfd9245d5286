"""common.jpeg_dc: a progressive JPEG's DC scans, with AC scans of zeros appended, decode at 1/8
scale to the whole file's pixels; anything else gives None."""
from __future__ import annotations

import numpy as np
import pytest

from common import jpeg_dc
from tests.common.test_fingerprint import eighth, encode, photo


def scans(data: bytes) -> list[tuple[int, int, int]]:
    """(component count, first component, Ss) of each SOS header, read independently of the module."""
    found, position = [], data.find(b"\xff\xda")
    while position >= 0:
        found.append((data[position + 4], data[position + 5], data[position + 5 + 2 * data[position + 4]]))
        position = data.find(b"\xff\xda", position + 2)
    return found


@pytest.mark.parametrize("mode, subsampling", [("RGB", 0), ("RGB", 1), ("RGB", 2), ("L", -1)])
@pytest.mark.parametrize("restarts", [False, True])
def test_progressive_jpeg_dc_scans_give_the_whole_files_eighth_scale(mode, subsampling, restarts):
    # 4:4:4, 4:2:2, 4:2:0 (whose chroma AC scans stay: libjpeg's 2×2 inverse DCT reads them), grey
    options = {"restart_marker_blocks": 3} if restarts else {}
    data = encode(photo(1203, 917).convert(mode), "JPEG", quality=88, progressive=True, subsampling=subsampling,
                  **options)
    stream = jpeg_dc.dc_stream(data)
    kept = scans(stream[:stream.index(jpeg_dc.EOB_RUNS)])  # the file's own scans, then the AC scans of zeros
    assert len(stream) < len(data) and kept and len(kept) < len(scans(data))
    assert {(count, component) for count, component, ss in kept if ss > 0} == ({(1, 2), (1, 3)} if subsampling == 2 else set())
    appended = scans(stream[stream.index(jpeg_dc.EOB_RUNS):])
    assert [(count, ss) for count, _, ss in appended] == [(1, 1)] * (1 if subsampling == 2 or mode == "L" else 3)
    pixels = eighth(stream)
    assert pixels.shape == (115, 151, 3)
    assert np.array_equal(pixels, eighth(data))


def test_progressive_dc_scans_alone_would_be_block_smoothed():
    """The appended AC scans of zeros are what keeps libjpeg from smoothing the DC-only blocks."""
    data = encode(photo(1203, 917), "JPEG", quality=88, progressive=True, subsampling=0)
    stream = jpeg_dc.dc_stream(data)
    cut = stream.index(jpeg_dc.EOB_RUNS)
    assert not np.array_equal(eighth(stream[:cut] + b"\xff\xd9"), eighth(data))
    assert np.array_equal(eighth(stream), eighth(data))


def test_broken_progressive_jpeg_falls_back_to_the_whole_file():
    data = encode(photo(640, 480), "JPEG", quality=85, progressive=True)
    sos = data.index(b"\xff\xda")
    assert jpeg_dc.dc_stream(data) is not None
    broken = {
        "truncated": data[: len(data) // 2],
        "no EOI": data[:-2],
        "baseline": encode(photo(640, 480), "JPEG", quality=85),
        "no frame header": data[:data.index(b"\xff\xc2")] + data[sos:],
        "garbage between segments": data[:sos] + b"\x00" + data[sos:],
        "restart marker outside a scan": data[:sos] + b"\xff\xd0" + data[sos:],
        "SOS header cut": data[:sos + 6],
        "segment longer than the file": data[:sos] + b"\xff\xe1\xff\xff" + data[sos:sos + 100],
        "not a JPEG": encode(photo(64, 48), "PNG"),
    }
    for name, bad in broken.items():
        assert jpeg_dc.dc_stream(bad) is None, name


@pytest.mark.parametrize("where", ["header", "anywhere"])
def test_dc_scan_walker_never_raises_on_damaged_bytes(where):
    data = encode(photo(320, 240), "JPEG", quality=80, progressive=True, subsampling=2)
    limit = data.index(b"\xff\xda") + 16 if where == "header" else len(data)
    rng = np.random.default_rng(5)
    for _ in range(400):
        damaged = bytearray(data)
        for position in rng.integers(2, limit, size=rng.integers(1, 4)):
            damaged[position] = rng.integers(0, 256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.integers(2, len(damaged))]
        stream = jpeg_dc.dc_stream(bytes(damaged))
        assert stream is None or stream[:2] == b"\xff\xd8" and stream[-2:] == b"\xff\xd9"
