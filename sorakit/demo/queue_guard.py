"""Keep Gradio's queue bounded when requests arrive together.

Gradio 6's `Queue.push` compares the queue length with `max_size` *before* awaiting the event's
validator and appends the event after it, so requests whose validators overlap all pass the check:
8 simultaneous /generate calls put 7 jobs in a `max_size=3` queue. This wrapper re-checks right
after the push (no await in between, so nothing else runs on the event loop) and takes the newest
event back out with the same "queue full" answer Gradio gives (HTTP 503; gradio_client QueueError).
"""
from __future__ import annotations

import warnings

_NEEDS = ("push", "max_size", "event_ids_to_events", "event_queue_per_concurrency_id")


def bound_queue(app) -> bool:
    """Wrap `app._queue.push`; returns False (and warns) if this Gradio's queue looks different."""
    queue = getattr(app, "_queue", None)
    if queue is None or not all(hasattr(queue, name) for name in _NEEDS):
        warnings.warn("sorakit.demo: unknown Gradio queue internals; bursts may exceed the queue size", stacklevel=2)
        return False
    push = queue.push

    async def bounded_push(body, request, username):
        ok, event_id, state = await push(body, request, username)
        if ok and queue.max_size is not None and len(queue) > queue.max_size:
            _drop(queue, event_id)
            return False, f"Queue is full. Max size is {queue.max_size}; please try again shortly.", "queue_full"
        return ok, event_id, state

    queue.push = bounded_push
    return True


def _drop(queue, event_id: str) -> None:
    """Remove a just-queued (not yet started) event, synchronously."""
    event = queue.event_ids_to_events.pop(event_id, None)
    if event is None:
        return
    waiting = queue.event_queue_per_concurrency_id[event.concurrency_id].queue
    if event in waiting:
        waiting.remove(event)
    getattr(queue, "pending_event_ids_session", {}).get(event.session_hash, set()).discard(event_id)
    getattr(queue, "event_analytics", {}).pop(event_id, None)


def session_alive(app, session_hash: str) -> bool:
    """False once Gradio has marked the running job of `session_hash` dead (its client disconnected)."""
    queue = getattr(app, "_queue", None)
    for jobs in getattr(queue, "active_jobs", None) or []:
        for job in jobs or []:
            if getattr(job, "session_hash", None) == session_hash and not getattr(job, "alive", True):
                return False
    return True
