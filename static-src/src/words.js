// The words the editor shows: its status line, and the phrases of CodeMirror's own
// panels and markers (search, go to line, the problem list, folding).
//
// English unless the page gives its own in `<script type="application/json"
// id="editor-words">`, written by the server in the page's language. Counted
// words come as two forms, the first for a count of one; placeholders are
// `{name}`. Anything missing or malformed keeps its English.

export const WORDS_ID = "editor-words";

export const ENGLISH = Object.freeze({
  position: "Line {line}, column {column}",
  errors: ["{count} error", "{count} errors"],
  warnings: ["{count} warning", "{count} warnings"],
  notes: ["{count} note", "{count} notes"],
  separator: ", ",
  hint: "Tab indents. Press Esc then Tab to leave the editor. Ctrl-F searches, F8 jumps to the next problem.",
  readOnlyHint: "Read-only. Tab moves to the next control.",
  phrases: Object.freeze({}),
});

const isText = (value) => typeof value === "string" && value !== "";
const isForms = (value) => Array.isArray(value) && value.length === 2 && value.every(isText);

function textPhrases(value) {
  const phrases = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, text] of Object.entries(value)) {
      if (isText(key) && isText(text)) phrases[key] = text;
    }
  }
  return phrases;
}

/** The English words with every well-formed entry of `given` in their place. */
export function mergeWords(given) {
  const words = { ...ENGLISH, phrases: {} };
  if (!given || typeof given !== "object" || Array.isArray(given)) return words;
  for (const key of ["position", "separator", "hint", "readOnlyHint"]) {
    if (isText(given[key])) words[key] = given[key];
  }
  for (const key of ["errors", "warnings", "notes"]) {
    if (isForms(given[key])) words[key] = [...given[key]];
  }
  words.phrases = textPhrases(given.phrases);
  return words;
}

/** Read the words of a JSON text; English for a missing or malformed one. */
export function parseWords(text) {
  if (typeof text !== "string" || !text.trim()) return mergeWords(null);
  try {
    return mergeWords(JSON.parse(text));
  } catch {
    return mergeWords(null);
  }
}

/** The words the page gives (read each time, so a page swapped in by htmx counts). */
export function pageWords(doc = document) {
  return parseWords(doc.getElementById(WORDS_ID)?.textContent);
}

/** `template` with each `{name}` replaced by `values[name]`; unknown names stay. */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole,
  );
}

/** A count in words: the first form for one, the second for any other count. */
export function counted(forms, count) {
  return fill(count === 1 ? forms[0] : forms[1], { count });
}
