"""Sound words in captions (`sound_phrase=True`): the phrase follows the simulated events, is drawn from
its own random stream, and without the option every caption is byte-identical to before it existed
(a training run and its checkpoints depend on the exact captions)."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from sorakit import world
from sorakit.probes.adherence import parse
from sorakit.world import sound_words
from sorakit.world.captions import caption, mirror_caption
from sorakit.world.simulate import Event

# Computed with the code before sound phrases existed (world.sample(7, scenario=s, audio=False).caption).
BEFORE = {
    "drop": "a large cyan ball is dropped and bounces twice",
    "throw": "a large cyan ball is thrown to the right and bounces once",
    "roll": "a large cyan ball rolls to the right",
    "collide": "two balls, one cyan and one blue, crash into each other",
    "hoop": "a big cyan ball is thrown to the right at the hoop and goes in",
    "several": "a small red ball, a big cyan ball and a medium yellow ball bounce around, hitting each other",
}
# sha256 of the captions below, computed the same way with the code before sound phrases existed.
BEFORE_DIGEST = "b89abbe05cdaa264fac33e1b75a968499d18ecc3176d6580548f66047ae6cbe6"
QUIET_WORDS = ("quiet", "faint", "silen", "without a sound", "rumble")


def _digest() -> str:
    h = hashlib.sha256()
    for s in range(48):
        h.update(world.sample(s, audio=False).caption.encode() + b"\n")
    for s in range(12):
        h.update(world.sample(s, audio=False, bounciness="dead").caption.encode() + b"\n")
        h.update(world.sample(s, audio=False, scenario="hoop").caption.encode() + b"\n")
    return h.hexdigest()


def test_captions_without_the_option_are_as_before():
    for scenario, text in BEFORE.items():
        assert world.sample(7, scenario=scenario, audio=False).caption == text
        assert world.sample(7, scenario=scenario, audio=False, sound_phrase=False).caption == text
    assert _digest() == BEFORE_DIGEST


def test_the_phrase_only_appends_and_changes_no_other_draw():
    for scenario, text in BEFORE.items():
        heard = world.sample(7, scenario=scenario, sound_phrase=True)
        plain = world.sample(7, scenario=scenario)
        assert heard.caption.startswith(text + " ") and len(heard.caption) > len(text) + 3
        assert np.array_equal(heard.video, plain.video) and np.array_equal(heard.audio, plain.audio)
        assert heard.sounds == plain.sounds and heard.events == plain.events


def _drop(speeds, kind="floor_bounce", bounciness="bouncy"):
    """A drop scene whose trajectory's impacts are replaced by `speeds` (units/s) of `kind` at 0.5 s apart."""
    scene = world.sample_scene(3, scenario="drop", bounciness=bounciness)
    traj = world.simulate(scene)
    events = [Event(kind, 4 * (i + 1), 0.5 * (i + 1), (0,), float(v), (5.0, 0.5)) for i, v in enumerate(speeds)]
    return scene, replace(traj, events=events)


def _phrase(scene, traj) -> str:
    full, plain = caption(scene, traj, sound_phrase=True), caption(scene, traj)
    assert full.startswith(plain + " ")
    return full[len(plain) + 1:]


def test_loudness_words_follow_the_impact_speed():
    loud = _phrase(*_drop([12.0, 3.0]))  # 12 units/s peaks near 0.5
    assert loud.startswith("with a loud ")
    plain = _phrase(*_drop([6.0]))
    assert "loud" not in plain and not any(w in plain for w in QUIET_WORDS)
    quiet = _phrase(*_drop([2.0]))
    assert quiet.startswith(("with a quiet ", "with a faint "))
    assert _phrase(*_drop([0.3, 0.2])) in sound_words.SILENT + sound_words.RUMBLE  # nothing audible


def test_surfaces_and_materials_choose_the_sound():
    assert "clang" in _phrase(*_drop([8.0], kind="rim_hit"))
    assert "clang" not in _phrase(*_drop([12.0, 2.0]))  # the control: no rim, no clang
    scene, traj = _drop([12.0, 2.0])
    rim = replace(traj, events=traj.events + [Event("rim_hit", 12, 1.5, (0,), 1.5, (7.0, 5.0))])
    both = _phrase(scene, rim)
    assert both.startswith("with a loud ") and ("and a quiet" in both or "and a faint" in both) and "clang" in both
    dead = _phrase(*_drop([12.0], bounciness="dead"))
    assert "thump" in dead and ("dull" in dead or "muffled" in dead)
    assert any(w in _phrase(*_drop([6.0], kind="collision")) for w in ("clack", "crack"))


def test_phrases_follow_each_clips_own_soundtrack():
    """Over world clips: the loudest impact in clip.sounds (the synthesised soundtrack) sets the loudness word."""
    seen = set()
    for seed in range(40):
        clip = world.sample(seed, sound_phrase=True)
        phrase = clip.caption[len(world.sample(seed, audio=False).caption) + 1:]
        impacts = [s for s in clip.sounds if s.kind in world.sound.IMPACTS and s.amplitude >= sound_words.AUDIBLE]
        loudest = max((s.amplitude for s in impacts), default=0.0)
        assert ("loud" in phrase.split()) == (loudest >= sound_words.LOUD), (seed, phrase, loudest)
        if any(s.kind == "rim_hit" for s in impacts):
            assert "clang" in phrase, (seed, phrase)
        if not impacts:
            assert any(w in phrase for w in QUIET_WORDS + ("swish",)), (seed, phrase)
        elif loudest < sound_words.QUIET:
            assert phrase.startswith(("with a quiet", "with a faint")), (seed, phrase)
        seen.add(phrase)
        # the probes read the same facts from the caption with or without what is heard
        assert parse(clip.caption) == parse(world.sample(seed, audio=False).caption)
        assert mirror_caption(clip.caption).endswith(phrase)
    assert len(seen) >= 10  # varied wording, not one template


def test_deterministic_by_seed_and_checked():
    a = world.sample(11, audio=False, sound_phrase=True).caption
    assert a == world.sample(11, audio=False, sound_phrase=True).caption
    with pytest.raises(ValueError, match="sound_phrase must be True or False"):
        world.sample(11, sound_phrase="yes")
    batch = next(iter(world.WorldClips(start_seed=11, limit=1, sound_phrase=True)))
    assert batch["caption"] == a  # training data can opt in too


def test_the_world_preview_command_can_show_the_sound_words(tmp_path, monkeypatch):
    """`sorakit world --preview OUT --sound-words` captions each clip with its phrase; without it, as before."""
    import sys

    from sorakit.cli import main

    preview_module = sys.modules["sorakit.world.preview"]
    shown = []
    monkeypatch.setattr(preview_module, "write_grid_gif",
                        lambda videos, captions, path, fps: shown.append(list(captions)) or path)
    for flags in ([], ["--sound-words"]):
        assert main(["world", "--preview", str(tmp_path / "p.gif"), "--n", "3", "--seed", "5", *flags]) == 0
    plain, worded = shown
    assert plain == [world.sample(s, audio=False).caption for s in (5, 6, 7)]
    assert worded == [world.sample(s, audio=False, sound_phrase=True).caption for s in (5, 6, 7)]
    assert all(w.startswith(p) and len(w) > len(p) for p, w in zip(plain, worded))
