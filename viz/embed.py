"""Base64 embedding of PNG images in the self-contained report.

The report references nothing outside itself: every image is a ``data:`` URI
built here. Whether the page points anywhere on the network is a question
about its tags and attributes (``src``, ``href``, CSS ``url(...)``), which
the tests answer by parsing the HTML, not about which letters happen to
appear inside the base64 text.
"""

from __future__ import annotations

import base64


def png_base64(png: bytes) -> str:
    """The base64 text of ``png`` for a ``data:image/png;base64,...`` URI."""
    return base64.b64encode(png).decode("ascii")
