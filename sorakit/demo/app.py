"""The Gradio app: inputs on the left; Clip / Attention / Physics tabs on the right; and launching it.

Named API (gradio_client): `/generate`, `/attention`, `/probe`, `/storyboard`, `/remix`, each taking
the prompt first (the storyboard and remix tabs live in story_tabs.py). All share one concurrency
group with limit 1 (each job already uses every core through torch), behind a bounded queue; the
validators run before a job is queued.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..families.defaults import SORAKIT
from .cleanup import private_gradio_cache, stop_on_sigterm, sweep_stale
from .endpoints import Endpoints, OutputDir
from .guard import Guard
from .queue_guard import bound_queue, session_alive
from .story_tabs import StoryTabs
from .validation import RefusedImage

QUEUE_SIZE = 16  # waiting jobs; at a few seconds per clip on 2 cores that is about a minute of wait
CACHE_SECONDS = 3600  # files served to browsers are deleted after an hour (and all on shutdown)
MAX_UPLOAD = 10 << 20  # bytes: a first frame (a 4096 px photo) fits; sorakit reads only its header before the queue
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXAMPLES = [
    ["a red ball is thrown to the right and bounces twice", 0],
    ["a big blue ball rolls across the floor to the left", 1],
    ["a tiny green ball is shot at the hoop on the left and scores", 2],
    ["a small red ball and a big yellow ball fly and bounce, hitting each other", 3],
]
# Clips are tiny and upscaled with nearest neighbour: keep the pixels sharp when the browser scales.
CSS = "video, #gallery img { image-rendering: pixelated; }"
INTRO = """# sorakit
A tiny spacetime diffusion transformer trained on a 2D physics world, running on CPU.
Describe a clip (balls, colours, sizes, throws, bounces, hoops), press **Generate**, then look at
what each word attends to (**Attention**) and whether the clip obeys physics (**Physics**).
The Attention and Physics tabs use the inputs on the left, so they analyse the clip you generated."""


def foreign_intro(spec, checks) -> str:
    """The page's introduction for a diffusers pipeline (the default one describes sorakit's own model)."""
    model = checks.pipe.config.get("_name_or_path") or spec.pipeline
    return (f"# sorakit\n{spec.pipeline} ({spec.family}) from `{model}`, making {checks.height}x{checks.width} clips "
            f"at {spec.fps:g} fps. Describe a clip and press **Generate**; **Attention** shows where each word "
            "looks, **Physics** runs sorakit's physics probes (made for its ball world) on the clip.")


def launch(pipe=None, host: str = "127.0.0.1", port: int | None = None, share: bool = False,
           auth: tuple[str, str] | None = None, *, queue_size: int = QUEUE_SIZE, moderation=True,
           size: tuple[int, int] | None = None, **launch_kwargs: Any):
    """Build and launch the app; return the running `gr.Blocks` (call `.close()` to stop it).

    pipe: a SpacetimePipeline (default: `sorakit.load()`, the shipped model) or a supported diffusers
    video pipeline (`sorakit.load(path)`); size: (height, width) of its clips (default: the pipeline's).
    Loopback only, no share link, no analytics and no traffic-monitoring page unless asked;
    `auth=(user, password)` puts a login in front. Extra keyword arguments go to `gr.Blocks.launch`
    (e.g. `prevent_thread_lock=True` to return at once from a script or test; notebooks return at once anyway).

    Starting sweeps what killed demos left; SIGTERM shuts down like Ctrl-C; every response passes
    `guard.Guard` (sizes, Host, login rate, security headers). See docs/demo-hardening.md.

    moderation: prompts and clips pass the moderation policy (sorakit.safety): True (the policy in use),
    a policy file or Moderation, or False, which only a loopback demo without a share link accepts.
    """
    shared = share or host not in LOOPBACK
    if shared and moderation in (False, None):
        raise ValueError("moderation cannot be turned off for a shared demo (--share or a non-loopback host)")
    sweep_stale()
    private_gradio_cache()  # before any component exists: they keep the folder they were made with
    if pipe is None:
        import sorakit

        pipe = sorakit.load()
    if auth is not None and (len(auth) != 2 or not all(isinstance(a, str) and a for a in auth)):
        raise ValueError("auth must be a (user, password) pair of non-empty strings")
    if (share or host not in LOOPBACK) and auth is None:
        warnings.warn("the demo is reachable from other machines without a login; pass auth=(user, password)",
                      stacklevel=2)
    app = build_app(pipe, queue_size=queue_size, moderation=moderation, size=size)
    app_kwargs = dict(launch_kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                Middleware(Guard, loopback_only=not shared, shared=shared, max_upload=MAX_UPLOAD)]
    options = dict(server_name=host, server_port=port, share=share, auth=auth, enable_monitoring=False,
                   run_history=False, max_file_size=MAX_UPLOAD, footer_links=["api"], css=CSS, app_kwargs=app_kwargs)
    if not launch_kwargs.get("prevent_thread_lock") and "ipykernel" not in sys.modules:
        stop_on_sigterm()  # launch blocks this process: a SIGTERM then cleans up as Ctrl-C does
    app.launch(**{**options, **launch_kwargs})
    return app


def build_app(pipe, *, queue_size: int = QUEUE_SIZE, outputs: OutputDir | None = None, moderation=True,
              size: tuple[int, int] | None = None) -> gr.Blocks:
    """The demo for `pipe` (not launched). `app.close()` also removes its output folder. `moderation`, `size`:
    as for launch. The controls follow what the pipeline accepts (sorakit.families.defaults)."""
    endpoints = Endpoints(pipe, outputs or OutputDir(max_age=CACHE_SECONDS), moderation=moderation, size=size)
    lim, spec = endpoints.checks.limits, endpoints.checks.spec
    frame_counts = spec.allowed_frames(*lim.demo_frames)
    model = "model"  # one concurrency group for every job that runs the model
    with gr.Blocks(title="sorakit demo", analytics_enabled=False, delete_cache=(300, CACHE_SECONDS)) as app:
        gr.Markdown(INTRO if spec.family == SORAKIT else foreign_intro(spec, endpoints.checks))
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", lines=2, elem_id="prompt",
                                    placeholder="a red ball is thrown to the right and bounces twice")
                negative = gr.Textbox(label="Negative prompt", value="", visible=spec.negative_prompt,
                                      placeholder="optional: what to steer away from")
                with gr.Row():
                    seed = Number(label="Seed", info="the seed used is shown after each run", value=0, precision=0)
                    randomize = gr.Checkbox(label="Randomize seed", value=False)
                steps = Slider(max(lim.demo_steps[0], spec.min_steps), lim.demo_steps[1], step=1, label="Steps",
                               value=min(max(spec.steps, spec.min_steps), lim.demo_steps[1]))
                guidance = Slider(*lim.demo_guidance, value=min(spec.guidance, lim.demo_guidance[1]), step=0.5,
                                  label="Guidance")
                frames = Slider(frame_counts[0], frame_counts[-1], value=endpoints.checks.default_frames(),
                                step=spec.frame_step, label="Frames", info=f"{spec.frame_rule} ({spec.pipeline})")
                image = Image(label="First frame (required: image-to-video)" if spec.first_frame_required else
                              "First frame (optional: image-to-video)", type="filepath", visible=bool(spec.first_frame),
                              sources=["upload", "clipboard"], image_mode=None, height=180)
                run = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column():
                with gr.Tab("Clip"):
                    video = gr.Video(label="Clip", autoplay=True, loop=True, interactive=False, elem_id="clip",
                                     height=380)
                    gallery = gr.Gallery(label="Clips made in this session", columns=6, height=150, fit_columns=False,
                                         object_fit="contain", allow_preview=False, interactive=False,
                                         elem_id="gallery")
                with gr.Tab("Attention"):
                    word = gr.Dropdown(label="Word", choices=[], allow_custom_value=True)
                    show_attention = gr.Button("Show attention")
                    attention_video = gr.Video(label="Where the word looks", autoplay=True, loop=True,
                                               interactive=False, elem_id="attention", height=380)
                with gr.Tab("Physics"):
                    run_probes = gr.Button("Run physics probes")
                    verdicts = gr.Markdown()
                    plot = gr.Image(label="Probe plot", type="numpy", interactive=False)
                    report = gr.JSON(label="Report")
                story = StoryTabs(endpoints)
        gr.Examples(EXAMPLES, inputs=[prompt, seed], cache_examples=False)
        session = gr.State([])  # this browser session's (clip, caption) list
        settings = [negative, seed, steps, guidance, frames, image]
        story.wire(session, gallery, seed, steps, guidance, model)

        gr.on([run.click, prompt.submit], endpoints.generate,
              [prompt, negative, seed, randomize, steps, guidance, frames, image, session], [video, seed, session],
              validator=endpoints.check_generate, api_name="generate", concurrency_id=model,
              concurrency_limit=1, show_progress_on=[video]
              ).success(endpoints.show_gallery, session, gallery, queue=False, api_visibility="private")
        prompt.change(endpoints.word_choices, [prompt, word], word, queue=False, api_visibility="private")
        show_attention.click(endpoints.attention, [prompt, word, *settings], attention_video,
                             validator=endpoints.check_attention, api_name="attention",
                             concurrency_id=model, concurrency_limit=1)
        run_probes.click(endpoints.probe, [prompt, *settings], [verdicts, plot, report],
                         validator=endpoints.check_probe, api_name="probe",
                         concurrency_id=model, concurrency_limit=1)

    app.queue(max_size=queue_size, default_concurrency_limit=1)
    bound_queue(app)
    endpoints.client_alive = lambda session: session_alive(app, session)  # a job ends when its client leaves
    app.sorakit_handlers = endpoints  # what tests and scripts reach the endpoints by
    app.sorakit_story = story.endpoints
    _close = app.close

    def close(verbose: bool = True) -> None:
        try:
            _close(verbose)
        finally:
            endpoints.outputs.cleanup()

    app.close = close
    return app


# --- inputs whose values reach the event validator as sent ----------------------------------------
# gr.Slider/gr.Number check min/max while preprocessing, and that error reaches an API client only as
# an opaque HTTP 400; these templates (same widgets in the browser) leave the range check to the
# validator, whose message the browser shows on the field and gradio_client raises as ValidationError.
def _as_sent(payload: Any) -> Any:
    """Whole floats (JSON's 20.0) become ints; anything else is left for the validator to judge."""
    if isinstance(payload, float) and payload.is_integer():
        return int(payload)
    return payload


class Slider(gr.Slider):
    is_template = True  # rendered by the frontend's Slider

    def preprocess(self, payload: Any) -> Any:
        return _as_sent(payload)


class Number(gr.Number):
    is_template = True  # rendered by the frontend's Number

    def preprocess(self, payload: Any) -> Any:
        return _as_sent(payload)


class Image(gr.Image):
    """An image upload passed on as its cached file path, unopened.

    gr.Image decodes the upload while preprocessing, so a file that is not an image fails there as an
    opaque HTTP 400; the validator reads its header instead (refusing huge images before any decoding)
    and says what is wrong; the job decodes it. Gradio has already checked that the path is an upload.
    A `data:` URL is refused unread: Gradio would decode and re-encode it before any check (seconds
    of CPU and GBs for a small, hostile PNG) and keep the result in its cache.
    """

    is_template = True  # rendered by the frontend's Image

    def preprocess(self, payload: Any) -> Any:
        if payload is None:
            return None
        if (payload.url or "").startswith("data:") or (payload.path or "").startswith("data:"):
            return RefusedImage("the first frame must be uploaded as a file, not sent as a data: URL")
        if payload.path is None:
            return RefusedImage("the first frame must be an uploaded file")
        return str(payload.path)
