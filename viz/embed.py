"""Base64 PNG embedding that never spells a URL scheme by chance.

A long base64 text contains any given four letters now and then; a report
must not contain ``http`` anywhere (checked case-insensitively by tests and
link checkers). When it appears, a padding text chunk is inserted after the
PNG header, which shifts the encoding of everything after it, until the text
is clean. The image itself is unchanged.
"""

from __future__ import annotations

import base64
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORBIDDEN = ("http",)


def _clean(text: str) -> bool:
    low = text.lower()
    return not any(word in low for word in FORBIDDEN)


def _with_padding(png: bytes, k: int) -> bytes:
    """``png`` with a tEXt chunk of ``k`` padding bytes right after IHDR."""
    ihdr_end = len(PNG_SIGNATURE) + 4 + 4 + 13 + 4
    data = b"pad\x00" + b"." * k
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def png_base64(png: bytes, max_tries: int = 200) -> str:
    """Base64 of ``png`` that contains no forbidden word (case-insensitive)."""
    text = base64.b64encode(png).decode("ascii")
    if _clean(text) or not png.startswith(PNG_SIGNATURE):
        return text
    for k in range(max_tries):
        text = base64.b64encode(_with_padding(png, k)).decode("ascii")
        if _clean(text):
            return text
    raise RuntimeError("could not encode an image without a forbidden word")
