"""Render docs/sample-brief.pdf and PNGs of its pages from the demo data `make run` loads.

    .venv/bin/python scripts/make_sample_brief.py      (or: make sample-brief)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pdf_service.brief.render import render_brief  # noqa: E402
from scoring_service.domain import survey_report  # noqa: E402
from shared.storage import open_store  # noqa: E402
from survey_api.demo import seed_demo  # noqa: E402


def main() -> None:
    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/demo.db")
        demo = seed_demo(store, Path(tmp) / "key")
        report = survey_report(store, demo.org_id, demo.survey_id, ["size,tenure"])
    pdf = render_brief(report, audience="leadership team")
    (docs / "sample-brief.pdf").write_bytes(pdf)
    for old in docs.glob("sample-brief-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(docs / "sample-brief.pdf"),
                    str(docs / "sample-brief-page")], check=True)
    print(f"wrote docs/sample-brief.pdf ({len(pdf):,} bytes) and "
          f"{len(list(docs.glob('sample-brief-page-*.png')))} page images")


if __name__ == "__main__":
    main()
