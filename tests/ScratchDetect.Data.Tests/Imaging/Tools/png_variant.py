"""Writes one PNG variant and PIL's decode of it, for PngVariantTests.

usage: png_variant.py SOURCE_PPM COLOR_TYPE BIT_DEPTH INTERLACED TRNS OUT_PNG OUT_REF_PPM

The PNG is assembled here by hand so that every colour type, bit depth, filter type and Adam7
can be produced; its IDAT data is split over several chunks. The reference is what PIL decodes
from it, reduced to 8-bit RGB as ImageIO documents: 16-bit samples keep their high byte (what
PIL itself does for RGB and RGBA), alpha and tRNS are dropped.
"""
import struct
import sys
import zlib

from PIL import Image

source, color_type, depth, interlaced, trns, out_png, out_ref = sys.argv[1:8]
color_type, depth, interlaced, trns = int(color_type), int(depth), interlaced == "1", trns == "1"

image = Image.open(source).convert("RGB")
width, height = image.size
pixels = image.load()
channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]


def samples(x, y):
    """The samples of pixel (x, y) at the chosen depth."""
    r, g, b = pixels[x, y]
    gray = (r * 299 + g * 587 + b * 114) // 1000
    alpha = (x * 13 + y * 7) & 255
    values = {0: [gray], 2: [r, g, b], 3: [gray], 4: [gray, alpha], 6: [r, g, b, alpha]}[color_type]
    if depth < 8:
        return [v >> (8 - depth) for v in values]
    if depth == 16:
        # A low byte that changes from pixel to pixel: the decoder must ignore it.
        return [v * 256 + ((x * 31 + y * 17) & 255) for v in values]
    return values


def pack_row(xs, y):
    if depth == 16:
        return b"".join(struct.pack(">H", s) for x in xs for s in samples(x, y))
    if depth == 8:
        return bytes(s for x in xs for s in samples(x, y))
    bits, row = 0, bytearray()
    count = 0
    for x in xs:
        for s in samples(x, y):
            bits = (bits << depth) | s
            count += depth
            if count == 8:
                row.append(bits)
                bits, count = 0, 0
    if count:
        row.append(bits << (8 - count))
    return bytes(row)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, prior, bpp):
    out = bytearray()
    for i, value in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((value - predictor) & 255)
    return bytes([kind]) + bytes(out)


passes = ([(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
          if interlaced else [(0, 0, 1, 1)])
bpp = max(1, channels * depth // 8)
raw = bytearray()
for number, (x0, y0, dx, dy) in enumerate(passes):
    xs = list(range(x0, width, dx))
    ys = list(range(y0, height, dy))
    if not xs or not ys:
        continue
    prior = bytes(len(pack_row(xs, ys[0])))
    for i, y in enumerate(ys):
        row = pack_row(xs, y)
        raw += filter_row((i + number) % 5, row, prior, bpp)  # every filter type in turn
        prior = row


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlaced)))
if color_type == 3:
    png += chunk(b"PLTE", b"".join(bytes([(i * 67) & 255, (i * 151) & 255, (i * 29 + 40) & 255]) for i in range(1 << depth)))
if trns:
    maximum = (1 << depth) - 1
    png += chunk(b"tRNS", {0: struct.pack(">H", maximum // 2), 2: struct.pack(">HHH", maximum // 2, 0, maximum),
                           3: bytes(range(0, 256, 37))[: 1 << depth]}[color_type])
compressed = zlib.compress(bytes(raw), 9)
for start in range(0, len(compressed), 997):
    png += chunk(b"IDAT", compressed[start:start + 997])
png += chunk(b"IEND", b"")
with open(out_png, "wb") as f:
    f.write(png)

decoded = Image.open(out_png)
decoded.load()
if decoded.mode in ("I", "I;16", "I;16B"):
    # PIL keeps 16-bit gray as integers; take the high byte like the other 16-bit modes.
    gray = bytes(v >> 8 for v in decoded.getdata())
    decoded = Image.frombytes("L", decoded.size, gray)
decoded.convert("RGB").save(out_ref)
