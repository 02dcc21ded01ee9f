/* Saved test events on a function's Test page, the same store as /api/v1/functions/{name}/test-events/:
   up to 10 per function, private (only their creator sees them) or shared; plus templates of the events
   Kiln's sources produce (/api/v1/test-event-templates/). Choosing one fills the event box. */
(function () {
  "use strict";
  const box = document.getElementById("test-events");
  if (!box) return;
  const api = box.dataset.api;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const select = document.getElementById("test-event-select");
  const saved = document.getElementById("test-event-saved");
  const templates = document.getElementById("test-event-templates");
  const name = document.getElementById("test-event-name");
  const shared = document.getElementById("test-event-shared");
  const del = document.getElementById("test-event-delete");
  const status = document.getElementById("test-event-status");
  const event = document.getElementById("event");
  let events = {}, shapes = {};

  const option = (value, text) => { const o = document.createElement("option"); o.value = value; o.textContent = text; return o; };
  const send = (method, url, body) => fetch(url, { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const setEvent = (value) => { event.value = JSON.stringify(value, null, 2); event.dispatchEvent(new Event("input", { bubbles: true })); };

  async function load(selectName) {
    const list = await (await fetch(api, { credentials: "same-origin" })).json();
    events = {};
    saved.replaceChildren(...(list.test_events || []).map((e) => { events[e.name] = e; return option("saved:" + e.name, e.name + (e.shared ? " (shared)" : "")); }));
    if (selectName) { select.value = "saved:" + selectName; pick(); }
  }
  async function loadTemplates() {
    const data = await (await fetch("/api/v1/test-event-templates/", { credentials: "same-origin" })).json();
    shapes = {};
    templates.replaceChildren(...(data.templates || []).map((t) => { shapes[t.id] = t; return option("template:" + t.id, t.name); }));
  }
  function pick() {
    const [kind, key] = select.value.split(/:(.*)/s);
    del.disabled = kind !== "saved";
    if (kind === "saved" && events[key]) { setEvent(events[key].event); name.value = key; shared.checked = events[key].shared; }
    else if (kind === "template" && shapes[key]) { setEvent(shapes[key].event); name.value = ""; shared.checked = false; }
    else { name.value = ""; shared.checked = false; }
  }
  select.addEventListener("change", pick);

  document.getElementById("test-event-save").addEventListener("click", async () => {
    let parsed;
    try { parsed = JSON.parse(event.value); } catch (err) { status.textContent = "The event is not valid JSON: " + err.message; return; }
    const wanted = name.value.trim();
    if (!wanted) { status.textContent = "Give the event a name."; name.focus(); return; }
    const exists = Object.prototype.hasOwnProperty.call(events, wanted);
    const response = exists ? await send("PUT", api + encodeURIComponent(wanted) + "/", { event: parsed, shared: shared.checked })
      : await send("POST", api, { name: wanted, event: parsed, shared: shared.checked });
    const data = await response.json();
    if (!response.ok) { status.textContent = data.error ? data.error.message : "Failed (" + response.status + ")"; return; }
    status.textContent = exists ? "Saved." : "Saved as a new event.";
    await load(wanted);
  });
  del.addEventListener("click", async () => {
    const [kind, key] = select.value.split(/:(.*)/s);
    if (kind !== "saved" || !window.confirm("Delete the saved event " + key + "?")) return;
    const response = await send("DELETE", api + encodeURIComponent(key) + "/");
    status.textContent = response.ok ? "Deleted." : "Failed (" + response.status + ")";
    select.value = "";
    await load();
    pick();
  });
  load();
  loadTemplates();
})();
