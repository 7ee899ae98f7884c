"""The world's sound: every simulated contact rings, every rolling ball rumbles.

Impacts are modal synthesis (a sum of exponentially decaying partials): the ball's partials sit at a
pitch set by its size (smaller is higher), its decay by its material (a bouncy ball rings, a dead one
thuds), the struck surface adds its own partials (the floor a low thump, the walls a panel knock,
the rim a long inharmonic metallic ring), and the amplitude follows the impact speed along the
contact normal. The contact's duration (shorter when faster, longer for dead balls) low-passes the
partials, so hard hits are brighter. Rolling is low-passed noise shaped by the rolling speed; a ball
through the hoop swishes the net. Each sound pans by where it happened (equal-power, x across the
world's width). Onsets are the simulator's contact times at its internal rate (`SIM_HZ`), not frames.

The result is deterministic in the scene: the only randomness (noise) is seeded from `scene.seed`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfilt

from .scene import WORLD_WIDTH, Scene
from .simulate import Event, Trajectory

SAMPLE_RATE = 16_000
IMPACTS = ("floor_bounce", "wall_bounce", "rim_hit", "collision")
SOUNDING = IMPACTS + ("hoop_in",)  # hoop_miss is a decision, not a sound
MERGE = 0.05  # s: sounds starting closer than this are heard (and detected) as one onset

# Partials as (frequency ratio, weight). A ball rings like a circular membrane (Bessel-zero ratios);
# the rim like a free bar (strongly inharmonic: "metallic").
_BALL_MODES = ((1.0, 1.0), (1.59, 0.7), (2.14, 0.5), (2.30, 0.4), (2.65, 0.3))
_RIM_MODES = ((1.0, 1.0), (2.76, 0.6), (5.40, 0.4), (8.93, 0.25))
_SURFACES = {  # kind -> (fundamental Hz, modes, decay s, share of the mix)
    "floor_bounce": (62.0, ((1.0, 1.0), (1.9, 0.5), (3.05, 0.3)), 0.05, 0.4),
    "wall_bounce": (140.0, ((1.0, 1.0), (2.2, 0.5), (3.7, 0.3)), 0.04, 0.4),
    "rim_hit": (880.0, _RIM_MODES, 0.9, 0.7),
}
_BALL_PITCH = 200.0  # Hz for a medium ball (radius 0.85); pitch goes as 1 / radius
_GAIN = 0.045  # amplitude per world unit/s of normal impact speed (a 13 u/s drop peaks near 0.6)
_ROLL_GAIN = 0.006  # rolling noise amplitude per unit/s
_ROLL_HEARD = 0.2  # units/s: slower rolling makes no sound
_TAIL = 1.5  # s of each impact rendered (the rim's ring is the longest)


@dataclass(frozen=True)
class Sound:
    """One sound in a clip's soundtrack (the ground truth an A/V-sync probe is scored against)."""

    kind: str  # an Event kind in SOUNDING, or "roll"
    time: float  # onset, seconds
    amplitude: float  # peak amplitude before panning
    pan: float  # 0 = left wall, 1 = right wall
    objects: tuple[int, ...]
    duration: float = 0.0  # rolling spans only


def _modes(t: np.ndarray, f0: float, modes, tau: float, contact: float) -> np.ndarray:
    """Decaying partials at f0 * ratio; higher partials decay faster and are damped by the contact time."""
    out = np.zeros_like(t)
    nyquist = 0.5 / (t[1] - t[0])
    for ratio, weight in modes:
        f, tau_k = f0 * ratio, tau / np.sqrt(ratio)
        if f >= 0.9 * nyquist:  # drop rather than alias
            continue
        n = min(len(t), int(7 * tau_k / (t[1] - t[0])) + 1)  # to -60 dB; the rest is inaudible
        brightness = 1.0 / (1.0 + (f * contact) ** 2)
        out[:n] += weight * brightness * np.exp(-t[:n] / tau_k) * np.sin(2 * np.pi * f * t[:n])
    return out / sum(w for _, w in modes)


def _ball_tone(t, radius: float, restitution: float, contact: float) -> np.ndarray:
    pitch = float(np.clip(_BALL_PITCH * 0.85 / radius, 60.0, 3000.0))
    return _modes(t, pitch, _BALL_MODES, _ball_decay(restitution), contact)


def _ball_decay(restitution: float) -> float:
    return 0.012 + 0.15 * restitution**2  # s: bouncy ~0.11 s ring, dead ~0.02 s thud


DEFAULT_BALL = (0.85, 0.75)  # (radius, restitution) of a ball nothing is known about: a medium bouncy one


@dataclass(frozen=True)
class Impact:
    """What one impact sound needs: its kind, onset, normal speed, place and the balls involved."""

    kind: str  # one of SOUNDING
    time: float  # onset, seconds
    speed: float  # world units/s along the contact normal (unused for hoop_in)
    x: float  # world units across the 10-unit-wide world: sets the pan
    balls: tuple[tuple[float, float], ...] = (DEFAULT_BALL,)  # (radius, restitution) of each ball involved


def _impact(impact: Impact, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One impact's mono signal (peak ~ amplitude) and that amplitude."""
    restitutions = np.array(impact.balls, dtype=float)[:, 1]
    e = float(restitutions.mean())
    t = np.arange(int(_tail(impact.kind, e) * sr)) / sr
    speed = max(impact.speed, 0.1)
    # Hertzian contact: duration falls slowly with speed; soft (dead) balls stay in contact longer.
    contact = 1.2e-3 * (speed / 4.0) ** -0.2 * (1.0 + 1.5 * (1.0 - e))
    tone = sum(_ball_tone(t, r, rest, contact) for r, rest in impact.balls) / len(impact.balls)
    if impact.kind in _SURFACES:
        f0, modes, tau, share = _SURFACES[impact.kind]
        tone = (1 - share) * tone + share * _modes(t, f0, modes, tau, contact)
    click = rng.standard_normal(len(t)) * np.exp(-t / 1.5e-3) * 0.3 * e  # the sharp crack of the contact
    attack = 1.0 - np.exp(-t / (contact / 3))
    signal = (tone + click) * attack
    amplitude = impact_amplitude(impact)
    return signal * (amplitude / max(np.abs(signal).max(), 1e-9)), amplitude


def impact_amplitude(impact: Impact) -> float:
    """The peak amplitude (before panning) of an impact's sound: linear in its normal speed, fuller for larger balls."""
    radii = np.array(impact.balls, dtype=float)[:, 0]
    return _GAIN * max(impact.speed, 0.1) * np.sqrt(radii.mean() / 0.85)


def _tail(kind: str, restitution: float) -> float:
    """Seconds until the slowest partial of this impact is 60 dB down."""
    tau = max(_ball_decay(restitution), _SURFACES[kind][2] if kind in _SURFACES else 0.0)
    return min(_TAIL, 7 * tau + 0.01)


def _swish(sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The net: band-passed noise with a quick rise and a short fade."""
    t = np.arange(int(0.35 * sr)) / sr
    bandpass = butter(2, (2000, min(6000, 0.45 * sr)), "bandpass", fs=sr, output="sos")
    band = sosfilt(bandpass, rng.standard_normal(len(t)))
    env = np.minimum(t / 0.01, 1.0) * np.exp(-t / 0.08)
    signal = band * env
    return signal * (0.12 / np.abs(signal).max()), 0.12


def _pan(x: float) -> float:
    return float(np.clip(x / WORLD_WIDTH, 0.0, 1.0))


def _place(out: np.ndarray, mono: np.ndarray, start: int, pan: float) -> None:
    """Add `mono` into stereo `out` from sample `start`, equal-power panned."""
    end = min(len(out), start + len(mono))
    if end <= start:
        return
    theta = pan * np.pi / 2
    out[start:end, 0] += np.cos(theta) * mono[: end - start]
    out[start:end, 1] += np.sin(theta) * mono[: end - start]


def _rolling(scene: Scene, traj: Trajectory, sr: int, n: int, rng: np.random.Generator, out: np.ndarray) -> list[Sound]:
    """Noise under each ball while it rolls on the floor, its level and brightness following the speed."""
    sounds = []
    frame_t = traj.t
    sample_t = np.arange(n) / sr
    lowpass = butter(2, 700, "lowpass", fs=sr, output="sos")
    smooth = max(1, int(0.06 * sr))  # 60 ms fades: rolling starts and stops softly (no false onset)
    for i, ball in enumerate(scene.balls):
        on_floor, speed = _rolling_speed(traj, i, ball.radius)
        if speed.max() < _ROLL_HEARD:
            continue
        level = np.interp(sample_t, frame_t, speed)
        level = uniform_filter1d(level, smooth, mode="nearest")
        noise = sosfilt(lowpass, rng.standard_normal(n))
        noise /= max(np.abs(noise).max(), 1e-9)
        mono = noise * level * _ROLL_GAIN * np.sqrt(ball.radius / 0.85)
        x = float(np.mean(traj.pos[on_floor, i, 0]))
        _place(out, mono, 0, _pan(x))
        rolling = np.flatnonzero(speed >= _ROLL_HEARD)
        start, end = frame_t[rolling[0]], frame_t[rolling[-1]]
        sounds.append(Sound("roll", float(start), float(_ROLL_GAIN * speed.max()), _pan(x), (i,), float(end - start)))
    return sounds


def _rolling_speed(traj: Trajectory, i: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: whether ball i is on the floor, and its speed while it is (0 elsewhere)."""
    y, vy, vx = traj.pos[:, i, 1], traj.vel[:, i, 1], traj.vel[:, i, 0]
    on_floor = (y - radius < 0.02) & (np.abs(vy) < 0.5)
    return on_floor, np.where(on_floor, np.abs(vx), 0.0)


def rolls_audibly(scene: Scene, traj: Trajectory) -> bool:
    """Whether some ball rolls fast enough for the soundtrack to carry its rumble."""
    return any(_rolling_speed(traj, i, b.radius)[1].max() >= _ROLL_HEARD for i, b in enumerate(scene.balls))


def heard_impacts(scene: Scene, traj: Trajectory) -> list[tuple[Event, float]]:
    """Each impact event (IMPACTS) with the peak amplitude its sound gets: what a caption can say is heard,
    without synthesising the soundtrack."""
    return [(e, impact_amplitude(_impact_of(e, scene))) for e in traj.events if e.kind in IMPACTS]


def _check_rate(sample_rate) -> int:
    is_int = isinstance(sample_rate, (int, np.integer)) and not isinstance(sample_rate, bool)
    if not is_int or not 8000 <= sample_rate <= 96000:
        raise ValueError(f"sample_rate must be an integer from 8000 to 96000 Hz, got {sample_rate!r}")
    return int(sample_rate)


def _add_impacts(impacts, out: np.ndarray, sr: int, rng: np.random.Generator) -> list[Sound]:
    sounds = []
    for i, impact in enumerate(impacts):
        if impact.kind not in SOUNDING:
            raise ValueError(f"impact {i}: kind must be one of {', '.join(SOUNDING)}, got {impact.kind!r}")
        mono, amplitude = _swish(sr, rng) if impact.kind == "hoop_in" else _impact(impact, sr, rng)
        _place(out, mono, int(round(impact.time * sr)), _pan(impact.x))
        sounds.append(Sound(impact.kind, float(impact.time), float(amplitude), _pan(impact.x),
                            tuple(range(len(impact.balls)))))
    return sounds


def render_impacts(impacts, duration: float, sample_rate: int = SAMPLE_RATE,
                   seed: int = 0) -> tuple[np.ndarray, list[Sound]]:
    """Stereo float32 (samples, 2) lasting `duration` s with each `Impact` sounding at its time.

    The same synthesis as a world clip's, for impacts that come from elsewhere (e.g. a model's guess).
    """
    sr = _check_rate(sample_rate)
    if not (isinstance(duration, (int, float, np.number)) and 0 < duration <= 600):
        raise ValueError(f"duration must be a number of seconds in (0, 600], got {duration!r}")
    out = np.zeros((int(round(duration * sr)), 2))
    sounds = _add_impacts(impacts, out, sr, np.random.default_rng([int(seed), 0x50D]))
    return _limit(out).astype(np.float32), sorted(sounds, key=lambda s: s.time)


def synthesize(scene: Scene, traj: Trajectory, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, list[Sound]]:
    """The clip's soundtrack: float32 stereo (samples, 2) in [-1, 1] lasting num_frames / fps, and its sounds."""
    sr = _check_rate(sample_rate)
    n = int(round(scene.duration * sr))
    out = np.zeros((n, 2))
    rng = np.random.default_rng([scene.seed, 0x50D])
    events = [e for e in traj.events if e.kind in SOUNDING]
    sounds = _add_impacts([_impact_of(e, scene) for e in events], out, sr, rng)
    sounds = [replace(s, objects=e.objects) for s, e in zip(sounds, events)]
    sounds += _rolling(scene, traj, sr, n, rng, out)
    return _limit(out).astype(np.float32), sorted(sounds, key=lambda s: s.time)


def _impact_of(event: Event, scene: Scene) -> Impact:
    x = event.position[0] if event.position is not None else WORLD_WIDTH / 2
    balls = tuple((scene.balls[i].radius, scene.balls[i].restitution) for i in event.objects)
    return Impact(event.kind, float(event.time), float(event.speed), float(x), balls)


def _limit(x: np.ndarray, knee: float = 0.8) -> np.ndarray:
    """Linear below the knee, smoothly saturating to 1 above it (overlapping loud hits stay in range)."""
    over = np.abs(x) > knee
    x = x.copy()
    x[over] = np.sign(x[over]) * (knee + (1 - knee) * np.tanh((np.abs(x[over]) - knee) / (1 - knee)))
    return x


def onset_times(sounds: list[Sound], merge: float = MERGE) -> np.ndarray:
    """When a listener hears something start: impact and swish onsets, ones closer than `merge` as one."""
    times = sorted(s.time for s in sounds if s.kind in SOUNDING)
    onsets: list[float] = []
    for t in times:
        if not onsets or t - onsets[-1] > merge:
            onsets.append(t)
    return np.asarray(onsets, dtype=float)
