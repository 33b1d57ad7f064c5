"""Pages are rendered with autoescaping on (eidcore.pages); one QR helper (eidcore.qr)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from eidcore.pages import page_environment, render_page
from eidcore.qr import qr_svg


def test_values_are_escaped_and_the_shared_layout_is_found(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text("{% extends 'base.html' %}{% block content %}<p>{{ name }}</p>{% endblock %}")
    html = render_page(page_environment(tmp_path), "p.html", title="T<i>", name="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>T&lt;i&gt;</title>" in html


def test_a_missing_variable_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text("{{ nope }}")
    with pytest.raises(jinja2.UndefinedError):
        render_page(page_environment(tmp_path), "p.html")


def test_qr_svg_is_an_svg_document_without_xml_declaration() -> None:
    svg = qr_svg("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fid.example.no%2Fo%2F1")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert qr_svg("a") == qr_svg("a")  # deterministic (a fixed mask)
