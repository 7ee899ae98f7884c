// SeedGrid: rows of looping clips (one row per prompt variant, one column per seed); click picks one.

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
  el.classList.add("sorakit-grid");
  let timer = null, frame = 0, cells = [], token = 0;

  async function build() {
    const my = ++token;
    clearInterval(timer);
    const clips = model.get("clips"), cols = Math.max(1, model.get("columns")), size = model.get("size");
    const strips = await Promise.all(clips.map((c) => decodePng(c.png)));
    if (my !== token) return;
    el.replaceChildren();
    el.style.gridTemplateColumns = `repeat(${cols}, ${size + 8}px)`;
    cells = [];
    let row = null;
    clips.forEach((clip, i) => {
      if (clip.row !== row) { row = clip.row; el.append(h("div", { class: "sorakit-row-label" }, row)); }
      const canvas = h("canvas", { width: String(size), height: String(size) });
      const cell = h("div", { class: "sorakit-cell", "data-index": String(i), title: `${clip.row} (seed ${clip.seed})`,
        onclick: () => model.send({ event: "pick", index: i }) }, canvas, h("span", {}, `seed ${clip.seed}`));
      el.append(cell);
      cells.push({ cell, ctx: canvas.getContext("2d"), strip: strips[i], clip });
    });
    mark();
    frame = 0; tick();
    const fps = model.get("fps");
    if (clips.length) timer = setInterval(tick, 1000 / fps);
  }
  function tick() {
    for (const { ctx, strip, clip } of cells) {
      if (strip) drawStripFrame(ctx, strip, frame % clip.frames, clip.height, clip.width, false);
    }
    frame += 1;
  }
  function mark() {
    const picked = model.get("picked");
    cells.forEach(({ cell }, i) => cell.classList.toggle("picked", i === picked));
  }
  model.on("change:clips", build);
  model.on("change:picked", mark);
  build();
  return () => { clearInterval(timer); model.off("change:clips", build); model.off("change:picked", mark); };
}

export default { render };
