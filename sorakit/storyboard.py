"""Storyboards: several shots that belong together, joined into one film with one recipe per shot.

    board = Storyboard(["a red ball is thrown to the right", "the red ball bounces twice"])
    board.add("a red ball is dropped", transition="cut")
    film = board.run(pipe)            # or sorakit.storyboard(pipe, shots)
    film.video, film.boundaries, film.recipes, film.continuity()

A shot's `transition` says how it follows the one before:
- "continue": one continuous take. The shot is the previous one carried on by `extend`, conditioned
  on its last `context` frames (which are not repeated in the film).
- "cut": a fresh framing of the same world (`sorakit.cut_frame`): the shot is drafted unconditioned,
  its first frame is drawn again with the objects of earlier shots at their colour and radius,
  and the shot is made conditioned on that frame.
Every later shot's prompt also names the size of each established object whose colour it names
without a size (`cut_frame.with_sizes`): the model sizes a ball by its prompt, whatever frames it is given.
Each shot's recipe names the storyboard, its number, and (unless it was made from its prompt
alone) the previous shot as its parent; the film's recipe has every shot as a parent.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field, replace
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch

from .cut_frame import first_frame, shot_objects, with_sizes
from .identity import model_identity
from .limits import DEFAULT_FPS, LIMITS
from .recipe import Recipe
from .remix import extend

# Importing the module sorakit.remix binds it as the package attribute `remix`, hiding the function
# `sorakit.remix` that the package exports lazily under that name: drop the binding so the name
# resolves to the function again (through sorakit.__getattr__).
if isinstance(vars(sys.modules[__package__]).get("remix"), ModuleType):
    del sys.modules[__package__].remix

__all__ = ["TRANSITIONS", "Film", "Shot", "Storyboard", "storyboard"]

TRANSITIONS = ("continue", "cut")
DEFAULT_CONTEXT = 4  # frames a continuing shot is conditioned on: enough to carry position and velocity
_SHOT = "a prompt (str), a Shot, or a dict with keys prompt, seed, frames, transition"


@dataclass(frozen=True)
class Shot:
    """One shot: its prompt, seed (None: the storyboard's seed + its index), length in frames added to the
    film (None: the model's window, less the context for a continuing shot) and how it follows the last."""

    prompt: str
    seed: int | None = None
    frames: int | None = None
    transition: str = "continue"


def _as_shot(item: Any, index: int) -> Shot:
    where = f"shot {index + 1}"
    if isinstance(item, Shot):
        shot = item
    elif isinstance(item, str):
        shot = Shot(item)
    elif isinstance(item, Mapping):
        unknown = set(item) - {"prompt", "seed", "frames", "transition"}
        if unknown or "prompt" not in item:
            raise ValueError(f"{where} must be {_SHOT}; got keys {sorted(item)}")
        shot = Shot(**item)
    else:
        raise ValueError(f"{where} must be {_SHOT}; got {type(item).__name__}")
    if not isinstance(shot.prompt, str) or not shot.prompt.strip() or len(shot.prompt) > LIMITS.prompt_chars:
        raise ValueError(f"{where}: prompt must be non-empty text of at most {LIMITS.prompt_chars} characters")
    if shot.transition not in TRANSITIONS:
        raise ValueError(f"{where}: transition must be one of {', '.join(map(repr, TRANSITIONS))}; "
                         f"got {shot.transition!r}")
    lo, hi = LIMITS.seed
    if shot.seed is not None and (isinstance(shot.seed, bool) or not isinstance(shot.seed, (int, np.integer))
                                  or not lo <= shot.seed <= hi):
        raise ValueError(f"{where}: seed must be None or a whole number from {lo} to {hi}; got {shot.seed!r}")
    hi = LIMITS.frames[1]
    if shot.frames is not None and (isinstance(shot.frames, bool) or not isinstance(shot.frames, (int, np.integer))
                                    or not 1 <= shot.frames <= hi):
        raise ValueError(f"{where}: frames must be None or a whole number from 1 to {hi}; got {shot.frames!r}")
    return shot


def check_shots(shots: Iterable[Any]) -> list[Shot]:
    """The shots as Shot objects; ValueError naming what is allowed for a bad list or shot."""
    if isinstance(shots, (str, Shot, Mapping)) or not isinstance(shots, Iterable):
        raise ValueError(f"shots must be a list of shots, each {_SHOT}; got {type(shots).__name__}")
    shots = [_as_shot(s, i) for i, s in enumerate(shots)]
    lo, hi = LIMITS.storyboard_shots
    if not lo <= len(shots) <= hi:
        raise ValueError(f"a storyboard holds {lo} to {hi} shots; got {len(shots)}")
    return shots


@dataclass
class Storyboard:
    """An editable list of shots: add, insert, remove, move, edit; `run(pipe)` makes the film."""

    shots: list[Shot] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self):
        self.shots = check_shots(self.shots) if self.shots else []

    def add(self, prompt: str, **settings) -> Storyboard:
        return self.insert(len(self.shots), prompt, **settings)

    def insert(self, index: int, prompt: str, **settings) -> Storyboard:
        shot = _as_shot({"prompt": prompt, **settings}, index)
        self.shots.insert(index, shot)
        check_shots(self.shots)  # still within the limits
        return self

    def remove(self, index: int) -> Storyboard:
        del self.shots[index]
        return self

    def move(self, index: int, to: int) -> Storyboard:
        self.shots.insert(to, self.shots.pop(index))
        return self

    def edit(self, index: int, **changes) -> Storyboard:
        self.shots[index] = _as_shot(replace(self.shots[index], **changes), index)
        return self

    def __len__(self) -> int:
        return len(self.shots)

    def __getitem__(self, index: int) -> Shot:
        return self.shots[index]

    def run(self, pipe, **settings) -> Film:
        return storyboard(pipe, self.shots, seed=self.seed, **settings)

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(f"<tr><td>{i + 1}</td><td>{'' if i == 0 else s.transition}</td><td>{escape(s.prompt)}</td>"
                       f"<td>{'' if s.seed is None else s.seed}</td><td>{s.frames or ''}</td></tr>"
                       for i, s in enumerate(self.shots))
        return ("<table><tr><th>shot</th><th>transition</th><th>prompt</th><th>seed</th><th>frames</th></tr>"
                f"{rows}</table>")


@dataclass(frozen=True)
class Film:
    """A storyboard's result: the joined video (F, H, W, 3) in [0, 1], where each shot starts, and recipes."""

    video: np.ndarray
    shots: tuple[Shot, ...]
    starts: tuple[int, ...]  # the first frame of each shot in `video`
    recipes: tuple[Recipe, ...]  # one per shot
    recipe: Recipe  # the film's: every shot a parent
    storyboard_id: str
    shot_videos: tuple[np.ndarray, ...] = field(repr=False, default=())
    audio: np.ndarray | None = field(repr=False, default=None)  # (samples, 2) over the whole film, or None
    sample_rate: int | None = None

    @property
    def takes(self) -> tuple[int, ...]:
        """The first frame of each take: the film's start and every cut (a continuing shot is the same take)."""
        return (0, *(start for start, shot in zip(self.starts[1:], self.shots[1:]) if shot.transition == "cut"))

    def with_sound(self, sample_rate: int | None = None) -> Film:
        """This film with one soundtrack lasting as long as it plays: `add_sound` hears each take on its own
        (a cut is no impact) and each take's sound starts at its first frame's sample."""
        from .sound.joins import takes_soundtrack
        from .world import SAMPLE_RATE

        rate, fps = sample_rate or SAMPLE_RATE, self.recipe.fps or DEFAULT_FPS
        return replace(self, audio=takes_soundtrack(self.video, fps, self.takes, rate), sample_rate=rate)

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The first frame of every shot but the first: where one shot meets the next."""
        return self.starts[1:]

    @property
    def prompts(self) -> tuple[str, ...]:
        return tuple(s.prompt for s in self.shots)

    @property
    def transitions(self) -> tuple[str, ...]:
        """How each shot after the first follows the one before (one per boundary)."""
        return tuple(s.transition for s in self.shots[1:])

    def continuity(self, fps: float | None = None):
        """`probes.continuity` on this film: a ProbeResult with one row per boundary (`.metrics["boundaries"]`)."""
        from .probes.continuity import continuity

        return continuity(self, fps=fps or self.recipe.fps)

    def report(self, **kwargs):
        """`probes.run` on the joined film, with the continuity probe added (a ProbeReport)."""
        from .probes import run

        return run(self.video, fps=self.recipe.fps, shots=self, **kwargs)


def storyboard_id(pipe, shots: list[Shot], settings: Mapping[str, Any]) -> str:
    """Hash of the shots, the sampling settings and the model: the same storyboard, the same id."""
    spec = {"shots": [asdict(s) for s in shots], "settings": dict(settings), "model": model_identity(pipe)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _fresh(pipe, prompt: str, frames: int, seed: int, call: dict) -> np.ndarray:
    """A shot from its prompt alone: one window, extended when the shot is longer."""
    window = pipe.config.num_frames
    out = pipe(prompt, num_frames=window, generator=torch.Generator().manual_seed(seed), output_type="np",
               **call).frames[0]
    if frames <= window:
        return out[:frames]
    return extend(pipe, out, prompt, frames, seed=seed, **_extend_kwargs(call)).video


def _extend_kwargs(call: dict) -> dict:
    return {"num_inference_steps": call["num_inference_steps"], "guidance_scale": call["guidance_scale"],
            "negative_prompt": call["negative_prompt"]}


def _continued(pipe, given: np.ndarray, prompt: str, frames: int, seed: int, call: dict) -> np.ndarray:
    """`frames` new frames carrying on from the `given` ones (which are not returned)."""
    return extend(pipe, given, prompt, len(given) + frames, context=len(given), seed=seed,
                  **_extend_kwargs(call)).video[len(given):]


def _cut(pipe, prompt: str, frames: int, seed: int, established: dict, call: dict):
    """-> (shot, its conditioning frame or None): drafted, then redone from a first frame that holds
    the established objects (`cut_frame`); `prompt` already names their sizes."""
    draft = _fresh(pipe, prompt, frames, seed, call)
    start = first_frame(draft, established) if established else None
    if start is None:
        return draft, None
    return extend(pipe, start[None], prompt, frames, seed=seed, **_extend_kwargs(call)).video, start[None]


def storyboard(pipe, shots: Iterable[Any], *, seed: int = 0, context: int = DEFAULT_CONTEXT,
               num_inference_steps: int = 20, guidance_scale: float = 4.0, negative_prompt: str | None = None,
               progress: bool = True, on_shot: Callable[[int, int], None] | None = None,
               audio: bool = False) -> Film:
    """Make every shot of a storyboard and join them (see the module doc for the transitions).

    shots: prompts, `Shot`s or dicts (prompt, seed, frames, transition); the first shot's transition is
    ignored. seed: a shot without its own gets `seed + its index`. context: frames a continuing shot is
    conditioned on (1 to the model's window - 1). on_shot(done, total), if given, is called after each shot
    (a widget's progress bar). audio: give the film its soundtrack (`Film.with_sound`; off costs nothing).
    """
    shots = check_shots(shots)
    window = pipe.config.num_frames
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or not 1 <= context < window:
        raise ValueError(f"context must be a whole number of frames from 1 to {window - 1} (the model makes "
                         f"{window} at a time); got {context!r}")
    if not isinstance(audio, (bool, np.bool_)):
        raise ValueError(f"audio must be True (the film gets a soundtrack) or False; got {audio!r}")
    lengths = [s.frames or (window - context if i and s.transition == "continue" else window)
               for i, s in enumerate(shots)]
    for i, (s, n) in enumerate(zip(shots, lengths)):
        if n < 2 and (i == 0 or s.transition == "cut"):
            raise ValueError(f"shot {i + 1}: a shot that starts fresh needs at least 2 frames; got {n}")
    total, hi = sum(lengths), LIMITS.frames[1]
    if total > hi:
        raise ValueError(f"the film would be {total} frames ({' + '.join(map(str, lengths))}); at most {hi} "
                         "(sorakit.limits frames): use fewer or shorter shots")
    call = {"num_inference_steps": num_inference_steps, "guidance_scale": guidance_scale,
            "negative_prompt": negative_prompt}
    pipe.check_inputs(shots[0].prompt, negative_prompt, None, window, pipe.config.height, pipe.config.width,
                      num_inference_steps, guidance_scale, 1, "np", ["latents"])
    board = storyboard_id(pipe, shots, {"seed": seed, "context": context, **call})
    made, recipes, starts, established = [], [], [], {}
    from tqdm.auto import tqdm

    for i, (shot, frames) in enumerate(tqdm(list(zip(shots, lengths)), desc="shots", disable=not progress)):
        shot_seed = seed + i if shot.seed is None else int(shot.seed)
        # Later shots name the established objects' sizes where their prompts do not: the model sizes a
        # ball by its prompt, over frames it is given (docs/storyboards.md). The recipe keeps the prompt run.
        prompt = with_sizes(shot.prompt, established) if i else shot.prompt
        given, extra = None, {"transition": "" if i == 0 else shot.transition}
        if i == 0:
            video = _fresh(pipe, shot.prompt, frames, shot_seed, call)
        elif shot.transition == "continue":
            given = made[-1][-context:] if len(made[-1]) >= context else np.concatenate(made)[-context:]
            video = _continued(pipe, given, prompt, frames, shot_seed, call)
            extra["context_frames"] = len(given)
        else:
            video, given = _cut(pipe, prompt, frames, shot_seed, established, call)
            extra["cut_objects"] = ", ".join(f"{c} r={r:.2f}" for c, r in established.items())
        for colour, radius in shot_objects(video).items():
            established.setdefault(colour, radius)  # the first shot to show an object fixes its size
        parents = (recipes[-1].id,) if given is not None else ()
        recipes.append(Recipe.from_call(pipe, prompt, negative_prompt=negative_prompt, seed=shot_seed,
                                        steps=num_inference_steps, guidance=guidance_scale, frames=len(video),
                                        parents=parents, storyboard=board, shot=i + 1, first_frame=given,
                                        video=video, extra=extra))
        starts.append(sum(len(v) for v in made))
        made.append(video)
        if on_shot is not None:
            on_shot(i + 1, len(shots))
    film = np.concatenate(made)
    recipe = Recipe.from_call(pipe, "", negative_prompt=negative_prompt, seed=seed, steps=num_inference_steps,
                              guidance=guidance_scale, frames=len(film), parents=tuple(r.id for r in recipes),
                              storyboard=board, video=film)
    made = Film(film, tuple(shots), tuple(starts), tuple(recipes), recipe, board, tuple(made))
    return made.with_sound() if audio else made
