// The editor's status line: cursor position, diagnostic counts and the
// keyboard hint that tells keyboard users how to leave the editor.

import { forEachDiagnostic } from "@codemirror/lint";
import { showPanel } from "@codemirror/view";

import { countBySeverity } from "./diagnostics.js";

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Summarise the diagnostics of a state in words, e.g. "2 errors, 1 warning". */
export function diagnosticSummary(state) {
  const found = [];
  forEachDiagnostic(state, (diagnostic) => found.push(diagnostic));
  const counts = countBySeverity(found);
  const parts = [];
  if (counts.error) parts.push(plural(counts.error, "error"));
  if (counts.warning) parts.push(plural(counts.warning, "warning"));
  if (counts.info + counts.hint) parts.push(plural(counts.info + counts.hint, "note"));
  return parts.join(", ");
}

function cursorText(state) {
  const head = state.selection.main.head;
  const line = state.doc.lineAt(head);
  return `Line ${line.number}, column ${head - line.from + 1}`;
}

/**
 * A bottom panel with the cursor position, the diagnostic summary (announced
 * politely to screen readers when it changes) and a keyboard hint whose
 * element id is `hintId`, so the editing area can point at it with
 * aria-describedby.
 */
export function statusPanel({ hintId, readOnly }) {
  const hint = readOnly
    ? "Read-only. Tab moves to the next control."
    : "Tab indents. Press Esc then Tab to leave the editor. Ctrl-F searches, F8 jumps to the next problem.";

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
      position.textContent = cursorText(state);
      const summary = diagnosticSummary(state);
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
