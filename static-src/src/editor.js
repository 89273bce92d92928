// Progressive enhancement of `<textarea data-yaml-editor>` into a CodeMirror
// YAML editor.
//
// The textarea stays in the form (hidden) and always holds the editor's text,
// so a plain form POST and an htmx request both carry the YAML without any
// extra wiring. Pages talk to editors through `window.ConsoleEditor`.

import { EditorView } from "@codemirror/view";

import { parseDiagnosticsAttribute, toEditorDiagnostics } from "./diagnostics.js";
import { editorExtensions, markInvalid, replaceDiagnostics } from "./setup.js";
import { pageWords } from "./words.js";

const SELECTOR = "textarea[data-yaml-editor]";
const WRAPPER_CLASS = "yaml-editor";

const views = new WeakMap();
let nextId = 1;

function resolveTextarea(target) {
  const element = typeof target === "string" ? document.querySelector(target) : target;
  if (!(element instanceof HTMLTextAreaElement)) {
    throw new TypeError("ConsoleEditor expects a <textarea> element or a selector for one");
  }
  return element;
}

function labelAttributes(textarea) {
  const attributes = {};
  for (const name of ["aria-label", "aria-labelledby"]) {
    const value = textarea.getAttribute(name);
    if (value) attributes[name] = value;
  }
  if (attributes["aria-label"] || attributes["aria-labelledby"]) return attributes;
  const label = textarea.id && document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  if (label) {
    if (!label.id) label.id = `${textarea.id}-label`;
    attributes["aria-labelledby"] = label.id;
  } else {
    attributes["aria-label"] = "YAML";
  }
  return attributes;
}

function describedBy(textarea, hintId) {
  const existing = textarea.getAttribute("aria-describedby");
  return existing ? `${existing} ${hintId}` : hintId;
}

function minHeightFor(textarea) {
  const rows = Number(textarea.getAttribute("rows"));
  // 1.4em is CodeMirror's default line height.
  return Number.isFinite(rows) && rows > 0 ? `${(rows * 1.4).toFixed(1)}em` : null;
}

function fireOn(textarea, type) {
  textarea.dispatchEvent(new Event(type, { bubbles: true }));
}

// A page restored from htmx's history cache brings back the markup of an old
// editor without its state; drop it before building a live one.
function removeStaleWrapper(textarea) {
  const sibling = textarea.nextElementSibling;
  if (sibling && sibling.classList.contains(WRAPPER_CLASS)) sibling.remove();
}

function watchForm(textarea, view) {
  const form = textarea.form;
  if (form) {
    // The browser restores the textarea after the reset event has run.
    form.addEventListener("reset", () => {
      setTimeout(() => {
        if (views.get(textarea) === view) replaceText(view, textarea.value);
      }, 0);
    });
  }
  // A required, hidden textarea cannot show the browser's message; point the
  // user at the editor instead.
  textarea.addEventListener("invalid", (event) => {
    if (views.get(textarea) !== view) return;
    event.preventDefault();
    view.dispatch(markInvalid());
    view.focus();
  });
}

function replaceText(view, text) {
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text },
    ...replaceDiagnostics(view.state, []),
  });
}

function applyDiagnostics(view, items) {
  view.dispatch(replaceDiagnostics(view.state, toEditorDiagnostics(view.state.doc, items)));
}

/**
 * Replace one textarea with an editor (idempotent: an enhanced textarea keeps
 * its editor). Returns the EditorView.
 */
function enhanceTextarea(textarea) {
  const existing = views.get(textarea);
  if (existing) return existing;
  removeStaleWrapper(textarea);

  const id = nextId++;
  const hintId = `yaml-editor-hint-${id}`;
  const readOnly = textarea.hasAttribute("data-readonly") || textarea.readOnly;
  let changedSinceFocus = false;

  const wrapper = document.createElement("div");
  wrapper.className = WRAPPER_CLASS;
  const minHeight = minHeightFor(textarea);
  if (minHeight) wrapper.style.setProperty("--yaml-editor-min-height", minHeight);

  const contentAttributes = {
    ...labelAttributes(textarea),
    "aria-describedby": describedBy(textarea, hintId),
    "aria-multiline": "true",
  };
  if (textarea.required) contentAttributes["aria-required"] = "true";

  const view = new EditorView({
    doc: textarea.value,
    parent: wrapper,
    extensions: editorExtensions({
      readOnly,
      contentAttributes,
      hintId,
      words: pageWords(),
      onUpdate(update) {
        if (update.docChanged) {
          textarea.value = update.state.doc.toString();
          changedSinceFocus = true;
          fireOn(textarea, "input");
        }
        if (update.focusChanged && !update.view.hasFocus && changedSinceFocus) {
          changedSinceFocus = false;
          fireOn(textarea, "change");
        }
      },
    }),
  });

  textarea.hidden = true;
  textarea.after(wrapper);
  views.set(textarea, view);
  watchForm(textarea, view);

  // A label points at the hidden textarea; clicking it should reach the editor.
  for (const label of textarea.labels || []) label.addEventListener("click", () => view.focus());

  applyDiagnostics(view, parseDiagnosticsAttribute(textarea.getAttribute("data-diagnostics")));
  textarea.dispatchEvent(new CustomEvent("yaml-editor:ready", { bubbles: true, detail: { view } }));
  return view;
}

function destroyEditor(textarea) {
  const view = views.get(textarea);
  if (!view) return;
  views.delete(textarea);
  const wrapper = view.dom.parentElement;
  view.destroy();
  wrapper?.remove();
  textarea.hidden = false;
}

/**
 * Enhance every `textarea[data-yaml-editor]` inside `root` (or `root` itself).
 * Safe to call repeatedly; returns the views of all matching textareas.
 */
function enhance(root = document) {
  const found = [];
  if (root instanceof Element && root.matches(SELECTOR)) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll(SELECTOR));
  return found.map(enhanceTextarea);
}

function viewFor(target) {
  const textarea = resolveTextarea(target);
  return views.get(textarea) || (textarea.matches(SELECTOR) ? enhanceTextarea(textarea) : null);
}

const ConsoleEditor = {
  enhance,

  /** The EditorView of a textarea, enhancing it on demand; null if it is not a YAML editor. */
  view: viewFor,

  /** The current text; for a plain textarea, its value. */
  getValue(target) {
    const view = viewFor(target);
    return view ? view.state.doc.toString() : resolveTextarea(target).value;
  },

  /** Replace the whole text (clears diagnostics, which belonged to the old text). */
  setValue(target, text) {
    const value = text == null ? "" : String(text);
    const view = viewFor(target);
    if (view) replaceText(view, value);
    else resolveTextarea(target).value = value;
  },

  /**
   * Show server diagnostics, replacing earlier ones: a list of
   * `{line, column, severity, message}` with 1-based line and column
   * (`endLine`/`endColumn` optional). An empty list clears them.
   */
  setDiagnostics(target, diagnostics) {
    const textarea = resolveTextarea(target);
    const view = viewFor(textarea);
    if (view) applyDiagnostics(view, diagnostics);
    else textarea.setAttribute("data-diagnostics", JSON.stringify(diagnostics || []));
  },
};

window.ConsoleEditor = ConsoleEditor;

document.addEventListener("htmx:load", (event) => enhance(event.detail?.elt || event.target));
document.addEventListener("htmx:beforeCleanupElement", (event) => {
  if (event.target instanceof HTMLTextAreaElement) destroyEditor(event.target);
});

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => enhance(document));
} else {
  enhance(document);
}
