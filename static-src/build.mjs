// Builds static/editor/editor.bundle.js (the CodeMirror YAML editor) and
// static/editor/LICENSES.txt (the licenses of every package inside it).
// Usage: npm run build:editor

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "static", "editor");
const outFile = join(outDir, "editor.bundle.js");

function packageOf(inputPath) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(inputPath);
  return match ? match[1] : null;
}

function licenseText(packageDir) {
  for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"]) {
    try {
      return readFileSync(join(packageDir, name), "utf8").trim();
    } catch {
      // try the next spelling
    }
  }
  return "";
}

function licenseNotice(packageNames) {
  const sections = packageNames.map((name) => {
    const dir = join(here, "node_modules", name);
    const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return `${meta.name} ${meta.version} (${meta.license})\n\n${licenseText(dir)}\n`;
  });
  return (
    "Third-party packages bundled into editor.bundle.js " +
    "(rebuild with `npm run build` in static-src/).\n\n" +
    sections.join("\n" + "-".repeat(72) + "\n\n")
  );
}

mkdirSync(outDir, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(here, "src", "editor.js")],
  outfile: outFile,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  banner: { js: "/* YAML editor for the isolation console; bundled packages and licenses: LICENSES.txt */" },
  metafile: true,
  logLevel: "warning",
});

const bundled = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter(Boolean))].sort();
writeFileSync(join(outDir, "LICENSES.txt"), licenseNotice(bundled));

const bytes = readFileSync(outFile);
console.log(
  `editor.bundle.js: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} bytes gzipped; ` +
    `${bundled.length} packages: ${bundled.join(", ")}`,
);
