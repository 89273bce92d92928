// The editor's status line: cursor position, diagnostic counts and the
// keyboard hint that tells keyboard users how to leave the editor.

import { forEachDiagnostic } from "@codemirror/lint";
import { showPanel } from "@codemirror/view";

import { countBySeverity } from "./diagnostics.js";
import { ENGLISH, counted, fill } from "./words.js";

/** Summarise diagnostic counts in words, e.g. "2 errors, 1 warning"; "" for none. */
export function countsSummary(counts, words = ENGLISH) {
  const parts = [];
  if (counts.error) parts.push(counted(words.errors, counts.error));
  if (counts.warning) parts.push(counted(words.warnings, counts.warning));
  if (counts.info + counts.hint) parts.push(counted(words.notes, counts.info + counts.hint));
  return parts.join(words.separator);
}

/** Summarise the diagnostics of a state in words. */
export function diagnosticSummary(state, words = ENGLISH) {
  const found = [];
  forEachDiagnostic(state, (diagnostic) => found.push(diagnostic));
  return countsSummary(countBySeverity(found), words);
}

/** The cursor's 1-based line and column in words. */
export function cursorText(state, words = ENGLISH) {
  const head = state.selection.main.head;
  const line = state.doc.lineAt(head);
  return fill(words.position, { line: line.number, column: head - line.from + 1 });
}

/**
 * A bottom panel with the cursor position, the diagnostic summary (announced
 * politely to screen readers when it changes) and a keyboard hint whose
 * element id is `hintId`, so the editing area can point at it with
 * aria-describedby; all in `words` (see words.js).
 */
export function statusPanel({ hintId, readOnly, words = ENGLISH }) {
  const hint = readOnly ? words.readOnlyHint : words.hint;

  return showPanel.of((view) => {
    const dom = document.createElement("div");
    dom.className = "cm-yaml-status";

    const position = document.createElement("span");
    position.className = "cm-yaml-status-position";

    const problems = document.createElement("span");
    problems.className = "cm-yaml-status-problems";
    problems.setAttribute("aria-live", "polite");

    const hintElement = document.createElement("span");
    hintElement.className = "cm-yaml-status-hint";
    hintElement.id = hintId;
    hintElement.textContent = hint;

    dom.append(position, problems, hintElement);

    const render = (state) => {
      position.textContent = cursorText(state, words);
      const summary = diagnosticSummary(state, words);
      if (problems.textContent !== summary) problems.textContent = summary;
      problems.hidden = !summary;
    };
    render(view.state);

    return {
      dom,
      bottom: true,
      update(update) {
        if (update.docChanged || update.selectionSet || update.transactions.length) {
          render(update.state);
        }
      },
    };
  });
}
