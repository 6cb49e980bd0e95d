"""POST /v1/render with markup in every field a posted report can carry (issue 13, item 12):
reportlab's <img> read files from the server's disk and <a href="javascript:..."> reached the
PDF. Now the text is printed as written, and the PDF holds no image and no link."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile

import pytest
from PIL import Image

import pdf_service
from pdf_service.brief.render import paragraph
from pdf_service.brief.style import styles_for
from reportlab.lib import colors

from tests.support.pdfcheck import pdf_text, qpdf_check
from tests.pdf_service.test_brief_render import _demo_like, _report

LINK = '<a href="javascript:alert(1)">x</a>'


def _expanded(pdf: bytes) -> str:
    """The PDF with every stream uncompressed and no object streams: greppable."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as given, \
            tempfile.NamedTemporaryFile(suffix=".pdf") as out:
        given.write(pdf)
        given.flush()
        subprocess.run(["qpdf", "--qdf", "--object-streams=disable", given.name, out.name],
                       check=True)
        return open(out.name, "rb").read().decode("latin-1")


def _hostile_report(image_path: str) -> dict:
    """Markup in every kind of text a posted report carries (numbers stay numbers: a string
    where the brief needs a number is a malformed report, refused below)."""
    image = f'<img src="{image_path}" width="40" height="40"/>'
    report = json.loads(json.dumps(_report(_demo_like())))  # as a client would post it
    overall = report["overall"]
    report["survey"]["name"] = f"Buyers {image}"
    report["survey"]["branding"] = {"vendor_name": f"Acme {LINK}"}
    report["survey"]["created_at"] = "<b>x</b>.."  # the period shows ten characters
    pillars = overall["readiness"]["pillars"]
    first = next(iter(pillars))
    pillars[first]["title"] = f"Website {image}"
    dims = overall["alignment"]["dimensions"]
    dims[next(iter(dims))]["title"] = f"Speed {LINK}"
    for segment in report["segments"]:
        if segment["key"] != "overall":
            segment["label"] = f"{segment['label']} {image}"
    for rec in report["recommendations"]:
        rec["action"] = f"{rec['action']} {LINK}"
        rec["evidence"] = f"{rec['evidence']} {image}"
    report["headline"] = f"Headline {LINK} {image}"
    weights = report["weights"]["alignment"]
    weights[f"A1{LINK}"] = weights.pop("A1")
    return report


@pytest.fixture
def render_client(settings, app):
    return pdf_service.create_app(settings).test_client()


def test_markup_in_a_posted_report_is_printed_never_obeyed(render_client, tenant, tmp_path):
    secret_image = tmp_path / "server-secret.png"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(secret_image)
    clean = render_client.post("/v1/render", json=_report(_demo_like()),
                               headers=tenant.headers("read"))
    assert clean.status_code == 200
    images_from_charts = len(re.findall(r"/Subtype\s*/Image", _expanded(clean.data)))

    rendered = render_client.post("/v1/render", json=_hostile_report(str(secret_image)),
                                  headers=tenant.headers("read"))
    assert rendered.status_code == 200, rendered.get_data(as_text=True)[:500]
    qpdf_check(rendered.data)
    raw = _expanded(rendered.data)
    assert len(re.findall(r"/Subtype\s*/Image", raw)) == images_from_charts == 0
    assert "/URI" not in raw and "/JavaScript" not in raw
    assert "/Annots" not in raw
    text = " ".join(pdf_text(rendered.data).split())
    assert text.count("<img src=") >= 2 and "server-secret.png" in text
    assert text.count('<a href="javascript:alert(1)">x</a>') >= 2
    assert "<b>x</b>.. to" in text  # the period, from the survey's created_at
    assert 'speed <a href="javascript:alert(1)">x</a>' in text.lower()

    # Markup where a number belongs is a malformed report: refused, never rendered, never a 500.
    malformed = json.loads(json.dumps(_report(_demo_like())))
    malformed["overall"]["n"] = LINK
    malformed["responses"]["customer"] = f'<img src="{secret_image}"/>'
    refused = render_client.post("/v1/render", json=malformed, headers=tenant.headers("read"))
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")


def test_the_paragraph_builder_refuses_markup_it_did_not_write():
    styles = styles_for(colors.HexColor("#1f6feb"))
    assert paragraph('<font name="DejaVuSans-Bold" size="30">1.0</font> <b>x</b>', styles["body"])
    for markup in ('<img src="/etc/hostname"/>', LINK, '<link href="file:///x">x</link>',
                   '<font color="#000" face="x">y</font>', "<br/>"):
        with pytest.raises(ValueError):
            paragraph(f"before {markup} after", styles["body"])
