"""MkDocs hooks of the documentation site (mkdocs.yml ``hooks:``)."""

from __future__ import annotations

import re
from typing import Any

# Docstrings name other objects the reStructuredText way (:class:`Faults`); mkdocstrings renders the role's text
# literally before the code span, so it goes and the name stays a code span.
_ROLE = re.compile(r":(?:class|meth|func|mod|attr|exc|data|obj):(?=<code>)")


def on_page_content(html: str, **_: Any) -> str:
    """The page's HTML without the role prefixes of docstrings' cross-references."""
    return _ROLE.sub("", html)
