"""The extraction units a run has paid for: one line per LLM call's validated candidates, keyed by content.

A unit's key covers everything its answer depends on (the prompt sent, the chunks it cites, the
model, the validation settings), so an update re-uses every unit whose text did not change and a
removed document's candidates disappear with the units that read it. Units are appended as they
finish (a killed run keeps them; a torn last line is ignored) and the log is compacted to the
current units at the end of the stage.
"""

from __future__ import annotations

import json
import os
import threading

from pydantic import ValidationError

from kgc.artifacts import UNITS
from kgc.models import Unit
from kgc.rundir import RunDir

__all__ = ["Unit", "UnitLog"]


class UnitLog:
    """The units of one run directory, read once and appended to by concurrent workers."""

    def __init__(self, run: RunDir):
        self.run = run
        self.path = run / UNITS
        self._units: dict[str, Unit] = {}
        self._lock = threading.Lock()
        if self.path.is_file():
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        unit = Unit.model_validate_json(line)
                    except (ValidationError, json.JSONDecodeError):
                        continue  # the torn last line of a killed run
                    self._units[unit.key] = unit

    def __contains__(self, key: str) -> bool:
        return key in self._units

    def get(self, key: str) -> Unit | None:
        return self._units.get(key)

    def add(self, unit: Unit) -> None:
        with self._lock:
            self._units[unit.key] = unit
            with self.path.open("a", encoding="utf-8") as f:
                f.write(unit.model_dump_json() + "\n")
                f.flush()
                os.fsync(f.fileno())

    def compact(self, keys: list[str]) -> None:
        """Keep only the units of `keys` (those present), in that order."""
        with self._lock:
            self._units = {k: self._units[k] for k in keys if k in self._units}
            self.run.write(UNITS, self._units.values())
