"""Sound through the pipeline, storyboards, remixes and extensions: one soundtrack per clip, as long as
its frames play, each part starting at its first frame's sample, heard where the simulator hit."""
from __future__ import annotations

import numpy as np
import pytest

import sorakit
from sorakit import probes, world
from sorakit.sound.joins import frame_sample, takes_soundtrack
from sorakit.storyboard import Shot, storyboard

SR = world.SAMPLE_RATE
FPS = 8.0
FAST = dict(num_inference_steps=1, guidance_scale=1.0)
SEEDS = (2, 13, 3)  # 5, 8 and 2 heard onsets, each clip heard by add_sound with F1 1.0 on its own


@pytest.fixture(scope="module")
def clips():
    return [world.sample(seed) for seed in SEEDS]


def _samples(frames: int) -> int:
    return int(round(frames / FPS * SR))


def test_pipeline_is_silent_by_default_and_audio_adds_one_soundtrack_per_video(tiny_pipe):
    import torch

    silent = tiny_pipe("a red ball bounces", generator=torch.Generator().manual_seed(0), **FAST)
    assert silent.audio is None and silent.sample_rate is None
    out = tiny_pipe("a red ball bounces", generator=torch.Generator().manual_seed(0), num_videos_per_prompt=2,
                    audio=True, **FAST)
    np.testing.assert_allclose(out.frames[0], silent.frames[0], atol=1e-5)  # sound does not change the frames
    assert out.sample_rate == SR and out.audio.dtype == np.float32
    assert out.audio.shape == (2, _samples(16), 2)
    for frames, audio in zip(out.frames, out.audio):
        np.testing.assert_allclose(audio, sorakit.add_sound(frames, fps=FPS)[0], atol=1e-4)
    video, audio = tiny_pipe("a red ball bounces", audio=True, output_type="pt", return_dict=False, **FAST)
    assert video.shape == (1, 16, 3, 32, 32) and audio.shape == (1, _samples(16), 2)


def test_pipeline_sound_is_heard_in_the_frames_it_returns(tiny_pipe, clips):
    import torch

    clip = clips[1]  # 8 onsets in 2 s
    pixels = torch.from_numpy(clip.video).permute(3, 0, 1, 2)[None] * 2 - 1  # (1, 3, F, H, W) in [-1, 1]

    def become_the_clip(pipe, step, t, tensors):  # the last step's latents are the world clip's frames
        return {"latents": pixels.clone()}

    out = tiny_pipe("balls bounce", audio=True, callback_on_step_end=become_the_clip, **FAST)
    np.testing.assert_allclose(out.frames[0], clip.video, atol=1e-6)
    result = probes.av_sync(clip, out.audio[0], SR)
    assert result.metrics["f1"] == 1.0 and abs(result.metrics["median_offset"]) <= 0.015, result


@pytest.mark.parametrize("bad, match", [({"audio": "yes"}, "audio must be True"),
                                        ({"audio": True, "output_type": "latent"}, "decoded frames")])
def test_pipeline_audio_option_is_checked(tiny_pipe, bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_pipe("a ball", **FAST, **bad)


def test_joined_takes_sound_where_each_clip_hit(clips):
    video = np.concatenate([c.video for c in clips])
    starts = [0, 16, 32]
    audio = takes_soundtrack(video, FPS, starts[1:], SR)
    assert audio.shape == (_samples(48), 2)
    truth = [t + s / FPS for c, s in zip(clips, starts) for t in c.onsets]
    result = probes.av_sync(truth, audio, SR)
    assert result.metrics["f1"] >= 0.95 and abs(result.metrics["median_offset"]) <= 0.015, result
    # each take's sound starts at its first frame: the second clip's sound is exactly its own, moved 2 s
    alone, _ = sorakit.add_sound(clips[1].video, fps=FPS)
    np.testing.assert_array_equal(audio[_samples(16):_samples(32)], alone)
    with pytest.raises(ValueError, match="frame indices"):
        takes_soundtrack(video, FPS, [60], SR)


def test_storyboard_film_has_one_soundtrack_over_its_takes(tiny_pipe):
    shots = [Shot("a red ball bounces", frames=8), Shot("a blue ball rolls", frames=6, transition="cut"),
             Shot("the blue ball rolls on", frames=4)]
    film = storyboard(tiny_pipe, shots, audio=True, num_inference_steps=1, guidance_scale=1.0,
                      progress=False)
    assert film.starts == (0, 8, 14) and film.takes == (0, 8)  # the continuing shot is the cut's take
    assert film.sample_rate == SR and film.audio.shape == (_samples(18), 2)
    np.testing.assert_array_equal(film.audio, takes_soundtrack(film.video, FPS, [8], SR))
    silent = storyboard(tiny_pipe, shots[:1], num_inference_steps=1, guidance_scale=1.0, progress=False)
    assert silent.audio is None and silent.sample_rate is None
    with pytest.raises(ValueError, match="audio must be"):
        storyboard(tiny_pipe, shots[:1], audio="on", progress=False)


def test_extension_keeps_the_source_sound_and_hears_the_new_frames(tiny_pipe, clips):
    clip = clips[0]
    longer = sorakit.extend(tiny_pipe, clip.video, "a red ball bounces", 24, audio=clip.audio,
                            sample_rate=clip.sample_rate, **FAST)
    assert longer.sample_rate == SR and longer.audio.shape == (_samples(24), 2)
    np.testing.assert_array_equal(longer.audio[:_samples(16)], clip.audio)  # the source's own sound, kept
    heard, _ = sorakit.add_sound(longer.video, fps=FPS)
    np.testing.assert_allclose(longer.audio[_samples(16):], heard[_samples(16):], atol=1e-6)
    silent = sorakit.extend(tiny_pipe, clip.video, "a red ball bounces", 20, **FAST)
    assert silent.audio is None and silent.sample_rate is None
    mono = sorakit.extend(tiny_pipe, clip.video, "a red ball bounces", 20, audio=clip.audio[:, 0],
                          sample_rate=SR, **FAST)
    np.testing.assert_array_equal(mono.audio[:_samples(16), 1], clip.audio[:, 0])
    with pytest.raises(ValueError, match="sample_rate"):
        sorakit.extend(tiny_pipe, clip.video, "a ball", 20, audio=clip.audio, **FAST)


def test_remix_of_a_file_with_sound_sounds_like_its_new_frames(tiny_pipe, clips, tmp_path):
    clip = clips[1]
    path = sorakit.export(clip.video, tmp_path / "bounces.mp4", audio=clip.audio, sample_rate=clip.sample_rate)
    kept = sorakit.remix(tiny_pipe, path, "balls bounce", strength=0.0)  # the file's frames, as decoded
    assert kept.audio.shape == (_samples(16), 2) and kept.sample_rate == SR
    result = probes.av_sync(clip, kept.audio, SR)
    assert result.metrics["f1"] >= 0.8 and abs(result.metrics["median_offset"]) <= 0.02, result  # 0.93 after H.264
    remade = sorakit.remix(tiny_pipe, path, "balls bounce", strength=1.0, **FAST)
    np.testing.assert_allclose(remade.audio, sorakit.add_sound(remade.video, fps=FPS)[0], atol=1e-6)
    silent_file = sorakit.export(clip.video, tmp_path / "silent.mp4")
    assert sorakit.remix(tiny_pipe, silent_file, "balls", strength=0.0).audio is None
    asked = sorakit.remix(tiny_pipe, clip.video, "balls", strength=0.0, audio=True)
    assert asked.audio.shape == (_samples(16), 2)
    assert frame_sample(16, FPS, SR) == _samples(16)
