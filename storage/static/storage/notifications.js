/* Kiln bucket browser: the bucket's notification configurations as a form (one card per configuration:
   id, event types, key prefix and suffix, function), with a JSON view kept in step. Saves the whole list
   with PUT /api/v1/buckets/<name>/notifications/; the API's error message is shown as it comes. */
(function () {
  "use strict";
  const root = document.getElementById("bucket-browser");
  const api = root.dataset.api;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const EVENTS = ["s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete"];
  const form = document.getElementById("notifications-form");
  const json = document.getElementById("notifications");
  const toggle = document.getElementById("notifications-json-toggle");
  const status = document.getElementById("notifications-status");
  let functions = [];

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (node.textContent = v) : node.setAttribute(k, v)));
    children.forEach((c) => node.append(c));
    return node;
  };
  const field = (label, input) => el("label", { class: "kn-field" }, el("span", { text: label }), input);

  function card(config) {
    const box = el("fieldset", { class: "kn-config module" });
    const id = el("input", { type: "text", class: "kn-id", value: config.id || "", placeholder: "generated if empty" });
    const fn = el("select", { class: "kn-function", required: "" });
    fn.append(el("option", { value: "", text: "— choose a function —" }));
    const names = functions.slice();
    if (config.function && !names.includes(config.function)) names.push(config.function);
    names.forEach((name) => fn.append(el("option", { value: name, text: name })));
    fn.value = config.function || "";
    const events = el("div", { class: "kn-events" });
    const chosen = new Set(config.events || ["s3:ObjectCreated:*"]);
    EVENTS.forEach((name) => {
      const box = el("input", { type: "checkbox", value: name });
      box.checked = chosen.has(name);
      events.append(el("label", { class: "kn-event" }, box, " " + name.replace("s3:", "")));
    });
    const filter = config.filter || {};
    const prefix = el("input", { type: "text", class: "kn-prefix", value: filter.prefix || "", placeholder: "e.g. uploads/" });
    const suffix = el("input", { type: "text", class: "kn-suffix", value: filter.suffix || "", placeholder: "e.g. .jpg" });
    const remove = el("button", { type: "button", class: "button kn-remove", text: "Remove" });
    remove.onclick = () => { box.remove(); syncJson(); };
    box.append(el("div", { class: "kn-row" }, field("Id", id), field("Function", fn), field("Key prefix", prefix), field("Key suffix", suffix), remove),
      field("Events", events));
    box.addEventListener("input", syncJson);
    box.addEventListener("change", syncJson);
    return box;
  }

  function readForm() {
    return Array.from(form.querySelectorAll(".kn-config")).map((box) => {
      const config = { events: Array.from(box.querySelectorAll(".kn-events input:checked")).map((b) => b.value), function: box.querySelector(".kn-function").value };
      const id = box.querySelector(".kn-id").value.trim();
      if (id) config.id = id;
      const prefix = box.querySelector(".kn-prefix").value, suffix = box.querySelector(".kn-suffix").value;
      if (prefix || suffix) config.filter = Object.assign(prefix ? { prefix } : {}, suffix ? { suffix } : {});
      return config;
    });
  }

  function render(list) {
    form.replaceChildren(...list.map(card));
    if (!list.length) form.append(el("p", { class: "kn-empty", text: "No notifications: uploads trigger nothing." }));
    json.value = JSON.stringify(list, null, 2);
  }
  function syncJson() { if (!toggle.checked) json.value = JSON.stringify(readForm(), null, 2); }

  function current() {
    if (!toggle.checked) return readForm();
    return JSON.parse(json.value || "[]");  // throws with the parser's message
  }

  toggle.onchange = () => {
    if (toggle.checked) { json.value = JSON.stringify(readForm(), null, 2); json.hidden = false; form.hidden = true; return; }
    try { render(JSON.parse(json.value || "[]")); json.hidden = true; form.hidden = false; status.textContent = ""; }
    catch (err) { toggle.checked = true; status.textContent = "Not valid JSON: " + err.message; }
  };
  document.getElementById("add-notification").onclick = () => {
    if (toggle.checked) { toggle.checked = false; toggle.onchange(); }
    form.querySelector(".kn-empty")?.remove();
    form.append(card({}));
    syncJson();
  };
  document.getElementById("save-notifications").onclick = async () => {
    let list;
    try { list = current(); } catch (err) { status.textContent = "Not valid JSON: " + err.message; return; }
    status.textContent = "Saving…";
    const response = await fetch(api + "notifications/", { method: "PUT", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, body: JSON.stringify(list) });
    const data = await response.json();
    if (response.ok) { status.textContent = "Saved."; render(data); if (toggle.checked) json.value = JSON.stringify(data, null, 2); }
    else status.textContent = data.error.message;
  };

  async function load() {
    const [configs, fns] = await Promise.all([
      fetch(api + "notifications/", { credentials: "same-origin" }).then((r) => r.json()),
      fetch(document.getElementById("notifications-editor").dataset.functions, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : { results: [] })),
    ]);
    functions = (fns.functions || []).map((f) => f.name).sort();
    render(configs);
  }
  load();
})();
