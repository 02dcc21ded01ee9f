/* Kiln console: code editing.
 *
 * Everywhere: Tab in plain code textareas, and tables of rows the user can grow and shrink.
 *
 * On the function form, when the vendored CodeMirror bundle (window.KilnCM) has loaded, the inline
 * files become an editor with a file tree. The form's own rows stay the source of truth that is
 * submitted: each file is one hidden row of `code_filename` + `code_content` (the server's format,
 * console/forms.py); the editor writes every file's text and name back into its row when the form is
 * submitted. Without JavaScript, or without the bundle, the rows are the editor.
 */
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
    } else if (button.hasAttribute("data-reveal")) {  // an environment value is masked until shown
      var input = button.parentNode.querySelector("input[data-secret]");
      if (!input) return;
      var shown = input.type === "password";
      input.type = shown ? "text" : "password";
      button.textContent = shown ? "Hide" : "Show";
    } else if (button.hasAttribute("data-remove-row")) {
      var row = button.closest("[data-row]");
      if (row) row.parentNode.removeChild(row);
    }
  }

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("click", onClick);

  // -- the function form's code editor ------------------------------------------------------------
  var LANGUAGE_LABELS = { python: "Python", javascript: "JavaScript", typescript: "TypeScript", json: "JSON", yaml: "YAML", shell: "Shell", java: "Java", ruby: "Ruby", go: "Go" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  /** Whether the admin shows its dark theme (its toggle's data-theme, else the system's scheme). */
  function isDark() {
    var theme = document.documentElement.getAttribute("data-theme") || "auto";
    if (theme === "dark") return true;
    if (theme === "light") return false;
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function onThemeChange(callback) {
    new MutationObserver(callback).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    if (window.matchMedia) window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", callback);
  }

  /** A single code textarea (`data-kiln-editor="<file name>"`, e.g. a policy's JSON) as an editor that
   * writes back into the (hidden) textarea on every change, so the form posts it as before. */
  function upgradeTextarea(area, CM) {
    var theme = new CM.Compartment();
    var host = el("div", { className: "kiln-cm kiln-cm-single" });
    area.parentNode.insertBefore(host, area.nextSibling);
    area.hidden = true;
    var view = new CM.EditorView({
      parent: host,
      state: CM.EditorState.create({
        doc: area.value,
        extensions: [
          CM.kilnSetup(),
          CM.languageFor(area.getAttribute("data-kiln-editor")),
          theme.of(isDark() ? CM.oneDark : []),
          CM.EditorView.updateListener.of(function (update) { if (update.docChanged) area.value = update.state.doc.toString(); }),
        ],
      }),
    });
    onThemeChange(function () { view.dispatch({ effects: theme.reconfigure(isDark() ? CM.oneDark : []) }); });
    var label = area.id ? document.querySelector('label[for="' + area.id + '"]') : null;
    if (label) label.addEventListener("click", function () { view.focus(); });
    area.kilnView = view;
    return view;
  }

  function family(runtime) {
    runtime = runtime || "";
    return runtime.indexOf("python") === 0 ? "python" : runtime.indexOf("nodejs") === 0 ? "nodejs" : runtime.indexOf("ruby") === 0 ? "ruby" : runtime.indexOf("java") === 0 ? "java" : "provided";
  }

  /** Why `name` cannot be a file's name ("" if it can); `except` is the file being renamed. */
  function nameProblem(name, files, except) {
    if (!name) return "Give the file a name.";
    if (name.charAt(0) === "/" || name.indexOf("\\") >= 0 || name.split("/").indexOf("..") >= 0 || /\/$/.test(name)) return "A file name is a relative path inside the package, such as lib/util.py.";
    if (name.length > 255) return "A file name may have at most 255 characters.";
    for (var i = 0; i < files.length; i++) if (files[i] !== except && files[i].name === name) return "There is already a file " + name + ".";
    return "";
  }

  function CodeEditor(form, CM) {
    this.form = form;
    this.CM = CM;
    this.rows = document.getElementById("code-files");
    this.template = document.getElementById("code-file-template");
    var starters = document.getElementById("kiln-starters");
    this.starters = starters ? JSON.parse(starters.textContent) : {};
    this.runtime = form.querySelector("select[name=runtime]");
    this.handler = form.querySelector("input[name=handler]");
    this.language = new CM.Compartment();
    this.theme = new CM.Compartment();
    this.files = [];      // {name, row, state, original: {name, text} | null}
    this.zipFiles = [];   // {name, size, state | null}
    this.current = null;  // the shown file (inline or zip)
    this.touched = !!form.querySelector(".errornote");  // a refused save: what is on the page is not saved
    this.submitting = false;
    this.build();
  }

  CodeEditor.prototype.build = function () {
    var self = this, CM = this.CM, form = this.form;
    Array.prototype.forEach.call(this.rows.querySelectorAll("[data-row]"), function (row) {
      var name = row.querySelector("input[name=code_filename]").value.trim();
      var text = row.querySelector("textarea[name=code_content]").value;
      if (!name && !text.trim()) { row.parentNode.removeChild(row); return; }  // the blank row of a zip function
      self.files.push({ name: name, row: row, state: null, original: { name: name, text: text } });
    });
    this.removed = [];
    var zip = document.getElementById("zip-files");
    if (zip) {
      this.codeUrl = zip.getAttribute("data-code-url");
      Array.prototype.forEach.call(zip.querySelectorAll("[data-zip-file]"), function (row) {
        self.zipFiles.push({ name: row.getAttribute("data-zip-file"), size: +row.getAttribute("data-size"), state: null });
      });
      zip.hidden = true;
    }

    this.treeList = el("ul", { className: "kiln-tree-files", role: "listbox", "aria-label": "Files" });
    this.zipList = el("ul", { className: "kiln-tree-files kiln-tree-zip", "aria-label": "Files in the zip package" });
    this.nameLabel = el("span", { className: "kiln-pane-name" });
    this.langLabel = el("span", { className: "kiln-pane-lang" });
    this.status = el("span", { className: "kiln-pane-status" });
    this.message = el("p", { className: "kiln-pane-empty", hidden: "" });
    this.host = el("div", { className: "kiln-cm" });
    var mac = /Mac|iPhone|iPad/.test(navigator.platform || "");
    var mod = mac ? "⌘" : "Ctrl-";
    var tree = el("div", { className: "kiln-tree" }, [
      el("div", { className: "kiln-tree-head" }, [
        el("span", { text: this.zipFiles.length ? "Inline files" : "Files" }),
        el("button", { type: "button", className: "button kiln-tree-new", "data-action": "new-file", title: "New file", text: "+ New file" }),
      ]),
      this.treeList,
      this.zipFiles.length ? el("div", { className: "kiln-tree-head" }, [el("span", { text: "Zip package (read-only)" })]) : null,
      this.zipFiles.length ? this.zipList : null,
    ]);
    var pane = el("div", { className: "kiln-pane" }, [
      el("div", { className: "kiln-pane-head" }, [this.nameLabel, this.langLabel]),
      this.message,
      this.host,
      el("div", { className: "kiln-pane-foot" }, [this.status, el("span", { className: "kiln-pane-keys", text: mod + "S saves · " + mod + "F finds · Tab / Shift-Tab indent · Esc then Tab leaves the editor" })]),
    ]);
    this.ide = el("div", { className: "kiln-ide" }, [tree, pane]);
    this.warning = el("p", { className: "kiln-handler-warning", role: "status", hidden: "" });
    this.rows.parentNode.insertBefore(this.warning, this.rows);
    this.rows.parentNode.insertBefore(this.ide, this.rows);
    this.rows.hidden = true;
    var add = document.getElementById("code-files-add");
    if (add) add.hidden = true;

    this.view = new CM.EditorView({ parent: this.host, state: CM.EditorState.create({ doc: "" }) });
    this.applyTheme();
    onThemeChange(function () { self.applyTheme(); });

    tree.addEventListener("click", function (event) { self.onTreeClick(event); });
    form.addEventListener("submit", function () { self.sync(); self.submitting = true; });
    form.addEventListener("input", function (event) { if (!self.ide.contains(event.target)) self.touched = true; });
    form.addEventListener("change", function (event) { if (!self.ide.contains(event.target)) self.touched = true; });
    if (this.handler) this.handler.addEventListener("input", function () { self.renderWarning(); });
    if (this.runtime) {
      this.previousRuntime = this.runtime.value;
      this.runtime.addEventListener("change", function () { self.onRuntimeChange(); });
    }
    window.addEventListener("beforeunload", function (event) {
      if (self.submitting || !self.isDirty()) return undefined;
      event.preventDefault();
      event.returnValue = "";  // the browser asks: leave the page with unsaved changes?
      return "";
    });
    window.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        self.save();
      }
    }, true);

    this.render();
    if (this.files.length) this.open(this.handlerFile() || this.files[0]);
    else if (this.zipFiles.length) this.showMessage("Choose a file of the zip package to view it, or add an inline file to replace the package.");
    else this.showMessage("No files: add one.");
  };

  /** The file the handler names (index.handler: index.py, index.mjs, ...), to open first. */
  CodeEditor.prototype.handlerFile = function () {
    var handler = this.handler ? this.handler.value : "", dot = handler.lastIndexOf(".");
    var module = dot > 0 ? handler.slice(0, dot) : handler;
    for (var i = 0; i < this.files.length; i++) {
      var name = this.files[i].name, ext = name.lastIndexOf(".");
      if ((ext > 0 ? name.slice(0, ext) : name) === module) return this.files[i];
    }
    return null;
  };

  CodeEditor.prototype.isDark = function () { return isDark(); };

  CodeEditor.prototype.themeExtension = function () { return this.isDark() ? this.CM.oneDark : []; };

  CodeEditor.prototype.applyTheme = function () {
    var dark = this.isDark();
    if (this.dark === dark) return;
    this.dark = dark;
    var effects = this.theme.reconfigure(this.themeExtension());
    this.view.dispatch({ effects: effects });
    var self = this;
    this.files.concat(this.zipFiles).forEach(function (file) {
      if (file.state && file !== self.current) file.state = file.state.update({ effects: effects }).state;
    });
  };

  CodeEditor.prototype.makeState = function (name, text, readOnly) {
    var CM = this.CM, self = this;
    var extensions = [
      CM.kilnSetup(),
      this.language.of(CM.languageFor(name)),
      this.theme.of(this.themeExtension()),
      CM.EditorView.updateListener.of(function (update) {
        if (update.docChanged) self.renderMarks();
        if (update.docChanged || update.selectionSet) self.renderStatus();
      }),
    ];
    if (readOnly) extensions.push(CM.EditorState.readOnly.of(true));
    return CM.EditorState.create({ doc: text, extensions: extensions });
  };

  CodeEditor.prototype.textOf = function (file) {
    if (file === this.current) return this.view.state.doc.toString();
    if (file.state) return file.state.doc.toString();
    return file.row.querySelector("textarea[name=code_content]").value;
  };

  CodeEditor.prototype.isModified = function (file) {
    return !file.original || file.original.name !== file.name || file.original.text !== this.textOf(file);
  };

  CodeEditor.prototype.isDirty = function () {
    if (this.touched || this.removed.length) return true;
    for (var i = 0; i < this.files.length; i++) if (this.isModified(this.files[i])) return true;
    return false;
  };

  CodeEditor.prototype.stash = function () {
    if (this.current) this.current.state = this.view.state;
  };

  CodeEditor.prototype.open = function (file) {
    this.stash();
    var isZip = this.zipFiles.indexOf(file) >= 0;
    if (!file.state) file.state = isZip ? this.makeState(file.name, "", true) : this.makeState(file.name, this.textOf(file), false);
    this.current = file;
    this.view.setState(file.state);
    this.host.hidden = false;
    this.message.hidden = true;
    this.render();
    if (isZip && !file.loaded) this.loadZipFile(file);
  };

  CodeEditor.prototype.showMessage = function (text) {
    this.stash();
    this.current = null;
    this.host.hidden = true;
    this.message.hidden = false;
    this.message.textContent = text;
    this.render();
  };

  /** The shown file cannot be displayed (binary, too large, gone): say why in place of its text. */
  CodeEditor.prototype.showProblem = function (text) {
    this.host.hidden = true;
    this.message.hidden = false;
    this.message.textContent = text;
    this.render();
  };

  CodeEditor.prototype.loadZipFile = function (file) {
    var self = this;
    file.loaded = true;
    var url = this.codeUrl + "?path=" + encodeURIComponent(file.name);
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/plain" } }).then(function (response) {
      return response.text().then(function (text) { return { ok: response.ok, text: text }; });
    }).then(function (outcome) {
      if (!outcome.ok) { file.loaded = false; file.problem = outcome.text; }
      else file.problem = "";
      file.state = self.makeState(file.name, outcome.ok ? outcome.text : "", true);
      if (self.current !== file) return;
      self.view.setState(file.state);
      if (outcome.ok) self.render();
      else self.showProblem(outcome.text);
    }).catch(function (err) {
      file.loaded = false;
      if (self.current === file) self.showProblem("Could not load " + file.name + ": " + err);
    });
  };

  CodeEditor.prototype.render = function () {
    var self = this;
    this.treeList.textContent = "";
    this.files.slice().sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; }).forEach(function (file) {
      var item = el("li", { className: "kiln-tree-item" + (file === self.current ? " is-active" : ""), "data-name": file.name, role: "option", "aria-selected": file === self.current ? "true" : "false" }, [
        el("button", { type: "button", className: "kiln-tree-open", "data-action": "open", title: file.name, text: file.name }),
        el("span", { className: "kiln-tree-mark", title: "Modified (not saved)", text: "●" }),
        el("button", { type: "button", className: "kiln-tree-tool", "data-action": "rename", title: "Rename " + file.name, "aria-label": "Rename " + file.name, text: "✎" }),
        el("button", { type: "button", className: "kiln-tree-tool", "data-action": "delete", title: "Delete " + file.name, "aria-label": "Delete " + file.name, text: "✕" }),
      ]);
      item.kilnFile = file;
      self.treeList.appendChild(item);
    });
    this.zipList.textContent = "";
    this.zipFiles.forEach(function (file) {
      var item = el("li", { className: "kiln-tree-item" + (file === self.current ? " is-active" : ""), "data-zip-name": file.name }, [
        el("button", { type: "button", className: "kiln-tree-open", "data-action": "open-zip", title: file.name + " (" + file.size + " bytes)", text: file.name }),
      ]);
      item.kilnFile = file;
      self.zipList.appendChild(item);
    });
    var current = this.current;
    this.nameLabel.textContent = current ? current.name : "";
    var lang = current ? this.CM.languageName(current.name) : "";
    var readOnly = current && this.zipFiles.indexOf(current) >= 0;
    this.langLabel.textContent = current ? (LANGUAGE_LABELS[lang] || "Plain text") + (readOnly ? " · read-only" : "") : "";
    this.renderMarks();
    this.renderStatus();
    this.renderWarning();
  };

  /** Say so when no inline file is the one the handler names (Node's "Cannot find module", before saving). */
  CodeEditor.prototype.renderWarning = function () {
    var text = "";
    var handler = this.handler ? this.handler.value.trim() : "", dot = handler.lastIndexOf(".");
    if (this.files.length && this.runtime && dot > 0) {
      var module = handler.slice(0, dot), kind = family(this.runtime.value);
      if (kind === "ruby") module = handler.split(".")[0];  // file.method or file.Module::Class.method
      if (kind === "java") module = handler.split("::")[0].replace(/\./g, "/");  // package.Class::method or package.Class
      var wanted = kind === "python" ? [module + ".py"] : kind === "nodejs" ? [module + ".js", module + ".mjs", module + ".cjs"] : kind === "ruby" ? [module + ".rb"]
        : kind === "java" ? [module + ".java", module + ".class"] : ["bootstrap"];
      var names = this.files.map(function (f) { return f.name; });
      if (!wanted.some(function (name) { return names.indexOf(name) >= 0; })) {
        text = "The handler " + handler + " needs a file " + wanted.join(" or ") + "; there is none.";
      }
    }
    this.warning.textContent = text;
    this.warning.hidden = !text;
  };

  CodeEditor.prototype.renderMarks = function () {
    var self = this;
    Array.prototype.forEach.call(this.treeList.children, function (item) {
      if (item.kilnFile) item.classList.toggle("is-modified", self.isModified(item.kilnFile));
    });
  };

  CodeEditor.prototype.renderStatus = function () {
    if (!this.current) { this.status.textContent = ""; return; }
    var state = this.view.state, head = state.selection.main.head, line = state.doc.lineAt(head);
    this.status.textContent = "Ln " + line.number + ", Col " + (head - line.from + 1) + " · " + state.doc.lines + " lines";
  };

  CodeEditor.prototype.onTreeClick = function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();  // not the page's generic row buttons
    var item = button.closest(".kiln-tree-item");
    var file = item ? item.kilnFile : null;
    switch (button.getAttribute("data-action")) {
      case "new-file": this.askName(null); break;
      case "open": case "open-zip": this.open(file); this.view.focus(); break;
      case "rename": this.askName(file); break;
      case "delete": this.remove(file); break;
    }
  };

  /** An inline name box in the tree: for a new file (`file` null) or to rename `file`. */
  CodeEditor.prototype.askName = function (file) {
    var self = this;
    var input = el("input", { type: "text", className: "vTextField kiln-tree-input", "aria-label": file ? "New name for " + file.name : "New file name", placeholder: "name.py", spellcheck: "false" });
    var problem = el("div", { className: "kiln-tree-problem", role: "alert" });
    var box = el("li", { className: "kiln-tree-item kiln-tree-naming" }, [input, problem]);
    input.value = file ? file.name : this.suggestName();
    if (file) {
      var item = this.treeList.querySelector('[data-name="' + CSS.escape(file.name) + '"]');
      this.treeList.replaceChild(box, item);
    } else {
      this.treeList.appendChild(box);
    }
    input.focus();
    var dot = input.value.lastIndexOf(".");
    input.setSelectionRange(0, file && dot > 0 ? dot : input.value.length);
    var done = false;
    function finish(commit) {
      if (done) return;
      var name = input.value.trim();
      if (commit) {
        var why = nameProblem(name, self.files, file);
        if (why) { problem.textContent = why; input.focus(); return; }
      }
      done = true;
      if (commit && file) self.rename(file, name);
      else if (commit) self.add(name, "");
      else self.render();
      if (commit) self.view.focus();
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      else if (event.key === "Escape") { event.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", function () { setTimeout(function () { if (!done) finish(!!input.value.trim() && !nameProblem(input.value.trim(), self.files, file)); }, 0); });
  };

  CodeEditor.prototype.suggestName = function () {
    var ext = { python: ".py", nodejs: ".mjs", ruby: ".rb", java: ".java", provided: ".sh" }[family(this.runtime ? this.runtime.value : "")];
    for (var i = 1; ; i++) {
      var name = "module" + (i > 1 ? i : "") + ext;
      if (!nameProblem(name, this.files, null)) return name;
    }
  };

  CodeEditor.prototype.newRow = function (name, text) {
    var row = this.template.content.firstElementChild.cloneNode(true);
    row.querySelector("input[name=code_filename]").value = name;
    row.querySelector("textarea[name=code_content]").value = text;
    this.rows.appendChild(row);
    return row;
  };

  CodeEditor.prototype.add = function (name, text, original) {
    var file = { name: name, row: this.newRow(name, text), state: null, original: original || null };
    this.files.push(file);
    this.open(file);
    return file;
  };

  CodeEditor.prototype.rename = function (file, name) {
    file.name = name;
    file.row.querySelector("input[name=code_filename]").value = name;
    var effects = this.language.reconfigure(this.CM.languageFor(name));
    if (file === this.current) this.view.dispatch({ effects: effects });
    else if (file.state) file.state = file.state.update({ effects: effects }).state;
    this.render();
  };

  CodeEditor.prototype.remove = function (file) {
    var index = this.files.indexOf(file);
    if (index < 0) return;
    this.files.splice(index, 1);
    if (file.original) this.removed.push(file.original.name);
    file.row.parentNode.removeChild(file.row);
    if (file === this.current) {
      this.current = null;
      var next = this.files[Math.min(index, this.files.length - 1)];
      if (next) this.open(next);
      else this.showMessage(this.zipFiles.length ? "No inline files: saving keeps the zip package." : "No files: add one before saving.");
    } else {
      this.render();
    }
  };

  /** Write every file's name and text into its form row (what the server reads). */
  CodeEditor.prototype.sync = function () {
    this.stash();
    var self = this;
    this.files.forEach(function (file) {
      file.row.querySelector("input[name=code_filename]").value = file.name;
      file.row.querySelector("textarea[name=code_content]").value = self.textOf(file);
    });
  };

  CodeEditor.prototype.save = function () {
    var button = this.form.querySelector("input[type=submit][name=_continue]");
    this.sync();
    if (this.form.requestSubmit) this.form.requestSubmit(button || undefined);
    else if (button) button.click();
    else this.form.submit();
  };

  /** The starter family whose files the editor holds, untouched; "" if the code is anyone's own. */
  CodeEditor.prototype.untouchedStarter = function () {
    var self = this;
    var names = this.files.map(function (f) { return f.name; }).sort();
    var found = "";
    Object.keys(this.starters).forEach(function (key) {
      var files = self.starters[key].files;
      var starterNames = Object.keys(files).sort();
      if (starterNames.join("\n") !== names.join("\n")) return;
      var same = self.files.every(function (f) { return files[f.name] === self.textOf(f); });
      if (same) found = key;
    });
    return found;
  };

  CodeEditor.prototype.onRuntimeChange = function () {
    var wanted = family(this.runtime.value), had = this.untouchedStarter();
    var before = this.starters[family(this.previousRuntime)];
    this.previousRuntime = this.runtime.value;
    var starter = this.starters[wanted];
    if (!starter) return;
    if (this.handler && (this.handler.value === "" || (before && this.handler.value === before.handler) || (had && this.handler.value === this.starters[had].handler))) {
      this.handler.value = starter.handler;
    }
    if (!had || had === wanted) return;
    var self = this;
    this.files.slice().forEach(function (file) {
      self.files.splice(self.files.indexOf(file), 1);
      file.row.parentNode.removeChild(file.row);
    });
    this.current = null;
    Object.keys(starter.files).forEach(function (name) { self.add(name, starter.files[name], { name: name, text: starter.files[name] }); });
    this.open(this.files[0]);
  };

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.KilnCM) return;  // the bundle did not load: the plain fields are the editor
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-kiln-editor]"), function (area) { upgradeTextarea(area, window.KilnCM); });
    var form = document.getElementById("function_form");
    if (form && document.getElementById("code-files")) window.kilnEditor = new CodeEditor(form, window.KilnCM);
  });
})();
