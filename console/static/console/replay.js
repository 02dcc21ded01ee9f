/* Replay buttons on an invocation's page: POST /api/v1/invocations/{id}/replay/ runs the same event again
   (recorded as a new invocation caused by the replay), then opens the new invocation's page. */
(function () {
  "use strict";
  document.addEventListener("click", async (event) => {
    const button = event.target.closest(".kiln-replay");
    if (!button) return;
    event.preventDefault();
    const status = document.getElementById("replay-status");
    const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
    const response = await fetch("/api/v1/invocations/" + button.dataset.requestId + "/replay/", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ qualifier: button.dataset.qualifier }),
    });
    const data = await response.json();
    if (!response.ok) { status.hidden = false; status.textContent = data.error ? data.error.message : "Replay failed (" + response.status + ")"; return; }
    window.location.href = window.location.pathname.replace(/[^/]+\/change\/$/, data.request_id + "/change/");
  });
})();
