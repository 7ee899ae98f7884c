"""Layers import downwards only: the packages that evaluation, the widgets and the demo build on
never pull those in, and the names that moved to sorakit.eval still resolve."""
from __future__ import annotations

import json
import subprocess
import sys

LOWER = ("sorakit.probes", "sorakit.attention", "sorakit.training")
ABOVE = ("sorakit.eval", "sorakit.ui", "sorakit.demo")


def test_lower_packages_do_not_import_the_layers_above():
    # A fresh interpreter (this one has imported whatever other tests needed); one for all three
    # packages, since none of the layers above may appear even in their union.
    code = (f"import json, sys, {', '.join(LOWER)}; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sorakit'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(LOWER) <= set(loaded)
    above = [m for m in loaded if m.startswith(ABOVE)]
    assert not above, f"importing {', '.join(LOWER)} imported {above}"


def test_moved_names_resolve_to_sorakit_eval():
    from sorakit import attention, probes
    from sorakit.eval import attention as eval_attention
    from sorakit.eval import hidden, physics

    assert probes.evaluate_physics is physics.evaluate_physics and probes.PhysicsEval is physics.PhysicsEval
    assert probes.hidden.run is hidden.run
    assert attention.localization is eval_attention.localization
    from sorakit.attention.evaluate import localization, table  # the old module path, kept for `python -m`
    from sorakit.probes.evaluate import split_clips

    assert localization is eval_attention.localization and table is eval_attention.table
    assert split_clips is physics.split_clips


def test_sorakit_eval_is_a_lazy_attribute():
    # `sorakit.eval` works without `import sorakit.eval`, and `import sorakit` alone does not load it.
    code = ("import sys, sorakit; loaded = 'sorakit.eval' in sys.modules; "
            "print(loaded, sorakit.eval.__name__, sorakit.eval.physics.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["False", "sorakit.eval", "sorakit.eval.physics"]
