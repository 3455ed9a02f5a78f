"""Writes a JPEG with an EXIF orientation tag and PIL's upright decode of it, for ExifOrientationTests.

usage: exif_jpeg.py SOURCE_PPM ORIENTATION BYTE_ORDER(II|MM) OUT_JPEG OUT_UPRIGHT_PPM

The TIFF structure is written here by hand so both byte orders occur; the reference is
PIL's ImageOps.exif_transpose of PIL's decode (libjpeg-turbo underneath).
"""
import struct
import sys

from PIL import Image, ImageOps

source, orientation, order, out_jpeg, out_upright = sys.argv[1:6]
e = "<" if order == "II" else ">"
# TIFF header, then IFD0 at offset 8 with two entries (a tag before Orientation, to be skipped).
ifd = struct.pack(e + "H", 2)
ifd += struct.pack(e + "HHI", 0x010F, 2, 4) + b"ACME"                     # Make, ASCII, 4 bytes inline
ifd += struct.pack(e + "HHIHH", 0x0112, 3, 1, int(orientation), 0)       # Orientation, SHORT
ifd += struct.pack(e + "I", 0)                                           # no next IFD
tiff = order.encode() + struct.pack(e + "HI", 42, 8) + ifd
Image.open(source).convert("RGB").save(out_jpeg, quality=90, exif=b"Exif\x00\x00" + tiff)
ImageOps.exif_transpose(Image.open(out_jpeg)).convert("RGB").save(out_upright)
