// Shared helpers for the sorakit widgets (prepended to each widget module by sorakit/ui/assets.py).

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
