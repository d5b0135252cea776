"""What the repository's own files point at exists in the repository: test files named in comments, docstrings and
pages, and no path outside the repository (a clone alone must hold everything it refers to)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = re.compile(r"\btests/[\w/]+\.py\b")
OUTSIDE = re.compile(r"(\.\./|/work/)shared/")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    suffixes = {".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".cfg", ".ini", ""}
    return [ROOT / name for name in listed.split() if Path(name).suffix in suffixes and (ROOT / name).is_file()]


def test_every_test_file_the_repository_names_exists() -> None:
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _tracked_text_files()
        for name in TEST_FILE.findall(path.read_text(errors="replace"))
        if not (ROOT / name).exists()
    }
    assert not missing, sorted(missing)
