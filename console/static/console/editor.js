/* Kiln console: Tab in code textareas, and tables of rows the user can grow and shrink. */
(function () {
  "use strict";
  var INDENT = "    ";

  function onKeydown(event) {
    var area = event.target;
    if (event.key !== "Tab" || !area.classList || !area.classList.contains("kiln-code")) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    event.preventDefault();
    var start = area.selectionStart, end = area.selectionEnd, text = area.value;
    if (event.shiftKey) {
      // Outdent the current line by up to one indent.
      var lineStart = text.lastIndexOf("\n", start - 1) + 1;
      var removable = 0;
      while (removable < INDENT.length && text.charAt(lineStart + removable) === " ") removable++;
      if (removable) {
        area.value = text.slice(0, lineStart) + text.slice(lineStart + removable);
        area.selectionStart = area.selectionEnd = Math.max(lineStart, start - removable);
      }
      return;
    }
    area.value = text.slice(0, start) + INDENT + text.slice(end);
    area.selectionStart = area.selectionEnd = start + INDENT.length;
  }

  function onClick(event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (!button) return;
    if (button.hasAttribute("data-add-row")) {
      var template = document.getElementById(button.getAttribute("data-add-row"));
      var target = document.getElementById(button.getAttribute("data-target"));
      if (!template || !target) return;
      target.appendChild(template.content.cloneNode(true));
      var rows = target.querySelectorAll("[data-row]");
      var focusable = rows[rows.length - 1].querySelector("input, select, textarea");
      if (focusable) focusable.focus();
    } else if (button.hasAttribute("data-remove-row")) {
      var row = button.closest("[data-row]");
      if (row) row.parentNode.removeChild(row);
    }
  }

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("click", onClick);
})();
