"""The ground-truth parse floor: how well velocities can be read back from rendered clips at all.

As phyworld (Kang et al. 2024) measures it: render ground-truth clips, parse them with `track()`,
take velocities from the tracked positions by central differences, and compare with the
simulator's own velocities at the same frames. A generated clip cannot be judged more finely
than this, so later model numbers are read against it.

Central differences need the velocity to be smooth over the three frames they span, so a sample
is left out when the ball began a contact (bounce, collision, rim or wall hit, also the small
bounces too slow to be reported as events: `Trajectory.impacts`) in either frame interval of the
window; steady rolling is kept (the floor only cancels gravity there). It is also left out when, at any of the
three frames, the ball is not entirely inside the image, is within `margin_px` pixels of another
ball (occluded or touching), or is not tracked.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .clip import sample
from .render import Camera
from .track import track

IMPACT_THRESHOLD = 0.05  # world units/s: slower contacts change velocity by less than parsing errs


def central_velocity(pos: np.ndarray, fps: float) -> np.ndarray:
    """(F, ..., 2) positions -> (F, ..., 2) velocities by central differences; NaN at both ends."""
    pos = np.asarray(pos, np.float64)
    vel = np.full_like(pos, np.nan)
    vel[1:-1] = (pos[2:] - pos[:-2]) * (fps / 2.0)
    return vel


def _usable(clip, i: int, cam: Camera, margin_px: float) -> np.ndarray:
    """(F,) bool: ball i is whole inside the image and clear of every other ball."""
    st = clip.states
    centre = cam.to_pixels(st.pos[:, i])
    r = st.radius[i] * cam.scale
    ok = ((centre[:, 0] - r >= 0) & (centre[:, 0] + r <= cam.width)
          & (centre[:, 1] - r >= 0) & (centre[:, 1] + r <= cam.height))
    for j in range(len(st.radius)):
        if j != i:
            gap = np.linalg.norm(centre - cam.to_pixels(st.pos[:, j]), axis=-1) - r - st.radius[j] * cam.scale
            ok &= gap > margin_px
    return ok


def _summary(errors, speeds) -> dict:
    e, s = np.asarray(errors, np.float64), np.asarray(speeds, np.float64)
    if e.size == 0:
        return {"samples": 0}
    return {
        "samples": int(e.size),
        "mean": float(e.mean()),
        "median": float(np.median(e)),
        "p90": float(np.percentile(e, 90)),
        "max": float(e.max()),
        "mean_speed": float(s.mean()),
        "relative": float(e.mean() / s.mean()),
    }


def parse_floor(n: int = 200, seed: int = 0, height: int = 32, width: int = 32, *, num_frames: int = 16,
                fps: float = 8.0, margin_px: float = 1.0, impact_threshold: float = IMPACT_THRESHOLD,
                progress: bool = True, through=None, **constraints) -> dict:
    """Velocity error of `track()` on `n` ground-truth clips (seeds seed, seed+1, ...) at one resolution.

    Returns a JSON-able dict: "mean"/"median"/"p90"/"max" velocity error in world units/s over all
    usable (frame, ball) samples, "mean_speed" and "relative" (mean error / mean speed), the same
    "per_scenario", "position_px" (tracked-position error in pixels on the same samples) and
    "fd_only" (central differences of the *true* positions against the true velocities: the part of
    the floor that comes from differencing at the clip's frame rate, not from parsing pixels).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    from tqdm.auto import tqdm

    cam = Camera(height, width)
    errors, speeds, fd_errors, pos_px = [], [], [], []
    per = defaultdict(lambda: ([], []))
    counts = {"candidates": 0, "contact": 0, "occluded_or_outside": 0, "untracked": 0}
    findings = {"visible": 0, "found": 0, "ghost_frames": 0, "frames": 0}
    for k in tqdm(range(n), desc=f"parse floor {height}x{width}", disable=not progress):
        clip = sample(seed + k, height=height, width=width, num_frames=num_frames, fps=fps, **constraints)
        video = clip.video if through is None else np.asarray(through(clip.video))
        tracks = track(video)
        st, impacts = clip.states, clip.trajectory.impacts
        _count_found(tracks, clip, cam, findings)
        true_fd = central_velocity(st.pos, fps)
        for i, color in enumerate(st.color):
            tracked = tracks[color].pos if color in tracks else np.full((len(st.t), 2), np.nan)
            fd = central_velocity(tracked, fps)
            smooth = np.zeros(len(st.t), bool)
            smooth[1:-1] = (impacts[1:-1, i] < impact_threshold) & (impacts[2:, i] < impact_threshold)
            clear = _usable(clip, i, cam, margin_px)
            clear3 = np.zeros_like(clear)
            clear3[1:-1] = clear[:-2] & clear[1:-1] & clear[2:]
            found = np.isfinite(fd).all(-1)
            counts["candidates"] += len(st.t) - 2
            counts["contact"] += int((~smooth[1:-1]).sum())
            counts["occluded_or_outside"] += int((smooth & ~clear3)[1:-1].sum())
            counts["untracked"] += int((smooth & clear3 & ~found)[1:-1].sum())
            use = smooth & clear3 & found
            err = np.linalg.norm(fd[use] - st.vel[use, i], axis=-1)
            speed = np.linalg.norm(st.vel[use, i], axis=-1)
            errors += err.tolist()
            speeds += speed.tolist()
            fd_errors += np.linalg.norm(true_fd[use, i] - st.vel[use, i], axis=-1).tolist()
            pos_px += np.linalg.norm(cam.to_pixels(tracked[use]) - cam.to_pixels(st.pos[use, i]), axis=-1).tolist()
            per[clip.scene.scenario][0].extend(err.tolist())
            per[clip.scene.scenario][1].extend(speed.tolist())
    out = {"height": height, "width": width, "num_frames": num_frames, "fps": fps, "clips": n, "seed": seed,
           "units": "world units/s (the world is 10 units wide)"}
    out.update(_summary(errors, speeds))
    out["per_scenario"] = {name: _summary(*per[name]) for name in sorted(per)}
    out["position_px"] = {"mean": float(np.mean(pos_px)) if pos_px else float("nan"),
                          "max": float(np.max(pos_px)) if pos_px else float("nan")}
    out["fd_only"] = _summary(fd_errors, speeds)
    out["excluded"] = counts
    out["found"] = findings
    return out


def _count_found(tracks, clip, cam: Camera, found: dict) -> None:
    st = clip.states
    for i, color in enumerate(st.color):
        whole = _usable(clip, i, cam, margin_px=-1e9)  # inside the image; overlaps allowed
        found["visible"] += int(whole.sum())
        if color in tracks:
            found["found"] += int((whole & tracks[color].present).sum())
    ghosts = np.zeros(len(st.t), bool)
    for color, tr in tracks.items():
        if color not in st.color:
            ghosts |= tr.present
    found["ghost_frames"] += int(ghosts.sum())
    found["frames"] += len(st.t)

