// Conversion of the server's line/column diagnostics into CodeMirror ranges.
//
// The server speaks in 1-based lines and columns (as YAML parsers and
// validators report them); CodeMirror speaks in document offsets. Everything
// here is pure so it can be tested without a browser.

const SEVERITIES = {
  error: "error",
  warning: "warning",
  warn: "warning",
  info: "info",
  information: "info",
  hint: "hint",
};

/**
 * Map a server severity word onto one CodeMirror knows.
 * Unknown or missing severities count as errors, so nothing the server
 * reports is ever shown as less serious than it may be.
 */
export function normalizeSeverity(value) {
  const key = typeof value === "string" ? value.trim().toLowerCase() : "";
  return SEVERITIES[key] || "error";
}

function toPositiveInteger(value) {
  const number = typeof value === "string" ? Number(value) : value;
  return Number.isFinite(number) && number >= 1 ? Math.floor(number) : null;
}

function clampLine(doc, lineNumber) {
  return doc.line(Math.min(Math.max(lineNumber ?? 1, 1), doc.lines));
}

function offsetInLine(line, column) {
  return line.from + Math.min(column - 1, line.length);
}

function firstNonBlank(line) {
  const indent = /^\s*/.exec(line.text)[0].length;
  return line.from + indent;
}

/**
 * Turn one server diagnostic into a CodeMirror diagnostic, or null when it
 * carries no message.
 *
 * Guarantees: `from <= to`, both inside the document, whatever lines and
 * columns the server sent (a line past the end lands on the last line, as
 * parsers do for "unexpected end of document"). Without a column, or when the
 * column points at the end of its line, the whole line from its first
 * non-blank character is underlined, so the mark is always visible.
 */
export function toEditorDiagnostic(doc, item) {
  if (!item || typeof item !== "object") return null;
  const message = item.message == null ? "" : String(item.message).trim();
  if (!message) return null;

  const line = clampLine(doc, toPositiveInteger(item.line));
  const column = toPositiveInteger(item.column);
  let from = column === null ? firstNonBlank(line) : offsetInLine(line, column);
  let to = line.to;

  const endLineNumber = toPositiveInteger(item.endLine ?? item.end_line);
  const endColumn = toPositiveInteger(item.endColumn ?? item.end_column);
  if (endLineNumber !== null || endColumn !== null) {
    const endLine = endLineNumber === null ? line : clampLine(doc, endLineNumber);
    to = endColumn === null ? endLine.to : offsetInLine(endLine, endColumn);
  }

  if (to <= from) {
    from = Math.min(firstNonBlank(line), line.to);
    to = Math.max(line.to, from);
  }

  const diagnostic = { from, to, severity: normalizeSeverity(item.severity), message };
  if (typeof item.source === "string" && item.source) diagnostic.source = item.source;
  return diagnostic;
}

/**
 * Convert a list of server diagnostics, dropping entries without a message
 * and returning them in document order (CodeMirror requires sorted input for
 * its decorations).
 */
export function toEditorDiagnostics(doc, items) {
  if (!Array.isArray(items)) return [];
  return items
    .map((item) => toEditorDiagnostic(doc, item))
    .filter((diagnostic) => diagnostic !== null)
    .sort((a, b) => a.from - b.from || a.to - b.to);
}

/**
 * Read a `data-diagnostics` attribute value. Returns the list it holds, or
 * an empty list for a missing, empty or malformed attribute: a broken hint
 * must never stop the editor from loading.
 */
export function parseDiagnosticsAttribute(text) {
  if (typeof text !== "string" || !text.trim()) return [];
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

/**
 * Count diagnostics per severity, for the editor's status line.
 */
export function countBySeverity(diagnostics) {
  const counts = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const diagnostic of diagnostics) counts[normalizeSeverity(diagnostic.severity)] += 1;
  return counts;
}
