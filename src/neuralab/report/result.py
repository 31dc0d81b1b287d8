"""The one result of an experiment, a study or a sweep: tables, figures and a computed conclusion.

Experiments (:mod:`neuralab.playground.experiments`), studies (:mod:`neuralab.studies`) and the
sweep report all return an :class:`ExperimentResult`; :mod:`neuralab.report.result_report`
writes it (``report.md``, ``report.html``, one CSV per table) into the run directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.report.tabular import Table


@dataclass
class ExperimentResult:
    """What one run found: tables, figures and one sentence of conclusion computed from them.

    ``holds`` says whether the course's claim (``claim``) held in these numbers, and the
    sentence says so too; it is None where the result states no single claim. ``measurements``
    keeps the numbers the sentence was computed from, for tests and JSON; ``figures`` are the
    saved image files; ``config`` is the resolved config dataclass the run used.
    """

    name: str
    title: str
    tables: list[Table]
    conclusion: str
    holds: bool | None = None
    claim: str = ""  # the course's claim, in one line ("" where there is none)
    measurements: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    config: Any = None
    run_dir: Path | None = None
    seconds: float | None = None  # wall time of the run (None: not measured)

    @property
    def verdict(self) -> str:
        """Return ``"holds"``, ``"does NOT hold"`` or ``""`` (no claim to judge)."""
        if self.holds is None:
            return ""
        return "holds" if self.holds else "does NOT hold"


__all__ = ["ExperimentResult"]
