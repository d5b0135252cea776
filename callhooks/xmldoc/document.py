"""The root of a document: its text (checked for left-out URLs and against the platform's size cap) and the
filling of left-out callback URLs, which is how a receiver pairs a reply with its own signed callback URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from typing_extensions import Self

from .model import DocumentError, Filler, Verb, check_absolute_url
from .writer import render

__all__ = ["Document", "walk"]


@dataclass(frozen=True, init=False)
class Document(Verb):
    """A whole document: ``str(document)`` is its text (declaration, UTF-8), checked against the size cap."""

    def __str__(self) -> str:
        name = type(self).__name__
        for verb in walk(self):
            missing = verb._missing()
            if missing:
                field, reason = missing
                raise self.dialect.error(
                    f"{reason}: pass {field}=..., or return the {name} from a callhooks handler, which fills it "
                    f"with its signed callback URL ({name}.with_default_urls)",
                    verb=type(verb).__name__,
                )
        document = render(self)
        size = len(document.encode("utf-8"))
        if size > self.dialect.max_bytes:
            raise self.dialect.error(
                f"the document is {size} bytes, over the platform's limit of {self.dialect.max_bytes} "
                f"({self.dialect.limit})",
                verb=name,
            )
        return document

    def with_default_urls(self, url: str | Filler) -> Self:
        """A copy where every callback URL left out is ``url`` (each verb's ``_fillable_urls``). URLs given are
        kept. A ``Filler`` instead decides, verb by verb, every attribute left out (a receiver filling each
        callback URL with one of its own, made for that verb and field, and the credentials that go with it)."""
        if isinstance(url, str):
            try:
                check_absolute_url(type(self).__name__, "the default URL", url)
            except DocumentError as error:
                raise self.dialect.adopt(error) from None
        result = self._with_default_url(url)
        assert isinstance(result, type(self))
        return result


def walk(verb: Verb) -> Iterator[Verb]:
    """``verb`` and every verb nested in it, depth first, in document order."""
    yield verb
    for child in getattr(verb, "verbs", ()):
        yield from walk(child)
