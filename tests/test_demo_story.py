"""The demo's /storyboard and /remix, driven as scripts use them (a real server on loopback and
gradio_client), and their checks called directly."""
from __future__ import annotations

import numpy as np
import pytest

gr_client = pytest.importorskip("gradio_client")
import gradio as gr  # noqa: E402
from gradio_client import handle_file  # noqa: E402
from gradio_client.exceptions import ValidationError  # noqa: E402

from sorakit.audio import read_audio  # noqa: E402
from sorakit.media import export, read_metadata, read_video  # noqa: E402
from sorakit.recipe import Recipe  # noqa: E402

FAST = dict(steps=1, guidance=4.0)  # plumbing, not quality
SHOTS = ("a red ball is thrown to the right", "a red ball bounces")


def _video(tmp_path, name, frames=4, size=(32, 32), recipe=None):
    """An mp4 of a moving square, plain (no recipe) unless given one."""
    video = np.full((frames, *size, 3), 0.5, np.float32)
    for t in range(frames):
        video[t, 4:12, 2 + t:10 + t] = (1.0, 0.0, 0.0)
    return str(export(video, tmp_path / name, recipe=recipe, scale=1, watermark=False, provenance=False)), video


def test_two_shot_storyboard_is_one_film_with_its_boundaries(served):
    app, client = served
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/storyboard", "/remix"} <= set(api)
    assert [r["label"] for r in api["/storyboard"]["returns"]] == ["Film", "Shots"]
    path, timeline = client.predict(SHOTS[0], SHOTS[1], "", "cut", "continue", seed=3, frames=4,
                                    api_name="/storyboard", **FAST)
    film = read_video(path, size=(32, 32))
    assert film.shape == (8, 32, 32, 3)  # 2 shots x 4 frames
    recipe = read_metadata(path)
    assert len(recipe.parents) == 2 and recipe.storyboard and recipe.seed == 3 and recipe.steps == 1
    assert timeline.count('class="sorakit-shot"') == 2 and 'data-start="4"' in timeline and "cut" in timeline
    assert SHOTS[1] in timeline
    sound = read_audio(path, sample_rate=16_000)  # a ValueError if the film had no audio stream
    assert sound.shape[1] == 2 and abs(len(sound) - 16_000 * 8 / 8) <= 1024  # 8 frames at 8 fps (one AAC frame)


@pytest.mark.parametrize("prompts, frames, message", [
    (("", "", ""), 4, "no shots: write a prompt for shot 1"),
    (("", SHOTS[1], ""), 4, "no shots: write a prompt for shot 1"),
    ((SHOTS[0], "", SHOTS[1]), 4, "write shot 2's prompt first"),
    ((SHOTS[0], SHOTS[1], SHOTS[0]), 16, "3 x 16 = 48 frames; the demo makes at most 32"),
    ((SHOTS[0], "x" * 1001, ""), 4, "shot 2's prompt is 1001 characters"),
    ((SHOTS[0], SHOTS[1], ""), 1, "frames per shot must be a whole number from 2 to 16"),
    ((SHOTS[0], "a video of n.a.k.e.d people", ""), 4, "sexual"),  # moderation reads every shot
])
def test_bad_storyboards_get_a_clear_message(served, prompts, frames, message):
    _, client = served
    with pytest.raises(ValidationError, match=message):
        client.predict(*prompts, "continue", "cut", seed=0, frames=frames, api_name="/storyboard", **FAST)


def test_storyboard_checks_called_directly(served):
    app, _ = served
    story = app.sorakit_story
    checks = story.check_storyboard(SHOTS[0], SHOTS[1], "", "fade", "cut", 0, 1, 4.0, 4)
    assert not checks[3]["is_valid"] and "continue, cut" in checks[3]["message"]
    with pytest.raises(gr.Error, match="write a prompt for shot 1"):
        story.storyboard("  ", frames=4, **FAST)
    with pytest.raises(gr.Error, match="sexual"):
        story.storyboard(SHOTS[0], "n.a.k.e.d people", frames=4, **FAST)


def test_remix_of_an_upload_names_its_parent(served, tmp_path, tiny_pipe):
    _, client = served
    parent = Recipe.from_call(tiny_pipe, "a red square moves", seed=1, steps=1, frames=4)
    source, _ = _video(tmp_path, "source.mp4", recipe=parent)
    path = client.predict("a blue ball rolls", handle_file(source), None, 0.5, seed=2,
                           api_name="/remix", steps=2, guidance=4.0)
    recipe = read_metadata(path)
    assert recipe.derivation == "remix" and recipe.strength == 0.5
    assert recipe.parents == (read_metadata(source).id,)
    assert read_video(path, size=(32, 32)).shape == (4, 32, 32, 3)
    assert abs(len(read_audio(path, sample_rate=16_000)) - 16_000 * 4 / 8) <= 1024  # heard in its new frames


def test_remix_of_another_size_is_resized(served, tmp_path):
    _, client = served
    source, _ = _video(tmp_path, "big.mp4", size=(48, 48))
    path = client.predict("a blue ball rolls", handle_file(source), None, 1.0, seed=0,
                           api_name="/remix", **FAST)
    assert read_metadata(path).width == 32 and read_video(path, size=(32, 32)).shape[0] == 4


def test_bad_remix_inputs_get_a_clear_message(served, tmp_path):
    _, client = served
    good, _ = _video(tmp_path, "good.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    wide, _ = _video(tmp_path, "wide.mp4", size=(32, 64))
    cases = [
        (("a ball", handle_file(good), None, 1.5), "strength must be a number from 0 to 1"),
        (("a ball", None, None, 0.5), "upload a clip to remix, or click a clip"),
        (("a ball", None, 99, 0.5), r"this session's gallery has \d+ clips"),
        (("a ball", handle_file(str(text)), None, 0.5), "not a video file"),
        (("a ball", handle_file(wide), None, 0.5), "roughly square"),
        (("", handle_file(good), None, 0.5), "prompt is empty"),
        (("a video of n.a.k.e.d people", handle_file(good), None, 0.5), "sexual"),
    ]
    for args, message in cases:
        with pytest.raises(ValidationError, match=message):
            client.predict(*args, seed=0, api_name="/remix", **FAST)


def test_remix_a_gallery_clip_and_a_long_clip(served, tmp_path, tiny_pipe):
    app, _ = served
    story = app.sorakit_story
    film, _, gallery = story.storyboard(SHOTS[0], SHOTS[1], frames=4, **FAST)
    assert len(gallery) == 1 and gallery[0][1].startswith("storyboard: ")
    out, gallery = story.remix("a blue ball", None, 0, 0.5, seed=1, steps=2, guidance=4.0, gallery=gallery)
    assert read_metadata(out).parents == (read_metadata(film).id,)  # the gallery clip's recipe is the parent
    assert len(gallery) == 2 and gallery[0][1].startswith("remix of ")
    long, _ = _video(tmp_path, "long.mp4", frames=40)
    with pytest.raises(gr.Error, match="40 frames; the demo remixes at most 32"):
        story.remix("a ball", long, None, 0.5, **FAST)


def test_a_storyboard_whose_client_left_ends_after_the_shot_it_is_on(served):
    """Like /generate between steps, /storyboard asks between shots whether its client is still there."""
    from sorakit.demo.endpoints import ClientGone

    app, _ = served
    story = app.sorakit_story
    asked, kept = [], story.base.client_alive
    story.base.client_alive = lambda session: asked.append(session) is not None  # gone at the first ask

    class Request:
        session_hash = "tab-2"

    try:
        with pytest.raises(ClientGone, match="after shot 1 of 3"):
            story.storyboard(SHOTS[0], SHOTS[1], SHOTS[1], frames=4, request=Request(), **FAST)
        assert asked == ["tab-2"]  # asked once: shots 2 and 3 were never sampled
    finally:
        story.base.client_alive = kept
