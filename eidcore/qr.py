"""One QR helper: text as an SVG QR code (ISO/IEC 18004, via segno), for offers, presentation requests and
pairing codes shown on a screen."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg"]


def qr_svg(text: str, *, scale: int = 4) -> str:
    """``text`` as an SVG QR code (error correction level M, which a phone camera reads off a screen).

    A fixed mask pattern (0) skips segno's evaluation of all eight (ISO/IEC 18004 §7.8.3), which costs more than
    the rest of the encoding; every reader decodes any mask.
    """
    buf = io.BytesIO()
    segno.make(text, error="m", mask=0).save(buf, kind="svg", scale=scale, xmldecl=False)
    return buf.getvalue().decode("utf-8")
