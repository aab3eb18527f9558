"""Kept so existing imports work; the code lives in gazetteer.sources."""

from .sources import *  # noqa: F401,F403
