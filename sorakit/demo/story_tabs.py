"""The demo's Storyboard and Remix tabs: built inside the app's output column, wired once the session
exists. Seed, steps and guidance are the inputs on the left, as for every other tab.

Named API: `/storyboard` (prompt, prompt_2, prompt_3, transition_2, transition_3, seed, steps,
guidance, frames) and `/remix` (prompt, clip, pick, strength, seed, steps, guidance).
"""
from __future__ import annotations

import gradio as gr

from .endpoints import Endpoints
from .story import SHOTS, TRANSITIONS, StoryEndpoints

EXAMPLE_SHOTS = ("a red ball is thrown to the right", "the red ball bounces twice", "a blue ball falls")


class StoryTabs:
    def __init__(self, endpoints: Endpoints):
        """Render the two tabs (call inside the app's gr.Tabs / column)."""
        from .app import Number, Slider  # the app's validator-friendly inputs (app imports this module)

        self.endpoints = story = StoryEndpoints(endpoints)
        lim, window = endpoints.checks.limits, story.window
        with gr.Tab("Storyboard", visible=story.native):
            gr.Markdown("Two or three shots joined into one film: each shot after the first **continues** the "
                        "last one or **cuts** to a new view of the same world. Seed, steps and guidance are on "
                        "the left. Leave shot 3 empty for two shots.")
            self.prompts, self.transitions = [], []
            for i in range(SHOTS):
                with gr.Row():
                    if i:
                        self.transitions.append(gr.Radio(list(TRANSITIONS), value=TRANSITIONS[i - 1], scale=1,
                                                         label=f"Shot {i + 1} follows by",
                                                         elem_id=f"transition-{i + 1}"))
                    self.prompts.append(gr.Textbox(label=f"Shot {i + 1}", placeholder=EXAMPLE_SHOTS[i], scale=3,
                                                   elem_id=f"shot-{i + 1}"))
            self.frames = Slider(lim.demo_frames[0], min(lim.demo_frames[1], window), step=1,
                                 value=min(8, window), label="Frames per shot",
                                 info=f"the film is at most {lim.demo_frames[1]} frames")
            self.run_storyboard = gr.Button("Generate storyboard", variant="primary", elem_id="storyboard-run")
            self.film = gr.Video(label="Film", autoplay=True, loop=True, interactive=False, elem_id="film",
                                 height=320)
            self.timeline = gr.Markdown(label="Shots", elem_id="timeline")  # gr.HTML evaluates JS: the CSP forbids it
        with gr.Tab("Remix", visible=story.native):
            gr.Markdown("Remake a clip with a new prompt (SDEdit): upload one, or click a clip this session "
                        "made. Strength 0 keeps the clip, 1 ignores it.")
            self.remix_prompt = gr.Textbox(label="Prompt for the remix", elem_id="remix-prompt",
                                           placeholder="a blue ball is thrown to the right")
            with gr.Row():
                self.clip = gr.Video(label="Clip to remix (upload)", sources=["upload"], elem_id="remix-clip",
                                     height=200)
                with gr.Column():
                    self.picker = gr.Gallery(label="or pick a clip of this session", columns=4, height=150,
                                             allow_preview=False, interactive=False, object_fit="contain",
                                             elem_id="remix-gallery")
                    self.pick = Number(label="Gallery clip", info="0 is the newest; empty: the upload",
                                       value=None, precision=0, elem_id="remix-pick")
            self.strength = Slider(0.0, 1.0, value=0.6, step=0.05, label="Strength", elem_id="strength")
            self.run_remix = gr.Button("Remix", variant="primary", elem_id="remix-run")
            self.remix = gr.Video(label="Remix", autoplay=True, loop=True, interactive=False, elem_id="remix",
                                  height=320)

    def wire(self, session: gr.State, gallery: gr.Gallery, seed, steps, guidance, concurrency_id: str) -> None:
        """Connect the tabs' events (after the app has made the session and its gallery)."""
        story, show = self.endpoints, self.endpoints.base.show_gallery
        job = dict(concurrency_id=concurrency_id, concurrency_limit=1)
        self.run_storyboard.click(
            story.storyboard, [*self.prompts, *self.transitions, seed, steps, guidance, self.frames, session],
            [self.film, self.timeline, session], validator=story.check_storyboard, api_name="storyboard",
            show_progress_on=[self.film], **job).success(show, session, gallery, queue=False, api_visibility="private")
        self.run_remix.click(
            story.remix, [self.remix_prompt, self.clip, self.pick, self.strength, seed, steps, guidance, session],
            [self.remix, session], validator=story.check_remix, api_name="remix", show_progress_on=[self.remix],
            **job).success(show, session, gallery, queue=False, api_visibility="private")
        session.change(show, session, self.picker, queue=False, api_visibility="private")
        self.picker.select(picked, None, self.pick, queue=False, api_visibility="private")


def picked(event: gr.SelectData) -> int:
    """A click on the session gallery: that clip's number."""
    return event.index
