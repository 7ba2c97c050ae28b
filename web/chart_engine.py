"""pygal, for web.charts, without the import hook it leaves behind.

pygal puts a finder for its map plugins (pygal.maps.*, which no chart here uses) on
sys.meta_path; it has no find_spec, so every later import that reaches it raises an ImportWarning
(an error under the tests' warning filters: activities failed on import). It is taken off again
as soon as pygal is in."""

from __future__ import annotations

import sys

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

__all__ = ["Style", "pygal"]
