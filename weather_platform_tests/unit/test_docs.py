"""The project documents itself: every design section the code cites exists in the repository's docs/DESIGN.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESIGN = REPO / "docs" / "DESIGN.md"
CITATION = re.compile(r"DESIGN(?:\.md)?\s*§\s*(\d+(?:\.\d+)?)")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / name for name in listed.split() if name.endswith((".py", ".sql", ".md", ".yml", ".sh", "Makefile"))]


def test_every_cited_section_of_the_design_exists() -> None:
    headings = {m.group(1) for m in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", DESIGN.read_text(), re.MULTILINE)}
    cited: dict[str, set[str]] = {}
    for path in _tracked_text_files():
        for section in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(section, set()).add(path.relative_to(REPO).as_posix())
    assert cited, "the code cites the design document"
    assert {s: sorted(files) for s, files in cited.items() if s not in headings} == {}


def test_no_file_refers_to_a_document_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|shared/(?:DESIGN|RECIPES)|RECIPES\.md")
    offenders = [p.relative_to(REPO).as_posix() for p in _tracked_text_files() if outside.search(p.read_text())]
    assert offenders == []
