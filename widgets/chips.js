// WordChips: one chip per prompt word; clicking selects it (clicking it again clears the selection).

// Helpers. anywidget loads one file per widget and there is no bundler, so each module carries the
// helpers it uses; a helper in several modules is the same text in each (tests/test_widgets_package.py).

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
  el.classList.add("sorakit-chips");
  function draw() {
    el.replaceChildren();
    const selected = model.get("selected");
    for (const word of model.get("words")) {
      const chip = h("button", {
        class: "sorakit-chip" + (word === selected ? " selected" : ""), "data-word": word,
        onclick: () => { model.set("selected", word === model.get("selected") ? "" : word); model.save_changes(); },
      }, word);
      el.append(chip);
    }
  }
  model.on("change:words", draw);
  model.on("change:selected", draw);
  draw();
  return () => { model.off("change:words", draw); model.off("change:selected", draw); };
}

export default { render };
