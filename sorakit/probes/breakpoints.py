"""Visible contacts as kinematic breakpoints: where a tracked ball's free flight ends and a new one begins.

Between contacts a ball's coordinates are low-order polynomials in time. Each track is cut into such
pieces by dynamic programming: the cut that explains the track with the least misfit (in units of the
clip's own tracking noise, measured from the tracks' third differences) plus a penalty per piece. A
piece is read as flight with the ball's own acceleration (measured on its long pieces), as held up
(resting or rolling: no acceleration), or, at a small extra cost, with an acceleration of its own. A
cut is kept as a contact where the velocity jumps by more than the fits' noise explains. Its time is
where the two pieces meet (the piece before, run forward, and the piece after, run backward, come
closest), so a contact is timed within its frame interval, not at the interval's centre; around a
lone frame between two contacts, the flight through that frame joins both. Nothing of the world is
assumed: not its gravity, not where the floor or the walls are, so generated clips, which do not obey
the world, are read the same way. A lone frame off a path that runs on without it is a tracking glitch.

Two balls breaking within a frame interval of each other, close together, are one collision. A ball
whose centre goes down through a hoop found in the picture (`Context.hoop`) passes through its net.
Nothing here reads the sound model's features: this is the reference the soundtrack is judged by.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from .context import Context, prepare

NOISE_FLOOR_PX = 0.02  # px: tracking noise is never taken as smaller than this
PENALTY = 25.0  # misfit (sum of squared residuals / noise^2) a new piece must save: ~4 sd above noise alone
MIN_JUMP_SE = 4.0  # a kept cut changes the velocity by more than this many standard errors
MIN_JUMP_PX = 4.0  # px/s: and by more than this at any size (sub-pixel wobble is not a contact)
PAIR_GAP = 0.6  # ball radii of slack between two balls' edges for their breaks to be one collision
FREE_ACCEL = 8.0  # extra cost of a piece fitted with its own acceleration (see _fit)
GRID = 65  # candidate contact times per frame interval
RESTITUTION = 0.75  # assumed only to time a contact next to a clip's first or last frame (its other side unseen)


@dataclass(frozen=True)
class Piece:
    """Free flight over frames start..stop (inclusive, indices into one run of tracked frames): per
    axis, polynomial coefficients in (t - t0), highest power first (np.polyfit's order). A single
    frame is a piece too (a ball between two contacts in consecutive frame intervals): its position
    is known, its velocity is not."""

    start: int
    stop: int
    t0: float
    coef: np.ndarray  # (degree + 1, 2)
    velocity_se: float  # standard error of the velocity at either end, world units/s

    @property
    def single(self) -> bool:
        return self.start == self.stop

    def position(self, t) -> np.ndarray:
        s = np.asarray(t, float)[..., None] - self.t0
        return sum(c * s ** (len(self.coef) - 1 - k) for k, c in enumerate(self.coef))

    def velocity(self, t) -> np.ndarray:
        s, deg = np.asarray(t, float)[..., None] - self.t0, len(self.coef) - 1
        return sum((deg - k) * c * s ** (deg - k - 1) for k, c in enumerate(self.coef[:-1])) + 0 * s


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def tracking_noise(positions: list[np.ndarray], px_per_unit: float) -> float:
    """Robust per-coordinate noise (world units) of the tracks: free flight has zero third differences,
    so their median absolute size, pooled over balls and axes, measures the noise (Var = 20 sigma^2).
    `positions`: one (frames, 2) array of a ball's centres (world units) per ball."""
    _positive("px_per_unit", px_per_unit)
    for p in positions:
        if np.ndim(p) != 2 or np.shape(p)[1] != 2:
            raise ValueError(f"positions must be (frames, 2) arrays of centres, got one of shape {np.shape(p)}")
    third = [np.diff(p, 3, axis=0).ravel() for p in positions if len(p) >= 4]
    third = np.concatenate(third) if third else np.zeros(0)
    third = third[np.isfinite(third)]
    sigma = 1.4826 * float(np.median(np.abs(third))) / np.sqrt(20) if len(third) else 0.0
    return max(sigma, NOISE_FLOOR_PX / px_per_unit)


def _fit(t: np.ndarray, p: np.ndarray, accel: np.ndarray | None, sigma: float) -> tuple[np.ndarray, float]:
    """(coef, cost) of one piece: its misfit (sum of squared residuals / sigma^2) beyond what noise leaves
    in a fit with that many parameters, for the best of three models: flight with the ball's own
    acceleration, held up (no acceleration: resting, rolling), or a free quadratic per axis, which costs
    FREE_ACCEL more (a ball that accelerates otherwise in every piece is possible, in a generated clip,
    but it is the less likely reading). A lone frame fits itself."""
    m, s = len(t), t - t[0]
    if m == 1:
        return p[:1].copy(), 0.0
    fits = []
    for known in ([np.zeros(2)] if accel is None else [accel, np.zeros(2)]):
        rest = p - 0.5 * known * s[:, None] ** 2
        line = np.polyfit(s, rest, 1)
        sse = float(((s[:, None] * line[0] + line[1] - rest) ** 2).sum())
        fits.append((np.vstack([0.5 * known, line]), sse / sigma**2 - 2 * (m - 2)))
    if m >= 3:
        coef, res, *_ = np.polyfit(s, p, 2, full=True)
        sse = float(res.sum()) if len(res) else 0.0
        fits.append((coef, sse / sigma**2 - 2 * (m - 3) + FREE_ACCEL))
    return min(fits, key=lambda f: f[1])


def _residual_sse(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(windows,) sum of squared least-squares residuals of values (w, m, 2) on design (w, m, k), per window."""
    q, _ = np.linalg.qr(design)
    resid = values - q @ (q.transpose(0, 2, 1) @ values)
    return (resid**2).sum((1, 2))


def _window_costs(t: np.ndarray, p: np.ndarray, accel: np.ndarray | None, sigma: float) -> np.ndarray:
    """(n, n + 1): _fit's cost of the piece of frames start..stop-1 at [start, stop], every window at once
    (a window length at a time; a loop of least-squares fits would make long clips slow)."""
    n = len(t)
    out = np.full((n, n + 1), np.inf)
    out[np.arange(n), np.arange(n) + 1] = 0.0  # a lone frame fits itself
    for m in range(2, n + 1):
        idx = np.arange(n - m + 1)[:, None] + np.arange(m)
        s = t[idx] - t[idx[:, :1]]
        ones = np.ones_like(s)
        best = np.full(len(idx), np.inf)
        for known in ([np.zeros(2)] if accel is None else [accel, np.zeros(2)]):
            rest = p[idx] - 0.5 * known * s[..., None] ** 2
            best = np.minimum(best, _residual_sse(np.stack([ones, s], -1), rest) / sigma**2 - 2 * (m - 2))
        if m >= 3:
            quad = _residual_sse(np.stack([ones, s, s * s], -1), p[idx]) / sigma**2 - 2 * (m - 3) + FREE_ACCEL
            best = np.minimum(best, quad)
        out[idx[:, 0], idx[:, 0] + m] = best
    return out


def _segment(t: np.ndarray, p: np.ndarray, sigma: float, accel: np.ndarray | None,
             min_piece: int) -> list[tuple[int, int]]:
    """Pieces (start, stop) of one run of tracked frames minimising misfit / sigma^2 + PENALTY per piece."""
    n = len(t)
    costs = _window_costs(t, p, accel, sigma)
    best = np.full(n + 1, np.inf)
    best[0], back = 0.0, np.zeros(n + 1, int)
    for stop in range(min_piece, n + 1):
        starts = np.arange(0, stop - min_piece + 1)
        # a short piece fits its frames exactly, which is no evidence for it (the cost is the misfit beyond
        # noise); among equal fits, the longer pieces (a contact as late as the frames allow)
        total = best[starts] + costs[starts, stop] + PENALTY - 1e-3 * (stop - starts) ** 2
        k = int(np.argmin(total))
        if np.isfinite(total[k]):
            best[stop], back[stop] = total[k], starts[k]
    pieces, stop = [], n
    while stop > 0 and np.isfinite(best[stop]):
        pieces.append((back[stop], stop - 1))
        stop = back[stop]
    return pieces[::-1]


def _piece(t: np.ndarray, p: np.ndarray, start: int, stop: int, sigma: float, accel) -> Piece:
    coef, _ = _fit(t[start:stop + 1], p[start:stop + 1], accel, sigma)
    m = stop - start + 1
    # standard error of a fitted line's end velocity, sigma sqrt(12 / (m^3 - m)) / dt, taken 4x (about a free
    # quadratic's) for every piece of 4 or more frames, whichever model fits it (MIN_JUMP_SE was tuned with it)
    dt = (t[stop] - t[start]) / max(m - 1, 1)
    se = sigma * np.sqrt(12.0 / max(m**3 - m, 1)) / dt * (4.0 if m >= 4 else 1.0) if m > 1 else 0.0
    return Piece(start, stop, float(t[start]), coef, float(se))


def _meeting(a: Piece, b: Piece, lo: float, hi: float) -> float:
    """When the piece before, run forward, and the piece after, run backward, come closest in [lo, hi]."""
    grid = np.linspace(lo, hi, GRID)
    gap = np.linalg.norm(a.position(grid) - b.position(grid), axis=-1)
    return float(grid[int(np.argmin(gap))])


def _through(a: Piece, q: Piece, b: Piece, accel, bounds) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Two contacts around a lone frame q: the ball leaves a's path at t1, passes q's position at q's time
    in free flight and joins b's path at t2. -> (t1, t2, the flight's velocity at t1, at t2), the pair
    fitting best."""
    (lo1, hi1), (lo2, hi2) = bounds
    acc = np.zeros(2) if accel is None else accel
    tq, pq = q.t0, q.coef[-1]
    t1 = np.linspace(lo1, min(hi1, tq - 1e-6), GRID)
    d1 = (t1 - tq)[:, None]
    v = (a.position(t1) - pq - 0.5 * acc * d1**2) / d1  # (GRID, 2): the flight through q from a's path
    t2 = np.linspace(max(lo2, tq + 1e-6), hi2, GRID)
    d2 = (t2 - tq)[None, :, None]
    miss = np.linalg.norm(pq + v[:, None] * d2 + 0.5 * acc * d2**2 - b.position(t2)[None], axis=-1)
    i, j = np.unravel_index(int(np.argmin(miss)), miss.shape)
    return float(t1[i]), float(t2[j]), v[i] + acc * (t1[i] - tq), v[i] + acc * (t2[j] - tq)


def _at_an_end(name, run, a: Piece, b: Piece, accel, interval) -> dict:
    """A contact between a piece and a lone first or last frame, whose velocity is not seen. The axis on
    which the lone frame is farthest off the piece's path is taken to have bounced back with RESTITUTION
    of its speed (so a lone first frame came in 1 / RESTITUTION as fast as the piece leaves), the other to
    go on: the contact time is the one that brings the ball to the lone frame."""
    flight, lone = (b, a) if a.single else (a, b)
    acc = np.zeros(2) if accel is None else accel
    tq, pq = lone.t0, lone.coef[-1]
    axis = int(np.argmax(np.abs(pq - flight.position(tq))))
    grid = np.linspace(*interval, GRID)
    v_flight = flight.velocity(grid)
    v_lone = v_flight.copy()
    v_lone[:, axis] *= -1 / RESTITUTION if a.single else -RESTITUTION
    d = (tq - grid)[:, None]
    miss = np.abs(flight.position(grid) + v_lone * d + 0.5 * acc * d**2 - pq)[:, axis]
    i = int(np.argmin(miss))
    tc = float(grid[i])
    v_in, v_out = (v_lone[i], v_flight[i]) if a.single else (v_flight[i], v_lone[i])
    return _contact(name, run, a, b, tc, v_in, v_out, 2 * flight.velocity_se)


def _own_acceleration(t: np.ndarray, p: np.ndarray, sigma: float) -> np.ndarray | None:
    """The ball's acceleration from its long pieces (median per axis), for short pieces to borrow."""
    pieces = [(a, b) for a, b in _segment(t, p, sigma, None, 2) if b - a + 1 >= 5]
    # a ball at rest or rolling is held up, not flying: only pieces that move count
    acc = [2 * np.polyfit(t[a:b + 1] - t[a], p[a:b + 1], 2)[0] for a, b in pieces
           if np.ptp(p[a:b + 1, 1]) > 10 * sigma]
    return np.median(acc, axis=0) if acc else None


def _glitches(t: np.ndarray, p: np.ndarray, sigma: float, accel) -> np.ndarray:
    """(n,) bool: frames off a path that the two frames on each side of them follow as one flight (a
    tracking glitch, not two contacts). The first and last two frames cannot be told from a contact."""
    out = np.zeros(len(t), bool)
    for f in range(2, len(t) - 2):
        near = np.r_[max(f - 3, 0):f, f + 1:min(f + 4, len(t))]
        coef, cost = _fit(t[near], p[near], accel, sigma)
        if cost < PENALTY / 2:
            s = t[f] - t[near[0]]
            guess = sum(c * s ** (len(coef) - 1 - k) for k, c in enumerate(coef))
            out[f] = float(((p[f] - guess) ** 2).sum()) / sigma**2 > 2 * PENALTY
    return out


def _is_glitch(t, p, a: Piece, b: Piece, sigma: float, accel) -> bool:
    """The lone frame between pieces a and b is off a path that runs on unbroken through both: a tracking
    glitch, not two contacts."""
    keep = np.r_[np.arange(a.start, a.stop + 1), np.arange(b.start, b.stop + 1)]
    parts = sum(_fit(t[x.start:x.stop + 1], p[x.start:x.stop + 1], accel, sigma)[1] for x in (a, b))
    return _fit(t[keep], p[keep], accel, sigma)[1] - parts < PENALTY


def _contact(name, run, a: Piece, b: Piece, tc: float, v_in, v_out, se: float) -> dict:
    return {"object": name, "time": float(tc), "frames": [int(run[a.stop]), int(run[b.start])],
            "position": b.position(tc) if a.single else a.position(tc), "velocity_before": v_in,
            "velocity_after": v_out, "velocity_change": float(np.linalg.norm(v_out - v_in)), "noise_se": se}


def _run_breaks(name: str, run: np.ndarray, t: np.ndarray, p: np.ndarray, sigma: float, fps: float) -> list[dict]:
    """Candidate contacts in one run of tracked frames: between consecutive pieces, timed where they meet."""
    accel = _own_acceleration(t, p, sigma)
    pieces = [_piece(t, p, a, b, sigma, accel) for a, b in _segment(t, p, sigma, accel, 1)]
    slack = 0.1 / fps
    out = []
    for k, (a, b) in enumerate(zip(pieces, pieces[1:])):
        interval = (t[a.stop] - slack, t[b.start] + slack)
        if b.single and k + 2 < len(pieces) and not a.single:  # a lone frame between two contacts
            c = pieces[k + 2]
            if _is_glitch(t, p, a, c, sigma, accel):
                continue
            t1, t2, v1, v2 = _through(a, b, c, accel, (interval, (t[b.stop] - slack, t[c.start] + slack)))
            se = max(a.velocity_se, c.velocity_se) * np.sqrt(2)
            out.append(_contact(name, run, a, b, t1, a.velocity(t1), v1, se))
            out.append(_contact(name, run, b, c, t2, v2, c.velocity(t2), se))
        elif a.single or b.single:
            if (a.single and k > 0) or (b.single and k + 2 < len(pieces)):
                continue  # handled with the lone frame's other side above
            out.append(_at_an_end(name, run, a, b, accel, interval))
        else:
            tc = _meeting(a, b, *interval)
            out.append(_contact(name, run, a, b, tc, a.velocity(tc), b.velocity(tc),
                                float(np.hypot(a.velocity_se, b.velocity_se))))
    return out


def ball_breaks(name: str, t: np.ndarray, pos: np.ndarray, present: np.ndarray, sigma: float, fps: float,
                px_per_unit: float) -> list[dict]:
    """Contacts of one ball: per run of tracked frames, the cuts between its pieces of free flight whose
    velocity jump is beyond noise, each with its time, position and velocity before and after.
    `t` (F,) frame times (s), `pos` (F, 2) centres (world units), `present` (F,) bools, `sigma` the
    tracking noise (world units, `tracking_noise`), `px_per_unit` pixels per world unit."""
    t, pos, present = np.asarray(t, float), np.asarray(pos, float), np.asarray(present)
    if t.ndim != 1 or pos.shape != (len(t), 2) or present.shape != (len(t),) or present.dtype != bool:
        raise ValueError(f"t must be (F,) times, pos (F, 2) centres and present (F,) bools; got shapes "
                         f"{t.shape}, {pos.shape} and {present.shape} ({present.dtype})")
    for label, value in (("sigma", sigma), ("fps", fps), ("px_per_unit", px_per_unit)):
        _positive(label, value)
    frames = np.flatnonzero(present & np.isfinite(pos).all(-1))
    runs = np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1) if len(frames) else []
    out = []
    for run in runs:
        if len(run) >= 5:
            run = np.delete(run, np.flatnonzero(_glitches(t[run], pos[run], sigma, None)))
        if len(run) >= 4:
            out += [c for c in _run_breaks(name, run, t[run], pos[run], sigma, fps)
                    if c["velocity_change"] >= max(MIN_JUMP_SE * c["noise_se"], MIN_JUMP_PX / px_per_unit)]
    return out


def _paired(breaks: list[dict], radius: dict[str, float], fps: float) -> list[dict]:
    """Breaks of two different balls within a frame interval of each other, their centres about two
    radii apart, become one collision (timed at the mean of the two); the rest stay single."""
    used, out = set(), []
    order = sorted(range(len(breaks)), key=lambda i: breaks[i]["time"])
    for i in order:
        if i in used:
            continue
        a = breaks[i]
        partner = None
        for j in order:
            b = breaks[j]
            if j == i or j in used or b["object"] == a["object"] or abs(b["time"] - a["time"]) > 1 / fps:
                continue
            reach = (radius[a["object"]] + radius[b["object"]]) * (1 + PAIR_GAP)
            if np.linalg.norm(a["position"] - b["position"]) <= reach:
                partner = j
                break
        if partner is None:
            out.append({**a, "kind": "break", "objects": [a["object"]]})
            continue
        used |= {i, partner}
        b = breaks[partner]
        out.append({**a, "kind": "collision", "objects": [a["object"], b["object"]],
                    "time": (a["time"] + b["time"]) / 2})
    return sorted(out, key=lambda c: c["time"])


def _hoop_passes(ctx: Context) -> list[dict]:
    """A ball's centre going down through a found hoop's rim line between the rims (the net sounds)."""
    hoop = ctx.hoop
    if hoop is None:
        return []
    out = []
    for name, tr in ctx.tracks.items():
        y = tr.pos[:, 1] - hoop.y
        x = tr.pos[:, 0]
        for f in range(len(y) - 1):
            if not (np.isfinite(y[f]) and np.isfinite(y[f + 1]) and y[f] >= 0 > y[f + 1]):
                continue
            w = y[f] / (y[f] - y[f + 1])
            xc = x[f] + w * (x[f + 1] - x[f])
            if abs(xc - hoop.x) < hoop.half_width - hoop.rim_radius:
                out.append({"object": name, "objects": [name], "kind": "hoop", "time": float((f + w) / ctx.fps),
                            "frames": [f, f + 1]})
                break
    return out


def contacts(video, fps=None) -> list[dict]:
    """Every visible contact in `video` (or a probes Context), by time: kinematic breaks of single balls
    ("break"), two balls breaking together ("collision"), and passes through a hoop's net ("hoop")."""
    ctx = prepare(video, fps)
    if not ctx.tracks or ctx.frames < 4:
        return []
    px_per_unit = ctx.camera.scale
    t = ctx.t
    usable = {n: (np.asarray(tr.pos, float), np.asarray(tr.present, bool)) for n, tr in ctx.tracks.items()}
    sigma = tracking_noise([p[m] for p, m in usable.values()], px_per_unit)
    breaks = []
    for name, (pos, present) in usable.items():
        breaks += ball_breaks(name, t, pos, present, sigma, ctx.fps, px_per_unit)
    radius = {n: float(np.nanmedian(tr.radius)) if np.isfinite(tr.radius).any() else 0.0
              for n, tr in ctx.tracks.items()}
    found = _paired(breaks, radius, ctx.fps) + _hoop_passes(ctx)
    return sorted(found, key=lambda c: c["time"])
