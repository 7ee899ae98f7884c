"""Simulate a Scene with pymunk at a fine internal step and sample it at the clip's frame rate."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymunk

from .scene import WORLD_WIDTH, Scene

SIM_HZ = 960  # internal steps per second; 120 substeps per frame at 8 fps
_FLOOR, _WALL, _RIM, _BALL = 1, 2, 3, 4
_MIN_IMPACT = 0.8  # world units/s: slower contacts are resting or rolling, not bounces


@dataclass(frozen=True)
class Event:
    kind: str  # floor_bounce | wall_bounce | rim_hit | collision | hoop_in | hoop_miss
    frame: int
    time: float
    objects: tuple[int, ...]
    speed: float = 0.0  # impact speed along the contact normal, world units/s
    # where it happened, world units: the ball's centre (collisions: midway between the two centres;
    # hoop_in: the hoop's centre); the sound pans by its x
    position: tuple[float, float] | None = None


@dataclass
class Trajectory:
    t: np.ndarray  # (F,) seconds
    pos: np.ndarray  # (F, n, 2) world units, y up, floor at 0
    vel: np.ndarray  # (F, n, 2) world units / s
    events: list[Event] = field(default_factory=list)
    outcome: str | None = None  # hoop scenes: "in" or "miss"
    # (F, n): the fastest impact (normal speed, world units/s) among the contacts each ball began
    # during the frame interval ending at frame f (0 at frame 0 and where none began). Every contact
    # counts, also bounces too slow to be events. Velocity only jumps at such impacts (rolling,
    # resting and sliding are smooth), so central differences are valid where both intervals
    # around a frame are ~0.
    impacts: np.ndarray | None = None

    def count(self, kind: str, obj: int | None = None) -> int:
        return sum(e.kind == kind and (obj is None or obj in e.objects) for e in self.events)


def _static_world(space: pymunk.Space, scene: Scene) -> None:
    body = space.static_body
    shapes = [pymunk.Segment(body, (-5, 0), (WORLD_WIDTH + 5, 0), 0.0)]
    shapes[0].collision_type = _FLOOR
    for x in (0.0, WORLD_WIDTH):
        wall = pymunk.Segment(body, (x, 0), (x, 100), 0.0)
        wall.collision_type = _WALL
        shapes.append(wall)
    if scene.hoop is not None:
        for rim_xy in scene.hoop.rims:
            rim = pymunk.Circle(body, scene.hoop.rim_radius, rim_xy)
            rim.collision_type = _RIM
            shapes.append(rim)
    for s in shapes:
        s.elasticity, s.friction = 1.0, 0.6  # ball restitution then sets each contact's value
    space.add(*shapes)


def _ball_bodies(space: pymunk.Space, scene: Scene, ball_collisions: bool = True) -> list[pymunk.Body]:
    bodies = []
    # shapes in one non-zero group never collide with each other: the balls pass through one another
    apart = None if ball_collisions else pymunk.ShapeFilter(group=1)
    for i, b in enumerate(scene.balls):
        body = pymunk.Body(b.mass, pymunk.moment_for_circle(b.mass, 0, b.radius))
        body.position, body.velocity = (b.x, b.y), (b.vx, b.vy)
        if b.y <= b.radius + 1e-6:
            body.angular_velocity = -b.vx / b.radius  # start rolling, not sliding
        shape = pymunk.Circle(body, b.radius)
        shape.elasticity, shape.friction, shape.collision_type = b.restitution, 0.6, _BALL
        shape.ball_index = i
        if apart is not None:
            shape.filter = apart
        space.add(body, shape)
        bodies.append(body)
    return bodies


def simulate(scene: Scene, *, ball_collisions: bool = True) -> Trajectory:
    """`ball_collisions=False` lets the balls pass through each other (no collision, no sound): only the sound
    model's training augmentation uses it, to show overlapping balls as generated clips draw them."""
    space = pymunk.Space()
    space.gravity = (0.0, -scene.gravity)
    space.iterations = 30
    _static_world(space, scene)
    bodies = _ball_bodies(space, scene, ball_collisions)
    n, frames = len(bodies), scene.num_frames
    clock = {"t": 0.0, "interval": 0}  # interval f: the internal steps from frame f-1 to frame f
    events: list[Event] = []
    impacts = np.zeros((frames, n))

    def impact(i: int, speed: float) -> None:
        f = clock["interval"]
        impacts[f, i] = max(impacts[f, i], speed)

    def frame_of(t: float) -> int:
        return min(int(round(t * scene.fps)), scene.num_frames - 1)

    def on_static(kind: str):
        def begin(arbiter, _space, _data):
            ball = next(s for s in arbiter.shapes if s.collision_type == _BALL)
            speed = abs(float(np.dot(ball.body.velocity, arbiter.normal)))
            impact(ball.ball_index, speed)
            if speed >= _MIN_IMPACT:
                events.append(Event(kind, frame_of(clock["t"]), clock["t"], (ball.ball_index,), speed,
                                    tuple(map(float, ball.body.position))))
        return begin

    def on_balls(arbiter, _space, _data):
        a, b = arbiter.shapes
        arbiter.restitution = scene.ball_restitution
        if arbiter.is_first_contact:
            rel = np.dot(a.body.velocity - b.body.velocity, arbiter.normal)
            impact(a.ball_index, abs(float(rel)))
            impact(b.ball_index, abs(float(rel)))
            mid = tuple(map(float, (a.body.position + b.body.position) / 2))
            events.append(Event("collision", frame_of(clock["t"]), clock["t"],
                                tuple(sorted((a.ball_index, b.ball_index))), abs(float(rel)), mid))

    space.on_collision(_BALL, _FLOOR, begin=on_static("floor_bounce"))
    space.on_collision(_BALL, _WALL, begin=on_static("wall_bounce"))
    space.on_collision(_BALL, _RIM, begin=on_static("rim_hit"))
    space.on_collision(_BALL, _BALL, pre_solve=on_balls)

    pos, vel = np.zeros((frames, n, 2)), np.zeros((frames, n, 2))
    substeps = max(1, int(round(SIM_HZ / scene.fps)))
    dt = 1.0 / (scene.fps * substeps)
    hoop_time = None
    for f in range(frames):
        pos[f] = [tuple(b.position) for b in bodies]
        vel[f] = [tuple(b.velocity) for b in bodies]
        if f == frames - 1:
            break
        clock["interval"] = f + 1
        for _ in range(substeps):
            y_before = bodies[0].position.y
            space.step(dt)
            clock["t"] += dt
            if scene.hoop is not None and hoop_time is None and _through_hoop(scene, bodies[0], y_before):
                hoop_time = clock["t"]
    traj = Trajectory(np.arange(frames) / scene.fps, pos, vel, events, impacts=impacts)
    if scene.hoop is not None:
        traj.outcome = "in" if hoop_time is not None else "miss"
        if hoop_time is not None:
            events.append(Event("hoop_in", frame_of(hoop_time), hoop_time, (0,), 0.0, (scene.hoop.x, scene.hoop.y)))
        else:
            miss = _miss_frame(scene, pos[:, 0])
            events.append(Event("hoop_miss", miss, miss / scene.fps, (0,), 0.0, tuple(map(float, pos[miss, 0]))))
        events.sort(key=lambda e: (e.frame, e.time))
    return traj


def _through_hoop(scene: Scene, body: pymunk.Body, y_before: float) -> bool:
    """The ball's centre crosses the rim line downward between the rims."""
    hoop = scene.hoop
    x, y = body.position
    inside = abs(x - hoop.x) < hoop.half_width - hoop.rim_radius
    return inside and y_before >= hoop.y > y


def _miss_frame(scene: Scene, path: np.ndarray) -> int:
    """First frame after which the ball is below the rim and falling away: the miss is decided."""
    for f in range(1, len(path)):
        if path[f, 1] < scene.hoop.y <= path[f - 1, 1]:
            return f
    return len(path) - 1
