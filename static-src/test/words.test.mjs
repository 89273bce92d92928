import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { EditorState } from "@codemirror/state";

import { countsSummary, cursorText } from "../src/status.js";
import { ENGLISH, counted, fill, mergeWords, parseWords } from "../src/words.js";

const CHINESE = {
  position: "第 {line} 行，第 {column} 列",
  errors: ["{count} 个错误", "{count} 个错误"],
  warnings: ["{count} 条警告", "{count} 条警告"],
  notes: ["{count} 条提示", "{count} 条提示"],
  separator: "，",
  hint: "Tab 缩进。",
  readOnlyHint: "只读。",
  phrases: { Find: "查找" },
};

const counts = (error, warning, info = 0, hint = 0) => ({ error, warning, info, hint });

describe("the words of the status line", () => {
  test("English counts say one and many apart", () => {
    assert.equal(countsSummary(counts(1, 0)), "1 error");
    assert.equal(countsSummary(counts(2, 1)), "2 errors, 1 warning");
    assert.equal(countsSummary(counts(0, 3, 1, 1)), "3 warnings, 2 notes");
    assert.equal(countsSummary(counts(0, 0, 1)), "1 note");
  });

  test("no diagnostics say nothing", () => {
    assert.equal(countsSummary(counts(0, 0)), "");
  });

  test("the page's words replace the English ones", () => {
    const words = mergeWords(CHINESE);
    assert.equal(countsSummary(counts(2, 1, 0, 1), words), "2 个错误，1 条警告，1 条提示");
    const state = EditorState.create({ doc: "a: 1\nb: 2", selection: { anchor: 8 } });
    assert.equal(cursorText(state, words), "第 2 行，第 4 列");
    assert.equal(cursorText(state), "Line 2, column 4");
    assert.deepEqual(words.phrases, { Find: "查找" });
  });

  test("missing or malformed words keep their English", () => {
    const words = mergeWords({ position: "", errors: ["only one"], warnings: "x", separator: 3,
                               hint: null, phrases: { Find: "", next: 1, close: "关闭" } });
    assert.deepEqual({ ...words, phrases: {} }, { ...ENGLISH, phrases: {} });
    assert.deepEqual(words.phrases, { close: "关闭" });
  });

  for (const text of [undefined, "", "  ", "{not json", "[1, 2]", "null", "\"words\""]) {
    test(`a page without usable words gets English (${JSON.stringify(text)})`, () => {
      assert.deepEqual(parseWords(text), { ...ENGLISH, phrases: {} });
    });
  }

  test("placeholders are filled by name and unknown ones stay", () => {
    assert.equal(fill("{a} and {b}, {c}", { a: 1, b: "two" }), "1 and two, {c}");
    assert.equal(counted(["{count} error", "{count} errors"], 0), "0 errors");
  });
});
