/* Kiln bucket browser: folders (common prefixes), drag-and-drop upload with a progress bar per file,
   download, delete, object details with the invocations each object triggered (notifications: notifications.js).
   Talks to the REST API with the console session and its CSRF token. */
(function () {
  "use strict";
  const root = document.getElementById("bucket-browser");
  const api = root.dataset.api;
  const bucket = root.dataset.bucket;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  let prefix = "";
  let cursor = null;

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (node.textContent = v) : node.setAttribute(k, v)));
    children.forEach((c) => node.append(c));
    return node;
  };
  const encodeKey = (key) => key.split("/").map(encodeURIComponent).join("/");
  const objectUrl = (key) => api + "objects/" + encodeKey(key);
  const size = (n) => (n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KB" : (n / 1048576).toFixed(1) + " MB");
  const send = (method, url, body) =>
    fetch(url, { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

  function renderCrumbs() {
    const nav = document.getElementById("crumbs");
    nav.replaceChildren();
    const rootLink = el("a", { href: "#", text: bucket + " /" });
    rootLink.onclick = (e) => { e.preventDefault(); open(""); };
    nav.append(rootLink);
    let acc = "";
    prefix.split("/").filter(Boolean).forEach((part) => {
      acc += part + "/";
      const target = acc;
      const link = el("a", { href: "#", text: part + " /" });
      link.onclick = (e) => { e.preventDefault(); open(target); };
      nav.append(link);
    });
    document.getElementById("drop-target").textContent = "/" + prefix;
  }

  async function load(append) {
    const query = new URLSearchParams({ prefix, delimiter: "/", limit: "200" });
    if (append && cursor) query.set("cursor", cursor);
    const response = await fetch(api + "objects/?" + query, { credentials: "same-origin" });
    const page = await response.json();
    const body = document.querySelector("#objects tbody");
    if (!append) body.replaceChildren();
    page.common_prefixes.forEach((p) => {
      const link = el("a", { href: "#", class: "kb-folder", text: p.slice(prefix.length) });
      link.onclick = (e) => { e.preventDefault(); open(p); };
      body.append(el("tr", {}, el("td", {}, link), el("td", { text: "folder" }), el("td"), el("td")));
    });
    page.objects.forEach((o) => {
      const name = el("a", { href: "#", class: "kb-object", "data-key": o.key, text: o.key.slice(prefix.length) });
      name.onclick = (e) => { e.preventDefault(); details(o); };
      const download = el("a", { href: objectUrl(o.key), download: o.key.split("/").pop(), text: "Download" });
      const remove = el("button", { type: "button", class: "button kb-delete", text: "Delete" });
      remove.onclick = async () => {
        if (!window.confirm("Delete " + o.key + "?")) return;
        await send("DELETE", objectUrl(o.key));
        load(false);
      };
      body.append(el("tr", {}, el("td", {}, name), el("td", { text: size(o.size) }), el("td", { text: new Date(o.last_modified).toLocaleString() }), el("td", {}, download, " ", remove)));
    });
    if (!append && !page.objects.length && !page.common_prefixes.length) body.append(el("tr", {}, el("td", { colspan: "4", text: "Empty. Drop files above to upload." })));
    cursor = page.next_cursor;
    document.getElementById("more").hidden = !page.is_truncated;
  }

  function open(newPrefix) {
    prefix = newPrefix;
    cursor = null;
    renderCrumbs();
    load(false);
  }

  async function details(o) {
    const section = document.getElementById("details");
    section.hidden = false;
    document.getElementById("detail-key").textContent = o.key;
    const fields = document.getElementById("detail-fields");
    fields.replaceChildren();
    const rows = { Size: o.size + " bytes", ETag: o.etag, "Content type": o.content_type, "Last modified": o.last_modified, Sequencer: o.sequencer };
    Object.entries(o.metadata || {}).forEach(([k, v]) => (rows["x-amz-meta-" + k] = v));
    Object.entries(rows).forEach(([k, v]) => fields.append(el("dt", { text: k }), el("dd", { text: String(v) })));
    const response = await fetch(api + "invocations/?" + new URLSearchParams({ key: o.key }), { credentials: "same-origin" });
    const body = document.querySelector("#detail-invocations tbody");
    body.replaceChildren();
    const results = (await response.json()).results || [];
    results.forEach((i) => body.append(el("tr", { class: "kb-invocation" },
      el("td", {}, el("a", { href: "/api/v1/invocations/" + i.request_id + "/", text: i.request_id })),
      el("td", { text: i.function }), el("td", { text: i.trigger.event_name }), el("td", { class: "kb-status", text: i.status }), el("td", { text: i.queued_at }))));
    if (!results.length) body.append(el("tr", {}, el("td", { colspan: "5", text: "None." })));
  }

  function upload(file) {
    const key = prefix + file.name;
    const bar = el("progress", { max: "100", value: "0" });
    const status = el("span", { class: "kb-upload-status", text: "0%" });
    const item = el("li", { class: "kb-upload", "data-key": key }, el("span", { text: key }), bar, status);
    document.getElementById("uploads").append(item);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", objectUrl(key));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((100 * e.loaded) / e.total);
        bar.value = pct;
        status.textContent = pct + "%";
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          status.textContent = "done";
          item.classList.add("kb-done");
        } else {
          let message = "failed (" + xhr.status + ")";
          try { message = JSON.parse(xhr.responseText).error.message; } catch (err) { /* keep the status */ }
          status.textContent = message;
          status.classList.add("kb-error");
        }
        resolve();
      };
      xhr.onerror = () => { status.textContent = "network error"; status.classList.add("kb-error"); resolve(); };
      xhr.send(file);
    });
  }

  async function uploadAll(files) {
    const queue = Array.from(files);
    const lanes = Array.from({ length: Math.min(3, queue.length) }, async () => {
      while (queue.length) await upload(queue.shift());
    });
    await Promise.all(lanes);
    load(false);
  }

  const zone = document.getElementById("dropzone");
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("kb-over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("kb-over"); }));
  zone.addEventListener("drop", (e) => uploadAll(e.dataTransfer.files));
  const input = document.getElementById("file-input");
  input.addEventListener("change", () => { uploadAll(input.files); input.value = ""; });
  document.getElementById("more").onclick = () => load(true);

  open("");
})();
