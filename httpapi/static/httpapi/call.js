// Kiln console: show each route's full invoke URL and call it from the page.
(function () {
  function absolute(path) { return window.location.origin + path; }
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
    var path = button.dataset.path;
    var method = button.dataset.method || "GET";
    if (method === "ANY" || method === "") method = window.prompt("Method", "GET") || "GET";
    if (path.indexOf("{") !== -1) {
      path = window.prompt("Fill in the path parameters", path);
      if (!path) return;
    }
    var options = { method: method, headers: {} };
    if (["GET", "HEAD"].indexOf(method.toUpperCase()) === -1) {
      var body = window.prompt("Request body (JSON or text)", "{}");
      if (body !== null) { options.body = body; options.headers["content-type"] = "application/json"; }
    }
    var out = button.parentNode.querySelector(".kiln-call-out");
    out.textContent = method + " " + absolute(path) + " …";
    var started = performance.now();
    fetch(absolute(path), options).then(function (response) {
      return response.text().then(function (text) {
        var headers = [];
        response.headers.forEach(function (v, k) { headers.push(k + ": " + v); });
        out.textContent = response.status + " " + response.statusText + " (" + Math.round(performance.now() - started) + " ms)\n" + headers.join("\n") + "\n\n" + text;
      });
    }).catch(function (err) { out.textContent = "failed: " + err; });
  });
})();
