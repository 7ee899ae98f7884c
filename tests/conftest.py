"""Shared fixtures: a tiny untrained pipeline for fast tests, and headless Chromium and JupyterLab for browser tests."""
from __future__ import annotations

import os
import shutil

import pytest
import torch

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def moving_square(frames: int):
    """A 32x32 clip like the model's: grey background, a red square moving one pixel right per frame."""
    import numpy as np

    video = np.full((frames, 32, 32, 3), 0.5, np.float32)
    for t in range(frames):
        video[t, 4:12, 2 + t:10 + t] = (1.0, 0.0, 0.0)
    return video


@pytest.fixture(scope="session", autouse=True)
def private_config_dir(tmp_path_factory):
    """Exports sign clips with a development key made on first use: make it in a temporary config
    dir (sorakit.provenance.keys), never in the user's own."""
    old = os.environ.get("SORAKIT_CONFIG_DIR")
    os.environ["SORAKIT_CONFIG_DIR"] = str(tmp_path_factory.mktemp("sorakit-config"))
    yield
    if old is None:
        os.environ.pop("SORAKIT_CONFIG_DIR", None)
    else:
        os.environ["SORAKIT_CONFIG_DIR"] = old


@pytest.fixture
def square_clip():
    """moving_square as a fixture factory: square_clip(frames)."""
    return moving_square


@pytest.fixture(scope="session")
def tiny_pipe():
    """A 2-layer untrained pipeline (same code path as the shipped model, seconds to build)."""
    from sorakit.loading import assemble
    from sorakit.model import build_transformer

    torch.manual_seed(0)
    transformer = build_transformer(num_layers=2)
    with torch.no_grad():  # zero-init heads output zero; give them weights so outputs vary
        for p in transformer.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.02)
    pipe = assemble(transformer.eval())
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="session")
def tiny_latent_pipe():
    """A 2-layer untrained latent pipeline shaped like the second model: a tiny per-frame autoencoder (4x
    per side, normalising statistics in its config) under a transformer with (1, 4, 4) latent patches,
    so a token covers 16x16 pixels; 24 frames at 64x64 make 24 x 4 x 4 tokens (seconds to build)."""
    from sorakit.autoencoder import build_autoencoder
    from sorakit.loading import assemble
    from sorakit.model import LATENT_TRANSFORMER_CONFIG, build_transformer

    torch.manual_seed(0)
    vae = build_autoencoder(block_out_channels=(8, 8, 8), norm_num_groups=4).eval()
    vae.register_to_config(latents_mean=[0.5] * 8, latents_std=[2.0] * 8)
    transformer = build_transformer(**{**LATENT_TRANSFORMER_CONFIG, "patch_size": (1, 4, 4), "num_layers": 2,
                                       "num_attention_heads": 1, "ffn_dim": 64})
    with torch.no_grad():  # zero-init heads output zero; give them weights so outputs vary
        for p in transformer.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.02)
    pipe = assemble(transformer.eval(), vae=vae, num_frames=24, height=64, width=64)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="session")
def chromium():
    """A Playwright Chromium browser on the system's chromium binary.

    In CI (CI set) a missing browser is a failure; on a user's machine the test is skipped.
    """
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if exe is None or sync_playwright is None:
        why = "no chromium on PATH (apt-get install chromium)" if exe is None else "playwright not installed"
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(f"browser test skipped: {why}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory):
    """One JupyterLab server for all the browser tests (notebook_lab.Lab): each test opens its notebook from
    a folder of its own, and the kernels it started are shut down when it ends."""
    from notebook_lab import lab_server

    with lab_server(tmp_path_factory.mktemp("jupyterlab")) as lab:
        yield lab


@pytest.fixture(scope="module")
def served(tiny_pipe):
    """The demo serving the tiny pipeline on loopback, and a gradio_client for it: one per test module."""
    from demo_client import demo_client

    from sorakit import demo

    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    client = demo_client(app.local_url)
    yield app, client
    client.close()
    app.close()
