"""What the repository's own files point at exists in the repository: test files named in comments, docstrings and
pages, the documentation pages and sections code cites, the files the README links to; and no file points outside
the repository (a clone alone must hold everything it refers to)."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

from tests.bxml.test_bxml_node import WORKED
from tests.receiver.catalogue import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = re.compile(r"(?<![\w/])tests/[\w/]+\.py\b")  # not another repository's (Owner/repo/tests/...)
# Paths that leave the clone: the sibling folders of a checkout, absolute paths of a machine's home or work tree.
OUTSIDE = re.compile(r"(?:\.\./)+shared/|\bshared/docs/|(?<![\w.])/(?:work|home|Users|root)/[\w.-]+")
# A page of the site cited from code, with its sections: docs/platforms/x.md#a, #b and #c.
DOC_CITATION = re.compile(r"(?<![\w/.-])(docs/[\w/.-]+?\.md)((?:#[\w-]+)?(?:(?:,| and)\s+(?:#:?\s*)?#[\w-]+)*)")
ANCHOR = re.compile(r"#([\w-]+)")
HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.MULTILINE)
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    suffixes = {".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".cfg", ".ini", ".html", ".js", ".css", ""}
    return [ROOT / name for name in listed.split() if Path(name).suffix in suffixes and (ROOT / name).is_file()]


def _slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"`|\*\*|\[|\]\([^)]*\)", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {_slug(heading) for heading in HEADING.findall(text)}


def test_every_test_file_the_repository_names_exists() -> None:
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _tracked_text_files()
        for name in TEST_FILE.findall(path.read_text(errors="replace"))
        if not (ROOT / name).exists()
    }
    assert not missing, sorted(missing)


def test_no_file_points_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    found = {
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _tracked_text_files()
        if path != this
        for match in OUTSIDE.finditer(path.read_text(errors="replace"))
    }
    assert not found, sorted(found)


def test_the_outside_pattern_catches_what_it_guards_against() -> None:
    for text in ("see ../shared/docs/x.md", "``/work/shared/docs/catapult-voice.md``", "shared/docs/x.md §3"):
        assert OUTSIDE.search(text), text
    for text in ("docs/platforms/catapult-voice.md#events", "../console.png", "https://example.com/work/x"):
        assert not OUTSIDE.search(text), text


def test_every_cited_page_and_section_exists() -> None:
    cited = 0
    problems = set()
    for path in _tracked_text_files():
        if path.suffix != ".py" or path == Path(__file__).resolve():
            continue
        for match in DOC_CITATION.finditer(path.read_text(errors="replace")):
            page = ROOT / match.group(1)
            cited += 1
            if not page.is_file():
                problems.add(f"{path.relative_to(ROOT)}: {match.group(1)} does not exist")
                continue
            for anchor in ANCHOR.findall(match.group(2)):
                if anchor not in _anchors(page):
                    problems.add(f"{path.relative_to(ROOT)}: {match.group(1)} has no section #{anchor}")
    assert not problems, sorted(problems)
    assert cited >= 30  # the code cites the platform pages: the check is not vacuous


def test_the_citation_pattern_reads_lists_of_sections() -> None:
    text = "(docs/platforms/catapult-bxml.md#execution and\n    #: #empty-response) docs/x.md#a, #b"
    found = [(m.group(1), ANCHOR.findall(m.group(2))) for m in DOC_CITATION.finditer(text)]
    assert found == [("docs/platforms/catapult-bxml.md", ["execution", "empty-response"]), ("docs/x.md", ["a", "b"])]
    assert _slug('hangup (and the "reject" event)') == "hangup-and-the-reject-event"
    assert _slug("The Node SDK's builder") == "the-node-sdks-builder"


def test_the_readmes_links_reach_files_of_the_repository() -> None:
    links = MARKDOWN_LINK.findall((ROOT / "README.md").read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to the documentation"
    assert not [link for link in local if not (ROOT / link).exists()]


def test_the_callback_examples_the_tests_copy_are_on_the_voice_page() -> None:
    page = (ROOT / "docs" / "platforms" / "catapult-voice.md").read_text()
    missing = [(s.name, text[:60]) for s in SAMPLES for text in (s.json, s.get) if text and text not in page]
    assert not missing, missing


def test_the_worked_documents_the_tests_copy_are_on_the_bxml_page() -> None:
    page = (ROOT / "docs" / "platforms" / "catapult-bxml.md").read_text()
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    missing = [name for name, (document, _) in WORKED.items() if document.removeprefix(head) not in page]
    assert not missing, missing
