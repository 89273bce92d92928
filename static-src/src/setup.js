// The editor's extensions: YAML highlighting and editing aids, a theme that
// follows Bootstrap's CSS variables, and line marks for server diagnostics.

import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

import { statusPanel } from "./status.js";
import { ENGLISH } from "./words.js";

const replaceServerLines = StateEffect.define();

// Whole-line tint under each diagnostic, so a problem stays visible even when
// its underline is a single character or the line is scrolled sideways.
const serverLines = StateField.define({
  create: () => Decoration.none,
  update(lines, transaction) {
    lines = lines.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(replaceServerLines)) lines = effect.value;
    }
    return lines;
  },
  provide: (field) => EditorView.decorations.from(field),
});

const setInvalid = StateEffect.define();

// Set when the form's validation rejects an empty required editor; the next
// change of the text clears it. Kept in state because CodeMirror owns the
// editor element's classes and attributes.
const invalidMark = StateField.define({
  create: () => false,
  update(invalid, transaction) {
    for (const effect of transaction.effects) {
      if (effect.is(setInvalid)) return effect.value;
    }
    return transaction.docChanged ? false : invalid;
  },
  provide: (field) => [
    EditorView.editorAttributes.from(field, (invalid) => (invalid ? { class: "cm-yaml-invalid" } : {})),
    EditorView.contentAttributes.from(field, (invalid) => (invalid ? { "aria-invalid": "true" } : {})),
  ],
});

/** A transaction spec marking the editor as failing form validation. */
export function markInvalid() {
  return { effects: setInvalid.of(true) };
}

const SEVERITY_RANK = { hint: 0, info: 1, warning: 2, error: 3 };

function lineDecorations(doc, diagnostics) {
  const worst = new Map();
  for (const diagnostic of diagnostics) {
    const lineStart = doc.lineAt(diagnostic.from).from;
    const current = worst.get(lineStart);
    if (!current || SEVERITY_RANK[diagnostic.severity] > SEVERITY_RANK[current]) {
      worst.set(lineStart, diagnostic.severity);
    }
  }
  const ranges = [...worst.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([from, severity]) =>
      Decoration.line({ class: `cm-diagnosticLine cm-diagnosticLine-${severity}` }).range(from),
    );
  return Decoration.set(ranges);
}

/**
 * A transaction spec that replaces every diagnostic of the editor with
 * `diagnostics` (already converted to document offsets): lint markers in the
 * gutter, underlines, and a tint on each affected line.
 */
export function replaceDiagnostics(state, diagnostics) {
  const spec = setDiagnostics(state, diagnostics);
  const effects = [].concat(spec.effects || []);
  effects.push(replaceServerLines.of(lineDecorations(state.doc, diagnostics)));
  return { effects };
}

const theme = EditorView.theme({
  "&": {
    border: "var(--bs-border-width, 1px) solid var(--bs-border-color, #dee2e6)",
    borderRadius: "var(--bs-border-radius, 0.375rem)",
    backgroundColor: "var(--bs-body-bg, #fff)",
    color: "var(--bs-body-color, #212529)",
    fontSize: "0.875rem",
    maxHeight: "var(--yaml-editor-max-height, 70vh)",
  },
  "&.cm-focused": {
    outline: "none",
    borderColor: "#86b7fe",
    boxShadow: "0 0 0 0.25rem var(--bs-focus-ring-color, rgba(13, 110, 253, 0.25))",
  },
  "&.cm-yaml-invalid": { borderColor: "var(--bs-form-invalid-border-color, #dc3545)" },
  "&.cm-yaml-readonly": { backgroundColor: "var(--bs-tertiary-bg, #f8f9fa)" },
  ".cm-scroller": {
    fontFamily: "var(--bs-font-monospace, monospace)",
    overflow: "auto",
  },
  ".cm-content, .cm-gutter": { minHeight: "var(--yaml-editor-min-height, 12em)" },
  ".cm-gutters": {
    backgroundColor: "var(--bs-tertiary-bg, #f8f9fa)",
    color: "var(--bs-secondary-color, #6c757d)",
    borderRight: "var(--bs-border-width, 1px) solid var(--bs-border-color, #dee2e6)",
    borderRadius: "var(--bs-border-radius, 0.375rem) 0 0 var(--bs-border-radius, 0.375rem)",
  },
  // The cursor line is only marked while the editor has focus, so a page of
  // read-only YAML does not look as if something were selected.
  "&:not(.cm-focused) .cm-activeLine, &:not(.cm-focused) .cm-activeLineGutter": {
    backgroundColor: "transparent",
  },
  "&.cm-focused .cm-activeLine": { backgroundColor: "rgba(13, 110, 253, 0.05)" },
  "&.cm-focused .cm-activeLineGutter": { backgroundColor: "rgba(13, 110, 253, 0.1)" },
  ".cm-diagnosticLine-error": { backgroundColor: "rgba(220, 53, 69, 0.1)" },
  ".cm-diagnosticLine-warning": { backgroundColor: "rgba(255, 193, 7, 0.15)" },
  ".cm-diagnosticLine-info, .cm-diagnosticLine-hint": {
    backgroundColor: "rgba(13, 202, 240, 0.1)",
  },
  ".cm-panels": {
    backgroundColor: "var(--bs-tertiary-bg, #f8f9fa)",
    color: "var(--bs-secondary-color, #6c757d)",
  },
  ".cm-panels-bottom": {
    borderTop: "var(--bs-border-width, 1px) solid var(--bs-border-color, #dee2e6)",
    borderRadius: "0 0 var(--bs-border-radius, 0.375rem) var(--bs-border-radius, 0.375rem)",
  },
  ".cm-yaml-status": {
    display: "flex",
    flexWrap: "wrap",
    gap: "0.25rem 1rem",
    padding: "0.125rem 0.5rem",
    fontSize: "0.8125rem",
  },
  ".cm-yaml-status-problems": { color: "var(--bs-body-color, #212529)", fontWeight: "600" },
  ".cm-yaml-status-hint": { marginLeft: "auto" },
});

/**
 * Everything one YAML editor needs. `onUpdate(update)` runs after every
 * update; `contentAttributes` go on the editable element (labels,
 * descriptions); `hintId` is the id of the keyboard hint in the status line;
 * `words` are what the status line and CodeMirror's panels say (words.js).
 */
export function editorExtensions({ readOnly, contentAttributes, hintId, onUpdate, words = ENGLISH }) {
  return [
    EditorState.phrases.of(words.phrases),
    lineNumbers(),
    highlightActiveLineGutter(),
    foldGutter(),
    lintGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    // YAML forbids tab characters for indentation: Tab inserts two spaces.
    EditorState.tabSize.of(2),
    indentUnit.of("  "),
    keymap.of([
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...foldKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    yaml(),
    serverLines,
    invalidMark,
    // Read-only editors stay focusable so keyboard users can scroll, select
    // and copy; only changes are refused.
    EditorState.readOnly.of(Boolean(readOnly)),
    readOnly ? EditorView.editorAttributes.of({ class: "cm-yaml-readonly" }) : [],
    EditorView.contentAttributes.of(contentAttributes),
    statusPanel({ hintId, readOnly, words }),
    EditorView.updateListener.of(onUpdate),
    theme,
  ];
}
