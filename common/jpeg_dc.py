"""A progressive JPEG reduced to what libjpeg's 1/8 scale decode reads: its DC scans.

At 1/8 scale libjpeg computes each 8×8 block from its DC coefficient alone (or, for chroma
subsampled both ways, from its four lowest coefficients), yet it still Huffman-decodes every AC
scan of a progressive file, nearly all of the data. `dc_stream` rewrites such a file without the
AC scans the 1/8 decode never uses, and tells the decoder those coefficients are zero, so decoding
the shorter stream at 1/8 gives the whole file's 1/8 pixels in a fraction of the time.
common.fingerprint decodes large progressive JPEGs this way.
"""
from __future__ import annotations

import re

# The end of a scan's entropy-coded data: 0xFF followed by neither a stuffed 0x00 nor RST0-7.
MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# A Huffman AC table (class 1, id 0) holding the fifteen end-of-band-run symbols R/0 (R = 0..14),
# each the 4-bit code R, and a DRI turning restart markers off: what `_zero_ac_scan` writes with.
EOB_RUNS = (b"\xff\xc4\x00\x22\x10" + bytes([0, 0, 0, 15] + [0] * 12) + bytes(r << 4 for r in range(15))
            + b"\xff\xdd\x00\x04\x00\x00")


def dc_stream(data: bytes) -> bytes | None:
    """The progressive (SOF2, Huffman) JPEG `data` reduced to what its 1/8 scale decode reads.

    At 1/8 libjpeg's inverse DCT of a block is its DC coefficient alone, except for chroma
    subsampled in both directions (4:2:0), which it scales up by a 2×2 inverse DCT instead of
    upsampling (coefficients 0, 1, 8, 9). So every segment up to EOI is kept in order (tables,
    frame header, restart intervals, APPn) with the DC scans and those components' AC scans; the
    other AC scans (nearly all of the data and of the Huffman decoding) are dropped, and for
    each of their components one AC scan (Ss 1, Se 63, Al 0) is appended that codes all its
    blocks as end-of-band runs. Those tell libjpeg the coefficients are known (zero): without
    them it would smooth the blocks from their neighbours' DC values (block smoothing), which
    changes the 1/8 pixels. None for anything but a complete progressive Huffman JPEG whose
    segments and scans are where they should be: the whole file is decoded then, and its
    decoder has the last word on broken or truncated data.
    """
    if data[:2] != b"\xff\xd8":
        return None
    kept, components, position, dc_scans = [b"\xff\xd8"], None, 2, 0
    while True:
        if data[position:position + 1] != b"\xff" or position + 2 > len(data):
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no segment may start with these
            return None
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if end < position + 4 or end > len(data):
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header (SOFn)
            if marker != 0xC2 or components is not None:
                return None
            components = _components(data[position + 4:end])
            if components is None:
                return None
        elif marker == 0xDA:  # SOS, then the scan's entropy-coded data up to the next marker
            count = data[position + 4] if end > position + 4 else 0
            if components is None or end - position != 8 + 2 * count:
                return None
            following = MARKER.search(data, end)
            if following is None:  # truncated: no marker after the scan
                return None
            if data[end - 3] == 0:  # Ss = 0: a DC scan (first pass or refinement)
                dc_scans += 1
                kept.append(data[position:following.start()])
            elif count != 1 or data[position + 5] not in components:  # AC scans have one component
                return None
            elif not components[data[position + 5]][0]:  # an AC scan the 1/8 decode reads
                kept.append(data[position:following.start()])
            position = following.start()
            continue
        kept.append(data[position:end])
        position = end
    if not dc_scans:
        return None
    zero_ac = [_zero_ac_scan(component, blocks) for component, (dropped, blocks) in components.items() if dropped]
    return b"".join([*kept, EOB_RUNS, *zero_ac, b"\xff\xd9"])


def _components(frame: bytes) -> dict[int, tuple[bool, int]] | None:
    """For each component of a SOF2 frame header (after its length): whether the 1/8 scale
    decode leaves its AC coefficients unread, and its number of blocks."""
    if len(frame) < 6 or len(frame) != 6 + 3 * frame[5]:
        return None
    height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
    sampling = {frame[index]: (frame[index + 1] >> 4, frame[index + 1] & 15) for index in range(6, len(frame), 3)}
    if not height or not width or len(sampling) != frame[5] or not all(
            1 <= h <= 4 and 1 <= v <= 4 for h, v in sampling.values()):
        return None
    most_across, most_down = max(h for h, _ in sampling.values()), max(v for _, v in sampling.values())
    components = {}
    for component, (across, down) in sampling.items():
        # libjpeg's 1/8 scale: a component at half the resolution both ways gets a 2×2 inverse DCT
        scaled_up = most_across % (2 * across) == 0 and most_down % (2 * down) == 0
        # a non-interleaved scan covers the component's own blocks, not the MCUs' padding
        columns, rows = -(-width * across // most_across), -(-height * down // most_down)
        components[component] = (not scaled_up, -(-columns // 8) * -(-rows // 8))
    return components


def _zero_ac_scan(component: int, blocks: int) -> bytes:
    """SOS for `component` (Ss 1, Se 63, Ah 0, Al 0, AC table 0) and entropy-coded data in
    which `blocks` blocks are end-of-band runs: symbol R/0 (EOB run of 2^R + the next R bits)."""
    value, length = 0, 0
    while blocks:
        run = min(blocks, 0x7FFF)
        r = run.bit_length() - 1
        value = (value << (4 + r)) | (r << r) | (run - (1 << r))
        length += 4 + r
        blocks -= run
    padding = -length % 8  # the last byte filled with 1 bits
    coded = ((value << padding) | ((1 << padding) - 1)).to_bytes((length + padding) // 8, "big")
    return bytes([0xFF, 0xDA, 0, 8, 1, component, 0x00, 1, 63, 0]) + coded.replace(b"\xff", b"\xff\x00")
