"""Client settings from arguments, else from ``<PREFIX>_<NAME>`` environment variables: one rule for every platform."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from typing_extensions import Self

__all__ = ["FromEnv", "from_arguments_or_env", "require"]


class FromEnv:
    """``from_env`` for a client whose constructor takes ``environ`` (where its settings' variables are read)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client configured by its platform's environment variables in ``environ`` (default ``os.environ``);
        ``options`` are the constructor's keyword arguments (``hooks``, ``timeout``, ...) and win over them."""
        return cls(**{"environ": environ, **options})


def from_arguments_or_env(
    prefix: str, given: Mapping[str, str | None], environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Each of ``given``'s values, or when it is empty ``environ[PREFIX_NAME]`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    return {name: value or env.get(f"{prefix}_{name.upper()}") or None for name, value in given.items()}


def require(prefix: str, found: Mapping[str, str | None], *names: str) -> None:
    """A ``ValueError`` naming each of ``names`` that has no value, with its variable."""
    missing = [name for name in names if not found.get(name)]
    if missing:
        raise ValueError(
            "missing credentials: " + ", ".join(f"{name} (or {prefix}_{name.upper()})" for name in missing)
        )
