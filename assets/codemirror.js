// The CodeMirror 6 bundle the Kiln console vendors (scripts/assets.sh builds it with esbuild into
// console/static/console/vendor/codemirror-<version>.min.js). It exposes one global, window.KilnCM,
// with the pieces console/static/console/editor.js puts together, and a language per file name.
import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars,
  drawSelection, dropCursor, rectangularSelection, crosshairCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab, indentMore, indentLess } from "@codemirror/commands";
import {
  indentOnInput, bracketMatching, foldGutter, foldKeymap, syntaxHighlighting, defaultHighlightStyle,
  StreamLanguage, indentUnit,
} from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches, openSearchPanel } from "@codemirror/search";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { java } from "@codemirror/lang-java";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { ruby } from "@codemirror/legacy-modes/mode/ruby";
import { go } from "@codemirror/legacy-modes/mode/go";
import { oneDark } from "@codemirror/theme-one-dark";

const LANGUAGES = {
  python: () => python(),
  javascript: () => javascript(),
  typescript: () => javascript({ typescript: true }),
  json: () => json(),
  yaml: () => yaml(),
  shell: () => StreamLanguage.define(shell),
  java: () => java(),
  ruby: () => StreamLanguage.define(ruby),
  go: () => StreamLanguage.define(go),
};

const EXTENSIONS = {
  py: "python", js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "javascript",
  ts: "typescript", mts: "typescript", cts: "typescript", tsx: "typescript",
  json: "json", yaml: "yaml", yml: "yaml", sh: "shell", bash: "shell",
  java: "java", rb: "ruby", gemspec: "ruby", go: "go",
};

/** The language name for a file name ("" when none fits): by extension, and `bootstrap` is shell. */
function languageName(filename) {
  const base = (filename || "").split("/").pop();
  if (base === "bootstrap") return "shell";
  if (base === "Gemfile") return "ruby";
  const dot = base.lastIndexOf(".");
  return dot < 0 ? "" : EXTENSIONS[base.slice(dot + 1).toLowerCase()] || "";
}

/** The CodeMirror language support for a file name, or [] (plain text). */
function languageFor(filename) {
  const name = languageName(filename);
  return name ? LANGUAGES[name]() : [];
}

/** The editing setup every Kiln editor shares (CodeMirror's basicSetup, with Tab indenting). */
function kilnSetup() {
  return [
    lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), foldGutter(),
    drawSelection(), dropCursor(), EditorState.allowMultipleSelections.of(true), indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(), closeBrackets(),
    autocompletion({ activateOnTyping: false }), rectangularSelection(), crosshairCursor(), highlightActiveLine(),
    highlightSelectionMatches(), indentUnit.of("    "),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...completionKeymap, indentWithTab]),
  ];
}

window.KilnCM = {
  EditorState, EditorView, Compartment, keymap, kilnSetup, languageFor, languageName, openSearchPanel,
  indentMore, indentLess, oneDark,
};
