"""A gradio_client for the demo's tests: a request's first join (validators, upload bookkeeping) can
pass httpx's 5 s default on a busy CPU, which fails a test on a correct server."""
from __future__ import annotations

TIMEOUT = 60  # seconds


def demo_client(url: str, **kwargs):
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": TIMEOUT}, **kwargs)
