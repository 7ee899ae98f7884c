"""ProbeReport.plot(): trajectories over the frames, tracked vs simulated paths, one panel per probe."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import world

_VERDICT_COLOR = {True: "#2e7d32", False: "#c62828", None: "#757575"}


def _rgb(name: str):
    return world.COLORS.get(name, (1.0, 1.0, 1.0))


def plot_report(report, frames: int = 6) -> Figure:
    ctx = report.context
    if ctx is None:
        raise ValueError("this report has no clip attached to plot")
    video, cam, t = ctx.video, ctx.camera, ctx.t
    picks = np.unique(np.linspace(0, ctx.frames - 1, min(frames, ctx.frames)).round().astype(int))
    cons = report.results.get("consistency")
    simulated = (cons.data.get("simulated") if cons is not None else None) or {}
    fig = Figure(figsize=(2.0 * max(len(picks), 4), 6.4), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[1, 1.25])
    top, bottom = grid[0].subgridspec(1, len(picks)), grid[1].subgridspec(1, 4, width_ratios=[1, 1, 1, 0.8])

    # Row 1: frames with each object's whole tracked path (solid) and simulated path (dashed).
    for k, f in enumerate(picks):
        ax = fig.add_subplot(top[0, k])
        ax.imshow(video[f], interpolation="nearest", extent=(0, cam.width, cam.height, 0))
        for name, m in ctx.motions.items():
            px = cam.to_pixels(m.pos)
            ax.plot(px[:, 0], px[:, 1], "-", color=_rgb(name), lw=0.8, alpha=0.8)
            if m.present[f]:
                ax.plot(*px[f], "o", mfc="none", mec="white", ms=6, mew=0.8)
            if name in simulated:
                sp = cam.to_pixels(simulated[name])
                ax.plot(sp[:, 0], sp[:, 1], "--", color="white", lw=0.7, alpha=0.7)
        ax.set(xlim=(0, cam.width), ylim=(cam.height, 0), xticks=[], yticks=[], title=f"frame {f}")

    # Row 2: y(t) with the gravity fit, x(t), consistency's position error, the verdicts.
    ay, axx, ae, av = (fig.add_subplot(bottom[0, k]) for k in range(4))
    grav = report.results.get("gravity")
    curves = grav.data.get("curves", {}) if grav is not None else {}
    for name, m in ctx.motions.items():
        c = _rgb(name)
        ay.plot(t, m.pos[:, 1], "o", color=c, ms=3, label=name)
        axx.plot(t, m.pos[:, 0], "o", color=c, ms=3)
        for frames_, values in curves.get(name, []):
            ay.plot(t[frames_], values, "-", color=c, lw=1)
        if name in simulated:
            ay.plot(t, simulated[name][:, 1], "--", color=c, lw=0.8)
            axx.plot(t, simulated[name][:, 0], "--", color=c, lw=0.8)
    ay.set(xlabel="t (s)", ylabel="height (units)", title="height (fit —, simulated --)")
    axx.set(xlabel="t (s)", ylabel="x (units)", title="horizontal position")
    if cons is not None and cons.metrics.get("position_error") is not None:
        err = np.asarray(cons.metrics["position_error"], float)
        ae.plot(t, err, "-o", ms=3, color="#1565c0")
        ae.axvspan(0, t[min(cons.metrics.get("given", 0), ctx.frames - 1)], color="#eeeeee")
    ae.set(xlabel="t (s)", ylabel="units", title="tracked vs simulated")
    av.axis("off")
    for k, (name, r) in enumerate(report.results.items()):
        mark = {True: "PASS", False: "FAIL", None: "n/a"}[r.passed]
        av.text(0, 1 - k * 0.12, f"{name}: {mark}", color=_VERDICT_COLOR[r.passed], fontsize=9, va="top",
                transform=av.transAxes, family="monospace")
    av.set_title("verdicts")
    return fig
