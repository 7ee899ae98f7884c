// WordChips: one chip per prompt word; clicking selects it (clicking it again clears the selection).

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
