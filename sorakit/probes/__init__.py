"""Physics probes: measure whether a clip obeys physics.

    report = probes.run(video, prompt="a red ball bounces twice")   # ProbeReport
    report.verdicts, report.to_dict(), report.plot()
    probes.gravity(video)                                           # any probe alone -> ProbeResult
    probes.av_sync(video_or_clip, audio, sample_rate)               # sound onsets vs contacts -> ProbeResult

The measurements that need a model live in `sorakit.eval` (`sorakit eval physics`, `sorakit eval
hidden`); `probes.evaluate_physics`, `probes.PhysicsEval` and `probes.hidden` stay as lazy aliases.

Everything is in world units (`world.Camera`: the image is 10 units wide, y up, floor at 0).
Footage from elsewhere: pick an object with `track_object(video, click=(x, y))` and probe it with
`run_footage(video, track, scale=(pixels, metres))`, which reports in pixels or the given unit.
`physics_iq(generated, reference)`: Physics-IQ's motion-mask metrics between two clips.
`continuity(film)`: a storyboard's shot boundaries (objects persist, no jump, each shot on prompt).
"""
from __future__ import annotations

from .._lazy import lazy_exports
from .adherence import adherence
from .av_sync import audio_onsets, av_align, av_sync, visible_contacts
from .bounces import bounces
from .collisions import collisions
from .consistency import PARSE_FLOOR, consistency, measure_parse_floor
from .context import Context, prepare
from .continuity import continuity
from .footage import run_footage
from .gravity import gravity
from .inputs import DEFAULT_FPS
from .object_tracking import ObjectTrack, track_object
from .persistence import persistence
from .physics_iq import PhysicsIQResult, motion_masks, physics_iq
from .report import ProbeReport, ProbeResult
from .runner import PROBES, run, tracking
from .temporal import temporal
from .tracking import PointTrack, find_hoop, track, track_generic, track_point

# Old names of what moved to sorakit.eval, resolved on first use (and left out of __all__) so that
# importing the probes never imports evaluation, which sits above them.
_LAZY = {"evaluate_physics": ("sorakit.eval.physics", "evaluate_physics"),
         "PhysicsEval": ("sorakit.eval.physics", "PhysicsEval"),
         "hidden": ("sorakit.eval.hidden", None)}

__all__ = ["DEFAULT_FPS", "PARSE_FLOOR", "PROBES", "Context", "ObjectTrack", "PhysicsIQResult", "PointTrack",
           "ProbeReport", "ProbeResult", "adherence", "audio_onsets", "av_align", "av_sync", "bounces", "collisions",
           "consistency", "continuity", "find_hoop", "gravity", "measure_parse_floor", "motion_masks", "persistence",
           "physics_iq", "prepare", "run", "run_footage", "temporal", "track", "track_generic", "track_object",
           "track_point", "tracking", "visible_contacts"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
