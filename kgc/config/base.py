"""What every config section shares, and where kgc keeps user state."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict


def kgc_home() -> Path:
    """User state (model files, shared caches): $KGC_HOME, else ~/.cache/kgc."""
    return Path(os.environ.get("KGC_HOME", Path.home() / ".cache" / "kgc"))


class Section(BaseModel):
    """A config section: an unknown key is an error (a typo must not silently keep a default).

    Its docstring's first line is the section's description in `kgc config`; every key needs a
    `description` (tests/test_config_reference.py fails on one without)."""

    model_config = ConfigDict(extra="forbid")
