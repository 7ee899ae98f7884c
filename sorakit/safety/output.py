"""The built-in output checks: what a finished clip shows, judged without trusting its prompt.

- `describe_clip`: the world's tracker (`world.track`) parses the clip into coloured balls, and the
  balls become a sentence in the world's words ("a large purple ball moves to the right; a small red
  ball falls"). The scene check runs that sentence through the same text policy as prompts, so a
  policy that declares something about the world (a colour the operator does not want shown, a
  scene) also catches clips whose prompt never named it.
- `count_flashes`: general flashes (WCAG 2.3.1): a pair of opposing changes of at least a tenth in the
  frame's mean relative luminance, the darker state below 0.8. More than three in any second is
  refused as "flashing", whatever the policy file says: a generated clip can flicker when its prompt
  asked for nothing of the kind, and such flicker can trigger seizures.
What the world cannot show, these cannot see: balls arranged to spell a word, or any shape that is not
a ball, are not read. Add checks of your own with `Moderation.add_output_check`.
"""
from __future__ import annotations

import numpy as np

from ..limits import DEFAULT_FPS

PRESENT = 0.25  # share of frames a colour must be seen in to be described
MOVE = 1.0  # world units (a tenth of the width) between first and last sighting to count as moving sideways
FLASH_STEP = 0.1  # WCAG: a flash is a pair of opposing luminance changes of at least 10 % ...
FLASH_DARK = 0.8  # ... where the darker state is below 0.80
MAX_FLASHES_PER_SECOND = 3
FLASHING = "flashing"
FLASHING_DESCRIPTION = "more than three flashes in a second, which can trigger seizures"


def _size_word(radius: float) -> str:
    from ..world import SIZES

    return min(SIZES, key=lambda s: abs(SIZES[s] - radius))


def _motion(track) -> str:
    pos = track.pos[track.present]
    if len(pos) < 2:
        return "appears"
    dx, dy = pos[-1] - pos[0]
    if abs(dx) >= MOVE:
        return f"moves to the {'right' if dx > 0 else 'left'}"
    if dy <= -MOVE:
        return "falls"
    return "rises" if dy >= MOVE else "stays in place"


def describe_clip(frames) -> str:
    """The clip's balls in words, largest first: colour, size and how each moves ("an empty scene" if none)."""
    from ..world import track

    tracks = [t for t in track(frames).values() if t.present.mean() >= PRESENT]
    if not tracks:
        return "an empty scene"
    tracks.sort(key=lambda t: -float(np.nanmedian(t.radius)))
    parts = [f"a {_size_word(float(np.nanmedian(t.radius)))} {t.color} ball {_motion(t)}" for t in tracks]
    count = {2: "two balls: ", 3: "three balls: "}.get(len(parts), f"{len(parts)} balls: " if len(parts) > 3 else "")
    return count + "; ".join(parts)


def relative_luminance(frames) -> np.ndarray:
    """(F,) mean relative luminance (sRGB, WCAG's formula) of each frame."""
    video = np.asarray(frames, np.float32)
    if video.dtype == np.uint8 or video.max() > 1.5:
        video = video / 255.0
    linear = np.where(video <= 0.04045, video / 12.92, ((video + 0.055) / 1.055) ** 2.4)
    return (linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)).mean(axis=(1, 2))


def count_flashes(frames, fps: float) -> int:
    """The most flashes (opposing luminance change pairs, as WCAG counts them) in any one-second window."""
    lum = relative_luminance(frames)
    turns, last_sign = [], 0  # frames where luminance turns after a change of FLASH_STEP or more
    anchor = 0
    for i in range(1, len(lum)):
        change = lum[i] - lum[anchor]
        if abs(change) >= FLASH_STEP and min(lum[i], lum[anchor]) < FLASH_DARK:
            sign = 1 if change > 0 else -1
            if sign != last_sign:
                turns.append(i)
                last_sign = sign
            anchor = i
        elif (lum[i] - lum[anchor]) * last_sign > 0:  # still moving the same way: the extreme moves on
            anchor = i
    # Each flash is two opposing changes; count pairs within a second.
    window = max(1, int(round(fps)))
    best = 0
    for start in range(len(turns)):
        inside = [t for t in turns[start:] if t - turns[start] < window]
        best = max(best, len(inside) // 2)
    return best


def builtin_checks(moderation) -> list[tuple[str, object]]:
    """The output checks every Moderation starts with: the scene description through the text policy, flashing."""

    def scene(frames, recipe=None):
        verdict = moderation.screen(describe_clip(frames))
        return None if verdict.allowed else verdict

    def flashing(frames, recipe=None):
        fps = getattr(recipe, "fps", None) or DEFAULT_FPS
        if count_flashes(frames, fps) <= MAX_FLASHES_PER_SECOND:
            return None
        from .moderation import Verdict

        return Verdict(FLASHING, "flashing", FLASHING_DESCRIPTION)

    return [("scene", scene), ("flashing", flashing)]
