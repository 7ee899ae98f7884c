// SweepTableView: a sweep's results table. Python sorts and filters (pandas) and sends the rows in order;
// clicking a column header asks Python to sort by it, clicking a row asks it to play that cell's clip.
// The clip plays in the Player widget beside the table: no video code here.

function render({ model, el }) {
  el.classList.add("sorakit-sweep-table");
  const table = document.createElement("table");
  el.append(table);

  function header() {
    const sortBy = model.get("sort_by"), order = model.get("ascending") ? "asc" : "desc";
    const tr = document.createElement("tr");
    for (const column of model.get("columns")) {
      const th = document.createElement("th");
      th.dataset.column = column;
      th.title = `sort by ${column}`;
      th.textContent = column.replaceAll("_", " ") + (column === sortBy ? (order === "asc" ? " ▲" : " ▼") : "");
      if (column === sortBy) th.dataset.order = order;
      th.addEventListener("click", () => model.send({ event: "sort", column }));
      tr.append(th);
    }
    const thead = document.createElement("thead");
    thead.append(tr);
    return thead;
  }

  function body() {
    const selected = model.get("selected"), tbody = document.createElement("tbody");
    for (const row of model.get("rows")) {
      const tr = document.createElement("tr");
      tr.dataset.key = row.key;
      if (row.key === selected) tr.classList.add("selected");
      for (const text of row.cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      tr.addEventListener("click", () => model.send({ event: "pick", key: row.key }));
      tbody.append(tr);
    }
    return tbody;
  }

  function draw() {
    table.replaceChildren(header(), body());
    table.dataset.sortBy = model.get("sort_by");
  }
  function mark() {
    const selected = model.get("selected");
    for (const tr of table.querySelectorAll("tbody tr")) tr.classList.toggle("selected", tr.dataset.key === selected);
  }
  const events = [["columns", draw], ["rows", draw], ["sort_by", draw], ["ascending", draw], ["selected", mark]];
  for (const [name, fn] of events) model.on(`change:${name}`, fn);
  draw();
  return () => { for (const [name, fn] of events) model.off(`change:${name}`, fn); };
}

export default { render };
