import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Text } from "@codemirror/state";

import {
  countBySeverity,
  normalizeSeverity,
  parseDiagnosticsAttribute,
  toEditorDiagnostic,
  toEditorDiagnostics,
} from "../src/diagnostics.js";

const doc = Text.of([
  "apiVersion: networking.k8s.io/v1", // line 1
  "kind: NetworkPolicy",
  "metadata:",
  "  name: web", // line 4
  "",
  "spec: {}",
]);

function underlined(diagnostic) {
  return doc.sliceString(diagnostic.from, diagnostic.to);
}

describe("toEditorDiagnostic", () => {
  const cases = [
    ["a column underlines from it to the end of the line", { line: 4, column: 3 }, "name: web"],
    ["no column underlines the line from its first non-blank", { line: 4 }, "name: web"],
    ["a column past the end underlines the whole line", { line: 2, column: 99 }, "kind: NetworkPolicy"],
    ["a column at the end underlines the whole line", { line: 3, column: 10 }, "metadata:"],
    ["an end column bounds the range", { line: 1, column: 1, endColumn: 11 }, "apiVersion"],
    ["an end line extends the range", { line: 3, column: 1, endLine: 4, endColumn: 7 }, "metadata:\n  name"],
    ["a line past the end lands on the last line", { line: 40, column: 1 }, "spec: {}"],
    ["a zero or missing line lands on the first line", { line: 0 }, "apiVersion: networking.k8s.io/v1"],
    ["numeric strings are accepted", { line: "4", column: "9" }, "web"],
    ["an empty line gives an empty range at its start", { line: 5, column: 1 }, ""],
  ];
  for (const [name, position, expected] of cases) {
    test(name, () => {
      const diagnostic = toEditorDiagnostic(doc, { ...position, message: "m" });
      assert.ok(diagnostic.from <= diagnostic.to);
      assert.ok(diagnostic.to <= doc.length);
      assert.equal(underlined(diagnostic), expected);
    });
  }

  test("an empty line's range starts on that line", () => {
    const diagnostic = toEditorDiagnostic(doc, { line: 5, message: "m" });
    assert.equal(doc.lineAt(diagnostic.from).number, 5);
  });

  test("entries without a message are dropped", () => {
    assert.equal(toEditorDiagnostic(doc, { line: 1, message: "  " }), null);
    assert.equal(toEditorDiagnostic(doc, { line: 1 }), null);
    assert.equal(toEditorDiagnostic(doc, null), null);
    assert.equal(toEditorDiagnostic(doc, "line 1 is wrong"), null);
  });

  test("message, severity and source are carried over", () => {
    const diagnostic = toEditorDiagnostic(doc, {
      line: 2,
      severity: "warn",
      message: " selects no pods ",
      source: "lint",
    });
    assert.equal(diagnostic.message, "selects no pods");
    assert.equal(diagnostic.severity, "warning");
    assert.equal(diagnostic.source, "lint");
  });

  test("snake_case end positions are understood", () => {
    const diagnostic = toEditorDiagnostic(doc, {
      line: 1,
      column: 1,
      end_line: 1,
      end_column: 11,
      message: "m",
    });
    assert.equal(underlined(diagnostic), "apiVersion");
  });

  test("a one-line document takes any position", () => {
    const single = Text.of(["x: 1"]);
    const diagnostic = toEditorDiagnostic(single, { line: 3, column: 8, message: "m" });
    assert.deepEqual([diagnostic.from, diagnostic.to], [0, 4]);
  });
});

describe("toEditorDiagnostics", () => {
  test("returns diagnostics in document order without invalid entries", () => {
    const result = toEditorDiagnostics(doc, [
      { line: 4, message: "second" },
      { line: 2, message: "" },
      { line: 1, message: "first" },
    ]);
    assert.deepEqual(
      result.map((diagnostic) => diagnostic.message),
      ["first", "second"],
    );
  });

  test("anything but a list gives no diagnostics", () => {
    assert.deepEqual(toEditorDiagnostics(doc, { line: 1, message: "m" }), []);
    assert.deepEqual(toEditorDiagnostics(doc, undefined), []);
  });
});

describe("normalizeSeverity", () => {
  const cases = [
    ["error", "error"],
    ["Warning", "warning"],
    ["warn", "warning"],
    ["info", "info"],
    ["information", "info"],
    ["hint", "hint"],
    ["fatal", "error"],
    [undefined, "error"],
  ];
  for (const [given, expected] of cases) {
    test(`${given} becomes ${expected}`, () => assert.equal(normalizeSeverity(given), expected));
  }
});

describe("parseDiagnosticsAttribute", () => {
  test("reads a JSON list", () => {
    assert.deepEqual(parseDiagnosticsAttribute('[{"line":3,"message":"x"}]'), [
      { line: 3, message: "x" },
    ]);
  });

  for (const broken of [undefined, "", "  ", "not json", '{"line":3}', "[1,"]) {
    test(`a missing or broken attribute (${JSON.stringify(broken)}) gives an empty list`, () => {
      assert.deepEqual(parseDiagnosticsAttribute(broken), []);
    });
  }
});

test("countBySeverity counts unknown severities as errors", () => {
  assert.deepEqual(
    countBySeverity([{ severity: "error" }, { severity: "warning" }, { severity: "odd" }]),
    { error: 2, warning: 1, info: 0, hint: 0 },
  );
});
