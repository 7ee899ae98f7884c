"""The latent model's parts on tiny builds: autoencoder, per-frame noise, training on latents, the pipeline
with a `vae`, and the autoencoder's physics check."""
import numpy as np
import pytest
import torch

import sorakit
from sorakit import world
from sorakit.autoencoder import AUTOENCODER_CONFIG, build_autoencoder, decode_latents, encode_video, spatial_compression
from sorakit.flow import denoising_loss, frame_view, sample_frame_times, sample_time, transformer_timestep
from sorakit.model import build_transformer

TINY_VAE = dict(block_out_channels=(8, 8, 8), norm_num_groups=4)


def tiny_vae(stats: bool = True):
    torch.manual_seed(0)
    vae = build_autoencoder(**TINY_VAE).eval()
    if stats:
        vae.register_to_config(latents_mean=[0.5] * 8, latents_std=[2.0] * 8)
    return vae


def test_autoencoder_compresses_each_frame_by_four():
    vae = tiny_vae()
    assert spatial_compression(vae) == 4
    video = torch.rand(2, 3, 5, 32, 32) * 2 - 1
    with torch.no_grad():
        latents = encode_video(vae, video)
        assert latents.shape == (2, 8, 5, 8, 8)
        assert decode_latents(vae, latents).shape == video.shape
        # frames are independent: a change in frame 3 leaves the other frames' latents alone
        other = video.clone()
        other[:, :, 3] = 0
        changed = (encode_video(vae, other) - latents).abs().amax(dim=(0, 1, 3, 4))
    assert changed[3] > 0 and torch.all(changed[[0, 1, 2, 4]] == 0)


def test_latent_statistics_normalise_and_invert():
    raw, normed = tiny_vae(stats=False), tiny_vae(stats=True)
    video = torch.rand(1, 3, 2, 16, 16) * 2 - 1
    with torch.no_grad():
        a, b = encode_video(raw, video), encode_video(normed, video)
        assert torch.allclose(b, (a - 0.5) / 2.0, atol=1e-6)
        assert torch.allclose(decode_latents(raw, a), decode_latents(normed, b), atol=1e-5)


def test_frame_times_shared_or_per_frame():
    gen = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    shared = sample_frame_times(6, 5, gen(), per_frame=0.0)
    assert shared.shape == (6, 5) and torch.all(shared == shared[:, :1])
    assert torch.allclose(shared[:, 0], sample_time(6, gen()))
    mixed = sample_frame_times(400, 5, gen(), per_frame=0.5)
    varied = (mixed.std(1) > 0).float().mean()
    assert 0.4 < varied < 0.6  # about half the clips get a time per frame
    assert frame_view(mixed).shape == (400, 1, 5, 1, 1)
    assert transformer_timestep(mixed[:2], tokens_per_frame=3).shape == (2, 15)


def test_per_frame_times_reach_the_transformer():
    """A frame at t = 0 is the clean frame: the model sees it, so changing it changes the loss on the others."""
    model = build_transformer(num_layers=1, num_attention_heads=1, ffn_dim=64).eval()
    torch.nn.init.normal_(model.proj_out.weight, std=0.1)  # zero-initialised heads would hide the input
    x0 = torch.rand(1, 3, 4, 16, 16) * 2 - 1
    noise, ctx = torch.randn_like(x0), torch.zeros(1, 8, model.config.text_dim)
    t = torch.tensor([[0.0, 0.9, 0.9, 0.9]])
    mask = torch.zeros(1, 1, 4, 1, 1)
    with torch.no_grad():
        base = denoising_loss(model, x0, ctx, t, noise, mask)
        x1 = x0.clone()
        x1[:, :, 0] = -x0[:, :, 0]
        moved = denoising_loss(model, x1, ctx, t, noise, mask)
        shared = denoising_loss(model, x0, ctx, torch.tensor([0.9]), noise, mask)
    assert torch.isfinite(base) and base != moved and base != shared


@pytest.fixture(scope="module")
def latent_run(tmp_path_factory):
    from sorakit.training.loop import TrainConfig, train

    root = tmp_path_factory.mktemp("latent")
    tiny_vae().save_pretrained(root / "vae")
    cfg = TrainConfig(out=str(root / "run"), steps=2, batch_size=4, vae=str(root / "vae"), num_frames=6,
                      height=32, width=32, sample_every=1000, checkpoint_every=2, frame_noise=0.5, threads=1,
                      workers=0)  # the trainer encodes, as on a GPU
    cfg.transformer.update(num_layers=1, num_attention_heads=1, ffn_dim=64)
    train(cfg)
    return root / "run" / "pipeline"


def test_trained_latent_model_loads_with_its_autoencoder(latent_run):
    pipe = sorakit.load(latent_run, device="cpu")
    assert pipe.vae is not None and pipe.vae_scale_factor_spatial == 4
    assert pipe.latent_shape(6, 32, 32) == (8, 6, 8, 8)
    out = pipe("a red ball", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert out.frames.shape == (1, 6, 32, 32, 3) and np.isfinite(out.frames).all()
    again = pipe("a red ball", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(out.frames, again.frames)
    latents = pipe("a red ball", num_inference_steps=2, output_type="latent").frames
    assert latents.shape == (1, 8, 6, 8, 8)


def test_latent_model_keeps_given_frames_exactly(latent_run):
    pipe = sorakit.load(latent_run, device="cpu")
    first = world.sample(0, height=32, width=32, num_frames=6).video[:2]
    out = pipe("a red ball", frames=first, num_inference_steps=2).frames[0]
    assert np.abs(out[:2] - first).max() < 1e-6


def test_latent_model_sizes_are_multiples_of_a_latent_patch(latent_run):
    pipe = sorakit.load(latent_run, device="cpu")
    with pytest.raises(ValueError, match="multiple of 8"):
        pipe("a red ball", height=36, num_inference_steps=1)


def test_parse_floor_through_a_lossy_stage_is_worse():
    same = world.parse_floor(2, height=32, width=32, progress=False, through=lambda v: v)
    plain = world.parse_floor(2, height=32, width=32, progress=False)
    assert same["mean"] == plain["mean"] and same["found"] == plain["found"]
    shifted = world.parse_floor(2, height=32, width=32, progress=False, through=lambda v: np.roll(v, 1, axis=2))
    assert shifted["position_px"]["mean"] > plain["position_px"]["mean"] + 0.5
    assert plain["found"]["found"] == plain["found"]["visible"] and plain["found"]["ghost_frames"] == 0


def test_autoencoder_training_resumes_and_exports_statistics(tmp_path):
    from diffusers import AutoencoderKL

    from sorakit.training.autoencoder import AutoencoderConfig, export_autoencoder, train_autoencoder

    cfg = AutoencoderConfig(out=str(tmp_path / "ae"), steps=2, clips_per_step=2, frames_per_clip=2, height=32,
                            width=32, num_frames=4, checkpoint_every=1, autoencoder={**AUTOENCODER_CONFIG, **TINY_VAE})
    assert train_autoencoder(cfg)["step"] == 2
    cfg.steps = 3
    assert train_autoencoder(cfg)["step"] == 3
    stats = export_autoencoder(tmp_path / "ae", tmp_path / "vae", n=2)
    vae = AutoencoderKL.from_pretrained(tmp_path / "vae")
    assert len(vae.config.latents_mean) == 8 and all(s > 0 for s in vae.config.latents_std)
    assert vae.config.latents_std == stats["latents_std"]


def test_evaluate_autoencoder_reports_physics_cost():
    from sorakit.eval.autoencoder import evaluate_autoencoder

    report = evaluate_autoencoder(tiny_vae(), n=1, height=32, width=32, num_frames=4, progress=False)
    assert report["latent_shape"] == [8, 4, 8, 8]
    assert report["velocity_error"]["ratio"] > 1  # an untrained autoencoder loses the balls
    assert {"psnr", "ball_psnr", "balls_found", "ghost_frames", "encode_s", "decode_s"} <= set(report)


def test_attention_maps_of_a_latent_model_come_back_at_pixel_resolution(latent_run):
    from sorakit import attention

    pipe = sorakit.load(latent_run, device="cpu")
    with attention.capture(pipe, query=(2, 20, 12)) as cap:
        pipe("a red ball", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    heat = cap.word_map("red")
    assert heat.shape == (6, 32, 32) and np.isfinite(heat).all() and heat.max() == 1
    assert cap.query_map(2, 20, 12).shape == (6, 32, 32)


def test_trainer_encoding_matches_worker_encoding():
    """On a GPU the trainer encodes each batch itself (a CUDA autoencoder cannot be used in a forked
    DataLoader worker): the batches must be the ones the worker would have encoded."""
    from sorakit.training import TrainConfig
    from sorakit.training.loop import _training_data

    cfg, vae = TrainConfig(batch_size=4, height=32, width=32, num_frames=3, workers=0), tiny_vae()
    in_worker = next(_training_data(cfg, 5, vae, latent=True))
    pixels = next(_training_data(cfg, 5, None, latent=True))
    assert pixels["video"].shape == (4, 3, 3, 32, 32)  # rendered, not encoded
    assert pixels["caption"] == in_worker["caption"] and torch.equal(pixels["seed"], in_worker["seed"])
    with torch.no_grad():
        assert torch.allclose(encode_video(vae, pixels["video"]), in_worker["video"], atol=1e-5)
    # consecutive (clip, mirror) pairs: the mirror's pixels are the clip's, flipped left-right
    assert torch.equal(pixels["video"][1], pixels["video"][0].flip(-1))
