"""The Gradio Blocks: inputs on the left; Clip / Attention / Physics tabs on the right.

Named API (gradio_client): `/generate`, `/attention`, `/probe`, each taking the prompt first.
All three share one concurrency group with limit 1 (each job already uses every core through
torch), behind a bounded queue; the validators run before a job is queued.
"""
from __future__ import annotations

import gradio as gr

from .components import Image, Number, Slider
from .files import OutputDir
from .handlers import Handlers
from .queue_guard import bound_queue

QUEUE_SIZE = 16  # waiting jobs; at a few seconds per clip on 2 cores that is about a minute of wait
CACHE_SECONDS = 3600  # files served to browsers are deleted after an hour (and all on shutdown)
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


def build_app(pipe, *, queue_size: int = QUEUE_SIZE, outputs: OutputDir | None = None) -> gr.Blocks:
    """The demo for `pipe` (not launched). `app.close()` also removes its output folder."""
    handlers = Handlers(pipe, outputs or OutputDir(max_age=CACHE_SECONDS))
    lim = handlers.checks.limits
    model = "model"  # one concurrency group for every job that runs the model
    with gr.Blocks(title="sorakit demo", analytics_enabled=False, delete_cache=(300, CACHE_SECONDS)) as app:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", lines=2, elem_id="prompt",
                                    placeholder="a red ball is thrown to the right and bounces twice")
                negative = gr.Textbox(label="Negative prompt", value="", placeholder="optional: what to steer away from")
                with gr.Row():
                    seed = Number(label="Seed", info="the seed used is shown after each run", value=0, precision=0)
                    randomize = gr.Checkbox(label="Randomize seed", value=False)
                steps = Slider(*lim.steps, value=20, step=1, label="Steps")
                guidance = Slider(*lim.guidance, value=4.0, step=0.5, label="Guidance")
                frames = Slider(*lim.frames, value=int(pipe.config.get("num_frames", 16)), step=1, label="Frames")
                image = Image(label="First frame (optional: image-to-video)", type="filepath",
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
        gr.Examples(EXAMPLES, inputs=[prompt, seed], cache_examples=False)
        session = gr.State([])  # this browser session's (clip, caption) list
        recipe = [negative, seed, steps, guidance, frames, image]

        gr.on([run.click, prompt.submit], handlers.generate,
              [prompt, negative, seed, randomize, steps, guidance, frames, image, session], [video, seed, session],
              validator=handlers.check_generate, api_name="generate", concurrency_id=model,
              concurrency_limit=1, show_progress_on=[video]
              ).success(handlers.show_gallery, session, gallery, queue=False, api_visibility="private")
        prompt.change(handlers.word_choices, [prompt, word], word, queue=False, api_visibility="private")
        show_attention.click(handlers.attention, [prompt, word, *recipe], attention_video,
                             validator=handlers.check_attention, api_name="attention",
                             concurrency_id=model, concurrency_limit=1)
        run_probes.click(handlers.probe, [prompt, *recipe], [verdicts, plot, report],
                         validator=handlers.check_probe, api_name="probe",
                         concurrency_id=model, concurrency_limit=1)

    app.queue(max_size=queue_size, default_concurrency_limit=1)
    bound_queue(app)
    app.sorakit_handlers = handlers
    _close = app.close

    def close(verbose: bool = True) -> None:
        try:
            _close(verbose)
        finally:
            handlers.outputs.cleanup()

    app.close = close
    return app
