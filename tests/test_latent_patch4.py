"""The public surfaces on a latent pipeline with (1, 4, 4) latent patches (the second model's shape: a per-frame
autoencoder 4x per side, so one token covers 16x16 pixels), on the tiny untrained build `tiny_latent_pipe`."""
import numpy as np
import pytest
import torch

import sorakit
from sorakit import attention, world
from sorakit.identity import model_identity
from sorakit.model import condition_input

FRAMES = 8  # fewer than the model's 24: the transformer takes any count, and the tests stay seconds


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def clips():
    return [world.sample(seed, height=64, width=64, num_frames=FRAMES) for seed in (0, 1)]


def test_sizes_are_counted_in_16_pixel_tokens(tiny_latent_pipe):
    pipe = tiny_latent_pipe
    assert pipe.vae_scale_factor_spatial == 4 and pipe.latent_shape(24, 64, 64) == (8, 24, 16, 16)
    with pytest.raises(ValueError, match="multiple of 16"):
        pipe("a red ball", height=56, num_inference_steps=1)


def test_save_and_load_keep_the_patch_and_the_autoencoder(tiny_latent_pipe, tmp_path):
    pipe = tiny_latent_pipe
    pipe.save_pretrained(tmp_path)
    loaded = sorakit.load(tmp_path, device="cpu")
    loaded.set_progress_bar_config(disable=True)
    assert tuple(loaded.transformer.config.patch_size) == (1, 4, 4)
    assert loaded.vae.config.latents_mean == pipe.vae.config.latents_mean
    made = [p("a red ball", num_frames=FRAMES, num_inference_steps=2, generator=seeded()).frames
            for p in (pipe, loaded)]
    assert made[0].shape == (1, FRAMES, 64, 64, 3) and np.array_equal(*made)
    assert model_identity(loaded)[1] == model_identity(pipe)[1]


def test_given_frames_are_kept_per_prompt_through_the_autoencoder(tiny_latent_pipe, clips):
    """Each prompt's own leading frames (encoded by the VAE, repeated per video) come back exactly."""
    given = np.stack([c.video[:3] for c in clips])
    out = tiny_latent_pipe(["a red ball", "a blue ball"], frames=given, num_frames=FRAMES, num_videos_per_prompt=2,
                           num_inference_steps=2, generator=seeded()).frames
    assert out.shape == (4, FRAMES, 64, 64, 3)
    for row, clip in zip(out, [clips[0].video, clips[0].video, clips[1].video, clips[1].video]):
        assert np.abs(row[:3] - clip[:3]).max() < 1e-6
    still = tiny_latent_pipe("a red ball", frames=clips[0].video[0], num_frames=FRAMES, num_inference_steps=2).frames[0]
    assert np.abs(still[0] - clips[0].video[0]).max() < 1e-6  # image-to-video: one (H, W, 3) frame


def test_attention_maps_come_from_a_4x4_token_grid_at_pixel_resolution(tiny_latent_pipe, clips):
    with attention.capture(tiny_latent_pipe, query=(5, 40, 20), temporal=True) as cap:
        tiny_latent_pipe("a red ball", frames=clips[0].video[:4], num_frames=FRAMES, num_inference_steps=2,
                         generator=seeded())
    assert cap.grid == (FRAMES, 4, 4) and cap.pixel_shape == (FRAMES, 64, 64)
    # a token is a 16x16 block of pixels
    assert cap.token_of(5, 32, 16) == cap.token_of(5, 47, 31) == 5 * 16 + 2 * 4 + 1
    assert cap.token_of(5, 48, 31) != cap.token_of(5, 47, 31) != cap.token_of(5, 47, 32)
    heat = cap.word_map("red")
    assert heat.shape == (FRAMES, 64, 64) and heat.min() == 0 and heat.max() == 1
    # bilinear upsampling of a 4x4 grid (plus the normalisation's offset) has rank <= 5 per frame;
    # read at the wrong grid (e.g. 16x16 latents) it would be up to 16
    assert max(np.linalg.matrix_rank(frame, tol=1e-4) for frame in heat) <= 5
    query = cap.query_map(5, 40, 20)
    assert query.shape == (FRAMES, 64, 64) and query.max() == 1
    matrix = cap.temporal_matrix()
    assert matrix.shape == (FRAMES, FRAMES) and np.allclose(matrix.sum(1), 1, atol=1e-4)
    assert matrix[5, :5].sum() > 0  # the queried frame attends to the given, earlier frames


def test_strided_word_maps_sit_on_the_kept_tokens(tiny_latent_pipe):
    """stride=2 keeps tokens 0 and 2 of each 4-token row (centres at pixels 8 and 40): a value on kept token
    (1, 1) peaks at pixel (40, 40), not where spreading the 2x2 kept grid over the frame would put it (48, 48)."""
    with attention.capture(tiny_latent_pipe, stride=2) as cap:
        tiny_latent_pipe("a red ball", num_frames=FRAMES, num_inference_steps=1, generator=seeded())
    assert cap.kept_grid == (FRAMES, 2, 2) and cap.word_map("red").shape == (FRAMES, 64, 64)
    one = torch.zeros(FRAMES, 2, 2)
    one[:, 1, 1] = 1
    heat = cap._to_pixels(one.reshape(-1), kept=True)
    assert all(np.unravel_index(frame.argmax(), frame.shape) == (40, 40) for frame in heat)
    assert heat[:, :8, :8].max() == 0 and heat[:, 40:, 40:].min() == 1  # clamped beyond the outer kept centres


def test_hidden_probe_features_are_read_from_latents(tiny_latent_pipe, clips):
    """At noise level 0 the "embed" features are the patch embedding of the clips' latents, pooled per frame."""
    from sorakit.eval import hidden

    pipe = tiny_latent_pipe
    feats = hidden.record(pipe, clips, layers=[0, 1], noise_level=0.0)
    width = pipe.transformer.config.num_attention_heads * pipe.transformer.config.attention_head_dim
    assert feats.shape == (3, 2, FRAMES, width) and np.isfinite(feats).all()
    with torch.no_grad():
        x0 = pipe.encode(torch.stack([world.to_model_space(c.video) for c in clips]))
        x = condition_input(x0, torch.zeros_like(x0), torch.zeros(2, 1, FRAMES, 1, 1))
        embedded = pipe.transformer.patch_embedding(x).mean((3, 4)).transpose(1, 2)  # (B, F, D)
    np.testing.assert_allclose(feats[0], embedded.numpy(), atol=1e-5)


def test_attention_evaluation_teacher_forces_latents(tiny_latent_pipe):
    from sorakit.eval.attention import localization

    result = localization(tiny_latent_pipe, n=1, n_generated=0, noise_levels=(0.5,), progress=False)
    clip = world.sample(10**6, height=64, width=64, num_frames=24)
    visible = sum(bool(clip.masks[:, k].any()) for k in range(clip.masks.shape[1]))
    scores = result["teacher_forced"]["t=0.5"]["all layers"]
    assert scores["maps"] == visible and 0 <= scores["pointing"] <= 1


def test_model_hash_covers_the_autoencoder(tiny_latent_pipe):
    """The VAE turns latents into pixels: another autoencoder under the same transformer is another model."""
    before = model_identity(tiny_latent_pipe)[1]
    weight = next(tiny_latent_pipe.vae.parameters())
    with torch.no_grad():
        weight.mul_(-1)
        try:
            assert model_identity(tiny_latent_pipe)[1] != before
        finally:
            weight.mul_(-1)
    assert model_identity(tiny_latent_pipe)[1] == before


def test_demo_called_directly_makes_the_models_length(tiny_latent_pipe):
    """A direct call of the demo's endpoints without frames= makes the model's 24 frames (the page's slider
    starts there too), not a fixed 16."""
    import inspect

    from sorakit.demo.endpoints import Endpoints
    from sorakit.demo.validation import Checks

    recipe, first = Checks(tiny_latent_pipe).accept("a red ball bounces", "", 0, 1, 4.0, None, None)
    assert (recipe.frames, recipe.height, recipe.width, first) == (24, 64, 64, None)
    for endpoint in (Endpoints.generate, Endpoints.attention, Endpoints.probe):
        assert inspect.signature(endpoint).parameters["frames"].default is None
