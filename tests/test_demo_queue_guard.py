"""The launched demo keeps its queue bounded: the settings, validators and queue wrapper that
sorakit/demo/queue_guard.py and the app install are all in place on the Gradio version installed.

The wrapper reaches into Gradio 6's queue, which is why pyproject pins gradio>=6,<7; a new major
version fails here first instead of silently letting bursts past the bound."""
from __future__ import annotations

import pytest

gradio = pytest.importorskip("gradio")
from sorakit import demo  # noqa: E402

JOBS = ("attention", "generate", "probe")  # the endpoints that run the model


@pytest.fixture(scope="module")
def app(tiny_pipe):
    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    yield app
    app.close()


def test_gradio_is_the_major_version_the_guard_was_written_for():
    assert gradio.__version__.split(".")[0] == "6", gradio.__version__


def test_queue_is_bounded_and_its_push_rechecks_the_bound(app):
    queue = app._queue
    assert queue.max_size == demo.app.QUEUE_SIZE
    assert queue.default_concurrency_limit == 1
    assert queue.push.__qualname__.startswith("bound_queue."), "the burst guard did not wrap Queue.push"


def test_model_jobs_are_validated_before_queueing_and_run_one_at_a_time(app):
    jobs = {fn.api_name: fn for fn in app.fns.values() if fn.api_name in JOBS}
    assert sorted(jobs) == list(JOBS)
    for name, fn in jobs.items():
        assert fn.queue and fn.concurrency_id == "model" and fn.concurrency_limit == 1, name
        assert fn.validator is not None and fn.validator.__name__ == f"check_{name}", name
