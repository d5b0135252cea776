"""Catapult Voice API v1 as the simulator plays it (the default platform): :class:`CatapultProfile`."""

from .encoding import CatapultEncoding
from .profile import CatapultProfile

__all__ = ["CatapultEncoding", "CatapultProfile"]
