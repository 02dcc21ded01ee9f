/* Function page panels (templates/console/_function_panels.html): each form saves in place with the REST
   API (the console's session and CSRF token) and shows the API's answer or its error message. */
(function () {
  "use strict";
  const root = document.getElementById("function-panels");
  if (!root) return;
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  const api = root.dataset.api;

  async function call(method, path, body) {
    const response = await fetch(api + path, { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (err) { data = { error: { message: text } }; }
    return { ok: response.ok, status: response.status, data };
  }

  function values(form) {
    const body = {};
    form.querySelectorAll("input[name], select[name]").forEach((input) => {
      if (input.type === "number") body[input.name] = input.value === "" ? (input.hasAttribute("data-nullable") ? null : undefined) : Number(input.value);
      else body[input.name] = input.value;
    });
    Object.keys(body).forEach((k) => body[k] === undefined && delete body[k]);
    if ("routing_version" in body) {  // the alias form: one additional version and its weight, in percent
      body.routing = body.routing_version ? { [body.routing_version]: (body.routing_weight || 0) / 100 } : {};
      delete body.routing_version;
      delete body.routing_weight;
    }
    return body;
  }

  function aliasTarget(form, body) {
    // An alias that exists is changed in place (PUT), a new one created (POST).
    body.name = body.alias_name;
    delete body.alias_name;
    const exists = body.name && root.querySelector('tr[data-alias="' + CSS.escape(body.name) + '"]');
    if (!exists) return { method: "POST", path: form.dataset.path, body };
    const changes = Object.assign({}, body);
    delete changes.name;
    return { method: "PUT", path: form.dataset.path + encodeURIComponent(body.name) + "/", body: changes };
  }

  root.querySelectorAll(".kiln-panel-form").forEach((form) => {
    const status = form.querySelector(".kiln-panel-status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.textContent = "Saving…";
      const target = form.hasAttribute("data-alias-form") ? aliasTarget(form, values(form)) : { method: form.dataset.method, path: form.dataset.path, body: values(form) };
      const answer = await call(target.method, target.path, target.body);
      if (!answer.ok) { status.textContent = answer.data && answer.data.error ? answer.data.error.message : "Failed (" + answer.status + ")"; status.classList.add("kiln-panel-error"); return; }
      status.classList.remove("kiln-panel-error");
      status.textContent = "Saved.";
      if (form.dataset.path === "url/" || form.hasAttribute("data-reload")) window.location.reload();  // new rows and buttons appear
    });
    form.querySelectorAll(".kiln-panel-delete").forEach((button) => button.addEventListener("click", async () => {
      if (!window.confirm(button.dataset.confirm || "Delete this function's URL? Calls to it will answer 404.")) return;
      const answer = await call("DELETE", button.dataset.path);
      if (answer.ok) window.location.reload();
      else status.textContent = answer.data && answer.data.error ? answer.data.error.message : "Failed (" + answer.status + ")";
    }));
  });
})();
