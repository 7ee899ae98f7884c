"""ProbeResult (one probe's verdict, reason and numbers) and ProbeReport (all of them for one clip)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Numbers, lists and dicts only; NaN and infinities become None (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


@dataclass
class ProbeResult:
    """passed is None when the probe could not run or the clip holds nothing it can judge."""

    name: str
    passed: bool | None
    reason: str
    metrics: dict = field(default_factory=dict)  # JSON-able numbers
    data: dict = field(default_factory=dict)  # arrays for plots; not in to_dict()

    @property
    def ran(self) -> bool:
        return self.passed is not None

    def to_dict(self) -> dict:
        return {"passed": self.passed, "reason": self.reason, **jsonable(self.metrics)}

    def __repr__(self) -> str:
        mark = {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]
        return f"<{self.name}: {mark} - {self.reason}>"


def skipped(name: str, reason: str, **metrics) -> ProbeResult:
    return ProbeResult(name, None, reason, metrics)


@dataclass
class ProbeReport:
    """All probes on one clip. `.verdicts` holds only the probes that could run."""

    results: dict[str, ProbeResult]
    context: Any = field(repr=False, default=None)  # the probes' view of the clip (for plot())

    @property
    def verdicts(self) -> dict[str, bool]:
        return {name: bool(r.passed) for name, r in self.results.items() if r.passed is not None}

    @property
    def passed(self) -> bool | None:
        """True when every probe that ran passed; None when none could run."""
        v = self.verdicts
        return all(v.values()) if v else None

    def __getitem__(self, name: str) -> ProbeResult:
        return self.results[name]

    def to_dict(self) -> dict:
        ctx = self.context
        head = {}
        if ctx is not None:
            frames, height, width = ctx.video.shape[:3]
            head = {"frames": frames, "height": height, "width": width, "fps": ctx.fps, "prompt": ctx.prompt,
                    "tracker": ctx.method, "objects": sorted(ctx.tracks)}
        return jsonable({**head, "passed": self.passed, "verdicts": self.verdicts,
                         "probes": {name: r.to_dict() for name, r in self.results.items()}})

    def summary(self) -> str:
        """One line per probe: verdict and reason."""
        width = max((len(n) for n in self.results), default=0)
        lines = [f"{name:<{width}}  {({True: 'PASS', False: 'FAIL', None: 'n/a '})[r.passed]}  {r.reason}"
                 for name, r in self.results.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ProbeReport(passed={self.passed})\n{self.summary()}"

    def plot(self, frames: int = 6):
        """Matplotlib figure: trajectory overlay on frames, tracked vs simulated paths, per-probe panels."""
        from .plot import plot_report

        return plot_report(self, frames=frames)
