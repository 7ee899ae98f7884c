"""What a clip contains before it is simulated: balls, gravity, hoop, duration.

`sample_scene(seed, **constraints)` is deterministic in its seed. Every constraint is validated
up front so impossible requests fail with a ValueError that names the allowed values.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from numbers import Real

import numpy as np

from ..limits import DEFAULT_FPS, LIMITS

# The world is a 10-unit-wide box seen from the side; the floor surface is y = 0 and a band of
# floor below it is visible at the bottom of the image. Units are "world units" (think metres).
WORLD_WIDTH = 10.0
FLOOR_DEPTH = 0.6
GRAVITY = 9.8
MIN_RADIUS = 0.05  # world units: a sixth of a pixel at 32 px

# Far apart in RGB, and none is a blend of the dark background and another one, so
# colour segmentation in `track()` stays unambiguous.
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.95, 0.12, 0.10),
    "green": (0.10, 0.85, 0.15),
    "blue": (0.15, 0.35, 1.00),
    "yellow": (0.98, 0.90, 0.10),
    "purple": (0.70, 0.15, 0.95),
    "cyan": (0.10, 0.90, 0.95),
}
SIZES: dict[str, float] = {"small": 0.6, "medium": 0.85, "large": 1.15}
SCENARIOS = ("drop", "throw", "roll", "collide", "hoop", "several")
DIRECTIONS = ("left", "right")
BOUNCINESS = {"bouncy": (0.75, 0.9), "dead": (0.15, 0.3)}
OUTCOMES = ("in", "miss")
# Largest radius each scenario's layout holds without starting a ball inside a wall, another ball
# or (hoop) putting the outer rim beyond the wall; the sampled sizes are all within every limit.
MAX_RADIUS = {"drop": 2.5, "throw": 2.5, "roll": 2.5, "collide": 2.4, "hoop": 1.25, "several": 1.6}


@dataclass(frozen=True)
class Ball:
    color: str
    size: str
    radius: float
    x: float
    y: float
    vx: float
    vy: float
    restitution: float  # against floor, walls and rim

    @property
    def rgb(self) -> tuple[float, float, float]:
        return COLORS[self.color]

    @property
    def mass(self) -> float:
        return self.radius**2  # uniform density discs: mass is proportional to area


@dataclass(frozen=True)
class Hoop:
    x: float  # centre of the opening
    y: float  # height of the rim
    half_width: float
    rim_radius: float = 0.12

    @property
    def rims(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (self.x - self.half_width, self.y), (self.x + self.half_width, self.y)


@dataclass(frozen=True)
class Scene:
    seed: int
    scenario: str
    balls: tuple[Ball, ...]
    gravity: float = GRAVITY
    ball_restitution: float = 0.95  # ball-ball contacts
    hoop: Hoop | None = None
    direction: str | None = None
    bounciness: str | None = None
    num_frames: int = 16
    fps: float = DEFAULT_FPS
    meta: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def _choice(rng: np.random.Generator, options, name: str, value):
    if value is None:
        return options[int(rng.integers(len(options)))]
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, options))}")
    return value


def _is_number(value) -> bool:
    return isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_)) and np.isfinite(value)


def _check_positive(name: str, value, upper: float | None = None):
    if value is None:
        return
    if not _is_number(value) or value <= 0 or (upper is not None and value > upper):
        bound = f" and at most {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be a positive number{bound}, got {value!r}")


def sample_scene(
    seed: int = 0,
    *,
    scenario: str | None = None,
    color: str | None = None,
    colors: tuple[str, ...] | None = None,
    size: str | None = None,
    radius: float | None = None,
    direction: str | None = None,
    bounciness: str | None = None,
    outcome: str | None = None,
    speed: float | None = None,
    n_balls: int | None = None,
    gravity: float = GRAVITY,
    ball_restitution: float = 0.95,
    num_frames: int = 16,
    fps: float = DEFAULT_FPS,
) -> Scene:
    """Draw a scene from `seed`; keyword constraints pin any of its facts.

    `speed` (world units/s) and `radius` may be set outside the sampled ranges on purpose,
    to make out-of-distribution clips for evaluation.
    """
    # Frames and fps are bounded by sorakit.limits: the simulation takes SIM_HZ / fps steps per frame,
    # so fps=1e-6 or num_frames=10**6 would run for hours.
    lo, hi = LIMITS.frames
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or not lo <= num_frames <= hi:
        raise ValueError(f"num_frames must be an integer >= {lo} and at most {hi}, got {num_frames!r}")
    lo, hi = LIMITS.fps
    if not _is_number(fps) or not lo <= fps <= hi:
        raise ValueError(f"fps must be a positive number from {lo:g} to {hi:g}, got {fps!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    _check_positive("gravity", gravity, 100)
    _check_positive("radius", radius, 2.5)
    if radius is not None and radius < MIN_RADIUS:  # a smaller ball has no mass pymunk can simulate
        raise ValueError(f"radius must be at least {MIN_RADIUS} (world units), got {radius!r}")
    _check_positive("speed", speed, 30)
    if not _is_number(ball_restitution) or not 0 <= ball_restitution <= 1:
        raise ValueError(f"ball_restitution must be in [0, 1], got {ball_restitution!r}")
    if n_balls is not None and (isinstance(n_balls, bool) or not isinstance(n_balls, (int, np.integer))):
        raise ValueError(f"n_balls must be 1, 2 or 3, got {n_balls!r}")
    rng = np.random.default_rng(seed)
    drawn = _choice(rng, SCENARIOS, "scenario", scenario)
    # An outcome only exists for hoop shots, so asking for one picks the scenario (the draw above
    # still happens, keeping every other seed's scene unchanged).
    scenario = "hoop" if scenario is None and outcome is not None else drawn
    if radius is not None and radius > MAX_RADIUS[scenario]:
        raise ValueError(f"radius must be at most {MAX_RADIUS[scenario]} for scenario {scenario!r}, got {radius!r}")
    if size is not None:
        _choice(rng, tuple(SIZES), "size", size)
    if direction is not None:
        _choice(rng, DIRECTIONS, "direction", direction)
    if bounciness is not None:
        _choice(rng, tuple(BOUNCINESS), "bounciness", bounciness)
    if outcome is not None:
        _choice(rng, OUTCOMES, "outcome", outcome)
        if scenario != "hoop":
            raise ValueError(f"outcome ('in'/'miss') only applies to scenario='hoop', got scenario={scenario!r}")
    if isinstance(colors, str):
        colors = (colors,)
    wanted = list(colors or ()) + ([color] if color else [])
    for c in wanted:
        _choice(rng, tuple(COLORS), "color", c)
    n = {"collide": 2, "several": None}.get(scenario, 1)
    if n is None:
        n = n_balls if n_balls is not None else int(rng.integers(2, 4))
    elif n_balls is not None and n_balls != n:
        raise ValueError(f"scenario {scenario!r} has {n} ball(s), got n_balls={n_balls}")
    if not 1 <= n <= 3:
        raise ValueError(f"n_balls must be 1, 2 or 3, got {n}")
    if len(set(wanted)) != len(wanted) or len(wanted) > n:
        raise ValueError(f"give at most {n} distinct colour(s) for scenario {scenario!r}, got {wanted}")
    palette = wanted + [c for c in rng.permutation(list(COLORS)) if c not in wanted]
    scene_kw = dict(seed=seed, scenario=scenario, gravity=gravity, ball_restitution=ball_restitution,
                    num_frames=int(num_frames), fps=float(fps))
    ctx = _Ctx(rng, size, radius, direction, bounciness, speed, gravity, scene_kw)
    if scenario == "hoop":
        return _hoop_scene(ctx, palette[0], outcome)
    return _SCENARIO_BUILDERS[scenario](ctx, palette[:n])


@dataclass
class _Ctx:
    rng: np.random.Generator
    size: str | None
    radius: float | None
    direction: str | None
    bounciness: str | None
    speed: float | None
    gravity: float
    scene_kw: dict

    def uniform(self, lo, hi):
        return float(self.rng.uniform(lo, hi))

    def pick_size(self) -> tuple[str, float]:
        size = self.size or _choice(self.rng, tuple(SIZES), "size", None)
        if self.radius is None:
            return size, SIZES[size]
        if self.size is None:  # name the size the radius looks like, so captions stay true
            size = min(SIZES, key=lambda s: abs(SIZES[s] - self.radius))
        return size, self.radius

    def pick_direction(self) -> tuple[str, float]:
        d = self.direction or _choice(self.rng, DIRECTIONS, "direction", None)
        return d, (1.0 if d == "right" else -1.0)

    def pick_restitution(self) -> tuple[str, float]:
        b = self.bounciness or _choice(self.rng, tuple(BOUNCINESS), "bounciness", None)
        return b, self.uniform(*BOUNCINESS[b])

    def launch_speed(self, lo, hi):
        return self.speed if self.speed is not None else self.uniform(lo, hi)

    def apex_cap(self, y, r):
        """Largest upward speed that keeps the ball below the top of a square image."""
        top = WORLD_WIDTH - FLOOR_DEPTH - r - 0.3
        return float(np.sqrt(max(2 * self.gravity * (top - y), 0.0)))


def _inside(x: float, r: float) -> float:
    """Keep a ball's start clear of the walls (matters only for radii set beyond the sampled sizes)."""
    return float(np.clip(x, r + 0.02, WORLD_WIDTH - r - 0.02))


def _drop(ctx: _Ctx, palette) -> Scene:
    size, r = ctx.pick_size()
    bounce, e = ctx.pick_restitution()
    ball = Ball(palette[0], size, r, ctx.uniform(1.5 + r, 8.5 - r), ctx.uniform(4.5, 8.8 - r), 0.0, 0.0, e)
    return Scene(balls=(ball,), bounciness=bounce, **ctx.scene_kw)


def _throw(ctx: _Ctx, palette) -> Scene:
    size, r = ctx.pick_size()
    direction, sign = ctx.pick_direction()
    bounce, e = ctx.pick_restitution()
    x0 = _inside(5.0 - sign * ctx.uniform(2.0, 3.8), r)
    y0 = ctx.uniform(1.0 + r, 4.5)
    speed = ctx.launch_speed(2.0, 4.0)
    vy = min(ctx.uniform(1.5, 6.0), ctx.apex_cap(y0, r))
    ball = Ball(palette[0], size, r, x0, y0, sign * speed, vy, e)
    return Scene(balls=(ball,), direction=direction, bounciness=bounce, **ctx.scene_kw)


def _roll(ctx: _Ctx, palette) -> Scene:
    size, r = ctx.pick_size()
    direction, sign = ctx.pick_direction()
    bounce, e = ctx.pick_restitution()
    x0 = _inside(5.0 - sign * ctx.uniform(2.0, 3.8), r)
    ball = Ball(palette[0], size, r, x0, r, sign * ctx.launch_speed(1.5, 4.0), 0.0, e)
    return Scene(balls=(ball,), direction=direction, bounciness=bounce, **ctx.scene_kw)


def _collide(ctx: _Ctx, palette) -> Scene:
    """Two balls at one height flying at each other: uniform gravity leaves the hit head-on."""
    y0 = ctx.uniform(2.0, 5.0)
    vy = ctx.uniform(0.0, 3.0)
    balls = []
    for color, sign in zip(palette, (1.0, -1.0)):
        size, r = ctx.pick_size()
        speed = ctx.launch_speed(2.0, 4.0)
        x0 = _inside(5.0 - sign * ctx.uniform(2.2, 3.6), r)
        balls.append(Ball(color, size, r, x0, max(y0, r), sign * speed, min(vy, ctx.apex_cap(y0, r)), 0.8))
    return Scene(balls=tuple(balls), **ctx.scene_kw)


def _several(ctx: _Ctx, palette) -> Scene:
    balls = []
    slots = ctx.rng.permutation([1.6, 5.0, 8.4])  # distinct columns so balls start apart
    for color, x0 in zip(palette, slots):
        size, r = ctx.pick_size()
        y0 = ctx.uniform(1.5 + r, 7.5)
        vx = ctx.uniform(-3.0, 3.0)
        vy = min(ctx.uniform(-1.0, 4.0), ctx.apex_cap(y0, r))
        balls.append(Ball(color, size, r, float(x0), y0, vx, vy, ctx.uniform(0.5, 0.9)))
    return Scene(balls=tuple(balls), **ctx.scene_kw)


def _hoop_scene(ctx: _Ctx, color: str, outcome: str | None) -> Scene:
    """A ball aimed at a hoop; the simulator, not the sampler, decides in or miss.

    With an `outcome` constraint, aims are redrawn (deterministically) until it happens.
    """
    from .simulate import simulate  # local: simulate imports this module

    size, r = ctx.pick_size()
    direction, sign = ctx.pick_direction()
    e = ctx.uniform(0.6, 0.85)
    spread = {"in": 0.1, "miss": 1.6, None: 0.8}[outcome]
    for attempt in range(64):
        hoop = Hoop(x=5.0 + sign * ctx.uniform(2.2, 2.8), y=ctx.uniform(3.5, 5.0), half_width=r + 0.8)
        x0, y0 = 5.0 - sign * ctx.uniform(2.0, 3.0), ctx.uniform(1.0 + r, 2.5)
        flight = ctx.uniform(1.3, 1.6)  # time to cross the rim line at the hoop centre on the ideal aim
        vx = (hoop.x - x0) / flight * (1 + spread * 0.25 * float(ctx.rng.standard_normal()))
        vy = (hoop.y - y0) / flight + 0.5 * ctx.gravity * flight
        vy = min(vy * (1 + spread * 0.12 * float(ctx.rng.standard_normal())), ctx.apex_cap(y0, r))
        ball = Ball(color, size, r, x0, y0, vx, vy, e)
        scene = Scene(balls=(ball,), hoop=hoop, direction=direction, meta={"aim_attempts": attempt + 1},
                      **ctx.scene_kw)
        if outcome is None or simulate(scene).outcome == outcome:
            return scene
    raise ValueError(f"could not sample a hoop shot with outcome {outcome!r} from seed {ctx.scene_kw['seed']}")


_SCENARIO_BUILDERS = {"drop": _drop, "throw": _throw, "roll": _roll, "collide": _collide, "several": _several}


def with_balls(scene: Scene, balls) -> Scene:
    """The same scene with other initial ball states (used to re-simulate from estimates)."""
    return replace(scene, balls=tuple(balls))
