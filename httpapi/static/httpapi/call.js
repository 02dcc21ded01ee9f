// Kiln console: show each route's full invoke URL and call it from the page.
// A route's Call button opens a small form: one field per path parameter ({id}, greedy {proxy+}), the
// method for ANY routes, a query string, and a body for methods that send one. Send fills the path in
// (each parameter URL-encoded; a greedy one keeps its slashes) and shows the answer, headers and timing.
(function () {
  "use strict";
  var PARAM = /\{([A-Za-z0-9_.:-]+)(\+?)\}/g;
  var METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

  function absolute(path) { return window.location.origin + path; }

  function params(path) {
    var found = [], match;
    PARAM.lastIndex = 0;
    while ((match = PARAM.exec(path)) !== null) found.push({ name: match[1], greedy: match[2] === "+" });
    return found;
  }

  function fill(path, values) {
    return path.replace(PARAM, function (_, name, greedy) {
      var value = values[name] || "";
      return greedy ? value.split("/").map(encodeURIComponent).join("/") : encodeURIComponent(value);
    });
  }

  function element(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text) el.textContent = text;
    return el;
  }

  function labelled(label, input) {
    var row = element("label", { "class": "kiln-call-field" });
    row.appendChild(element("span", {}, label));
    row.appendChild(input);
    return row;
  }

  function buildForm(button) {
    var path = button.dataset.path, method = (button.dataset.method || "").toUpperCase();
    var form = element("form", { "class": "kiln-call-form" });
    params(path).forEach(function (p) {
      var input = element("input", { type: "text", name: p.name, "data-param": p.name, required: "", placeholder: p.greedy ? "a/b/c" : "value" });
      form.appendChild(labelled("{" + p.name + (p.greedy ? "+" : "") + "}", input));
    });
    if (!method || method === "ANY") {
      var select = element("select", { name: "_method" });
      METHODS.forEach(function (m) { select.appendChild(element("option", { value: m }, m)); });
      form.appendChild(labelled("Method", select));
    }
    form.appendChild(labelled("Query", element("input", { type: "text", name: "_query", placeholder: "a=1&b=2" })));
    var body = element("textarea", { name: "_body", rows: "3", placeholder: "{}" });
    form.appendChild(labelled("Body", body));
    form.appendChild(element("button", { type: "submit", "class": "button kiln-call-send" }, "Send"));
    function showBody() {
      var chosen = form.elements._method ? form.elements._method.value : method;
      body.parentNode.hidden = chosen === "GET" || chosen === "HEAD";
    }
    if (form.elements._method) form.elements._method.addEventListener("change", showBody);
    showBody();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      form.querySelectorAll("[data-param]").forEach(function (input) { values[input.dataset.param] = input.value; });
      var chosen = form.elements._method ? form.elements._method.value : method;
      var query = form.elements._query.value.replace(/^\?/, "");
      var target = fill(path, values) + (query ? "?" + query : "");
      send(button, chosen, target, body.parentNode.hidden ? null : body.value);
    });
    return form;
  }

  function send(button, method, path, body) {
    var options = { method: method, headers: {} };
    if (body !== null && body !== "") { options.body = body; options.headers["content-type"] = "application/json"; }
    var out = button.closest(".kiln-call-box").querySelector(".kiln-call-out");
    out.textContent = method + " " + absolute(path) + " …";
    var started = performance.now();
    fetch(absolute(path), options).then(function (response) {
      return response.text().then(function (text) {
        var headers = [];
        response.headers.forEach(function (v, k) { headers.push(k + ": " + v); });
        out.textContent = method + " " + absolute(path) + "\n" + response.status + " " + response.statusText +
          " (" + Math.round(performance.now() - started) + " ms)\n" + headers.join("\n") + "\n\n" + text;
      });
    }).catch(function (err) { out.textContent = "failed: " + err; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".kiln-invoke-url").forEach(function (el) {
      el.textContent = absolute(el.dataset.path);
      el.href = absolute(el.dataset.path);
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".kiln-call");
    if (!button) return;
    event.preventDefault();
    var method = (button.dataset.method || "").toUpperCase();
    if (!params(button.dataset.path).length && method && method !== "ANY" && method !== "POST" && method !== "PUT" && method !== "PATCH") {
      send(button, method, button.dataset.path, null);  // nothing to ask: call it at once
      return;
    }
    var box = button.closest(".kiln-call-box");
    var open = box.querySelector(".kiln-call-form");
    if (open) { open.remove(); return; }
    var form = buildForm(button);
    box.insertBefore(form, box.querySelector(".kiln-call-out"));
    var first = form.querySelector("input, select");
    if (first) first.focus();
  });
})();
