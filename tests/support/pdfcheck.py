"""Real PDF checks with Debian's qpdf and poppler-utils."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def qpdf_check(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        result = subprocess.run(["qpdf", "--check", f.name], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pdf_text(pdf: bytes, layout: bool = True) -> str:
    """layout=False gives reading order (side-by-side boxes one after the other)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(["pdftotext"] + (["-layout"] if layout else []) + [f.name, "-"],
                              capture_output=True, text=True, check=True).stdout


def page_count(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True,
                              check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def render_pngs(pdf: bytes, folder: Path, prefix: str, dpi: int = 60) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), f.name, str(folder / prefix)],
                       check=True)
    return sorted(folder.glob(f"{prefix}*.png"))


def page_texts(pdf: bytes, layout: bool = True) -> list[str]:
    """The extracted text of each page (pdftotext separates pages with form feeds)."""
    return pdf_text(pdf, layout).split("\f")[:page_count(pdf)]


def words(text: str) -> str:
    """Text with every run of white space made one space (lines wrap differently per layout)."""
    return " ".join(text.split())
