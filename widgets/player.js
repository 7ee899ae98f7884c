// Player: canvas video with scrubber, play/pause, speed and a frame-synced heat overlay.

// Helpers. anywidget loads one file per widget and there is no bundler, so each module carries the
// helpers it uses; a helper in several modules is the same text in each (tests/test_widgets_package.py).

/** PNG bytes (DataView / ArrayBuffer / typed array from a Bytes trait) -> ImageBitmap, or null if empty. */
async function decodePng(bytes) {
  if (!bytes || bytes.byteLength === 0) return null;
  const buf = bytes.buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  return await createImageBitmap(new Blob([buf], { type: "image/png" }));
}

/** Draw frame `i` of a vertical strip (frames of height h, width w) over the whole canvas. */
function drawStripFrame(ctx, strip, i, h, w, smooth = false) {
  ctx.imageSmoothingEnabled = smooth;
  ctx.drawImage(strip, 0, i * h, w, h, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

// Heat colour map: black-purple-red-orange-yellow stops (like "inferno"), alpha grows with heat.
const HEAT_STOPS = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
const HEAT_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let v = 0; v < 256; v++) {
    const s = (v / 255) * (HEAT_STOPS.length - 1), k = Math.min(Math.floor(s), HEAT_STOPS.length - 2), f = s - k;
    for (let c = 0; c < 3; c++) lut[v * 3 + c] = HEAT_STOPS[k][c] * (1 - f) + HEAT_STOPS[k + 1][c] * f;
  }
  return lut;
})();

/** Grey strip ImageBitmap -> canvas of the same size, coloured by HEAT_LUT with alpha = opacity * heat. */
function colourHeat(strip, opacity) {
  const c = document.createElement("canvas");
  c.width = strip.width; c.height = strip.height;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(strip, 0, 0);
  const img = ctx.getImageData(0, 0, c.width, c.height), d = img.data;
  for (let p = 0; p < d.length; p += 4) {
    const v = d[p];
    d[p] = HEAT_LUT[v * 3]; d[p + 1] = HEAT_LUT[v * 3 + 1]; d[p + 2] = HEAT_LUT[v * 3 + 2];
    d[p + 3] = Math.round(255 * opacity * Math.min(1, 0.15 + v / 255));
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Tiny element builder: h("button", {class: "x", onclick}, "text"). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function render({ model, el }) {
  const canvas = h("canvas", { class: "sorakit-player-canvas" });
  const play = h("button", { class: "sorakit-btn sorakit-play", title: "play / pause" });
  const scrub = h("input", { type: "range", class: "sorakit-scrub", min: "0", step: "1", value: "0" });
  const speed = h("select", { class: "sorakit-speed", title: "speed" });
  for (const s of [0.25, 0.5, 1, 2]) speed.append(h("option", { value: String(s) }, `${s}x`));
  const counter = h("span", { class: "sorakit-counter" });
  const caption = h("div", { class: "sorakit-caption" });
  const heatLabel = h("div", { class: "sorakit-heat-label" });
  const marks = h("div", { class: "sorakit-markers" });  // timeline marks (e.g. shot starts) under the scrubber
  // The soundtrack (as long as the clip, so it loops with it); while it plays, its clock picks the frame.
  const sound = h("audio", { class: "sorakit-audio", preload: "auto" });
  sound.loop = true;
  el.classList.add("sorakit-player");
  el.append(canvas, h("div", { class: "sorakit-controls" }, play, scrub, speed, counter), marks, caption, heatLabel, sound);

  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let strip = null, heatStrip = null, heatColoured = null, frame = 0, timer = null, token = 0;

  function n() { return model.get("num_frames"); }
  function draw() {
    const size = model.get("size"), fh = model.get("frame_height"), fw = model.get("frame_width");
    const scale = fh && fw ? size / Math.max(fh, fw) : 1;
    canvas.width = Math.max(1, Math.round((fw || size) * scale));
    canvas.height = Math.max(1, Math.round((fh || size) * scale));
    ctx.fillStyle = "#222"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!strip) {
      ctx.fillStyle = "#aaa"; ctx.font = "14px sans-serif"; ctx.fillText("no clip yet: press Generate", 12, 24);
    } else {
      drawStripFrame(ctx, strip, frame, fh, fw, false);
      if (heatColoured && frame < model.get("heat_frames")) {
        drawStripFrame(ctx, heatColoured, frame, model.get("heat_height"), model.get("heat_width"), false);
      }
      const p = (model.get("points") || [])[frame];
      if (p) {
        ctx.strokeStyle = "#0f0"; ctx.lineWidth = 2; ctx.beginPath();
        ctx.arc(p[1] * scale, p[0] * scale, Math.max(4, scale * 1.5), 0, 2 * Math.PI); ctx.stroke();
      }
    }
    canvas.dataset.clipId = String(model.get("clip_id"));
    canvas.dataset.heatId = heatColoured ? String(model.get("heat_id")) : "";
    canvas.dataset.frame = String(frame);
    scrub.max = String(Math.max(0, n() - 1)); scrub.value = String(frame);
    counter.textContent = n() ? `${frame + 1}/${n()}` : "";
    play.textContent = model.get("playing") ? "❚❚" : "▶";
    caption.textContent = model.get("label");
    heatLabel.textContent = heatColoured ? model.get("heat_label") : "";
    let current = -1;  // the last mark at or before this frame (the shot being shown)
    marks.querySelectorAll(".sorakit-marker").forEach((m, i) => { if (+m.dataset.frame <= frame) current = i; });
    marks.querySelectorAll(".sorakit-marker").forEach((m, i) => m.classList.toggle("current", i === current));
  }
  function drawMarkers() {
    marks.replaceChildren();
    const list = model.get("markers") || [], last = Math.max(1, n() - 1);
    list.forEach((m, i) => {
      const b = h("button", { class: "sorakit-marker", title: m.label || `frame ${m.frame + 1}`,
        "data-index": String(i), "data-frame": String(m.frame),
        onclick: () => { model.set("playing", false); setFrame(m.frame, true); model.send({ event: "marker", index: i }); },
      }, String(i + 1));
      b.style.left = `${(100 * m.frame) / last}%`;
      marks.append(b);
    });
    canvas.dataset.markers = String(list.length);
    draw();
  }

  let soundUrl = null, started = 0, startFrame = 0;  // wall clock and frame when playing (re)started
  function soundLeads() { return !!soundUrl && !sound.paused && sound.readyState >= 2; }
  function tick() {  // the frame due now: by the sound's clock while it plays, else by the wall clock
    const fps = model.get("fps");
    const f = soundLeads() ? Math.floor(sound.currentTime * fps + 1e-6) % n()
      : (startFrame + Math.floor(((performance.now() - started) / 1000) * fps * model.get("speed"))) % n();
    if (f !== frame) { frame = f; draw(); }
  }
  function syncSound() {  // the sound at the shown frame's time, playing or paused with the frames
    if (!soundUrl) return;
    sound.muted = model.get("muted"); sound.playbackRate = model.get("speed");
    sound.currentTime = frame / model.get("fps");
    if (model.get("playing") && n() > 1) {
      if (sound.paused) sound.play().catch(() => { el.dataset.soundBlocked = "true"; });  // autoplay policy
    } else if (!sound.paused) sound.pause();
  }
  function loadSound() {
    const bytes = model.get("audio_wav");
    if (soundUrl) { URL.revokeObjectURL(soundUrl); soundUrl = null; sound.pause(); sound.removeAttribute("src"); }
    if (bytes && bytes.byteLength) {
      const buf = bytes.buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
      soundUrl = URL.createObjectURL(new Blob([buf], { type: "audio/wav" }));
      sound.src = soundUrl;
    }
    sound.load(); syncSound();
  }

  function schedule() {
    clearInterval(timer); timer = null;
    if (model.get("playing") && n() > 1) {
      const ms = 1000 / (model.get("fps") * model.get("speed"));
      started = performance.now(); startFrame = frame;
      timer = setInterval(tick, Math.min(ms, 20));
    }
    syncSound();
  }
  function setFrame(i, sync) {
    frame = Math.max(0, Math.min(n() - 1, i | 0)); draw();
    started = performance.now(); startFrame = frame; syncSound();
    if (sync) { model.set("frame", frame); model.save_changes(); }
  }
  async function loadVideo() {
    const my = ++token;
    const bmp = await decodePng(model.get("video_png"));
    if (my !== token) return;  // a newer clip arrived while decoding
    strip = bmp; frame = Math.min(model.get("frame"), Math.max(0, n() - 1));
    await loadHeat();
    schedule();
  }
  async function loadHeat() {
    const bmp = await decodePng(model.get("heat_png"));
    heatStrip = bmp; recolour();
  }
  function recolour() { heatColoured = heatStrip ? colourHeat(heatStrip, model.get("opacity")) : null; draw(); }

  play.addEventListener("click", () => {
    model.set("playing", !model.get("playing"));
    if (!model.get("playing")) model.set("frame", frame);
    model.save_changes();
  });
  scrub.addEventListener("input", () => {
    const to = +scrub.value;  // read first: pausing redraws, which puts the scrubber back at the shown frame
    if (model.get("playing")) { model.set("playing", false); }
    setFrame(to, true);
  });
  speed.addEventListener("change", () => { model.set("speed", +speed.value); model.save_changes(); });
  canvas.addEventListener("click", (e) => {
    if (!strip) return;
    const r = canvas.getBoundingClientRect();
    const y = Math.floor(((e.clientY - r.top) / r.height) * model.get("frame_height"));
    const x = Math.floor(((e.clientX - r.left) / r.width) * model.get("frame_width"));
    model.send({ event: "click", frame, y, x });
  });

  const onPlaying = () => { schedule(); draw(); };
  const onFrame = () => setFrame(model.get("frame"), false);
  const onSpeed = () => { speed.value = String(model.get("speed")); schedule(); };
  model.on("change:video_png", loadVideo);
  model.on("change:heat_png", loadHeat);
  model.on("change:opacity", recolour);
  model.on("change:playing", onPlaying);
  model.on("change:fps", schedule);
  model.on("change:speed", onSpeed);
  model.on("change:frame", onFrame);
  model.on("change:points", draw);
  model.on("change:markers", drawMarkers);
  const onMuted = () => { sound.muted = model.get("muted"); };
  model.on("change:audio_wav", loadSound);
  model.on("change:muted", onMuted);
  model.on("change:label", draw);
  model.on("change:heat_label", draw);
  model.on("change:size", draw);
  speed.value = String(model.get("speed"));
  drawMarkers();
  loadSound();
  loadVideo();
  return () => {
    clearInterval(timer); sound.pause();
    if (soundUrl) URL.revokeObjectURL(soundUrl);
    model.off("change:audio_wav", loadSound); model.off("change:muted", onMuted);
    for (const [ev, fn] of [["video_png", loadVideo], ["heat_png", loadHeat], ["opacity", recolour],
      ["playing", onPlaying], ["fps", schedule], ["speed", onSpeed], ["frame", onFrame], ["points", draw], ["markers", drawMarkers],
      ["label", draw], ["heat_label", draw], ["size", draw]]) model.off(`change:${ev}`, fn);
  };
}

export default { render };
