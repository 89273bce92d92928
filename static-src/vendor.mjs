// Copies the browser assets the console serves from npm packages into
// static/vendor/ and records what was copied in static/vendor/VERSIONS.md.
// Usage: npm run build:vendor

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendorDir = join(here, "..", "static", "vendor");

// Source maps are copied with the files that name them: Django's manifest
// storage follows sourceMappingURL comments and fails on a missing map.
const ASSETS = [
  {
    package: "htmx.org",
    target: "htmx",
    files: { "dist/htmx.min.js": "htmx.min.js" },
  },
  {
    package: "bootstrap",
    target: "bootstrap",
    files: {
      "dist/css/bootstrap.min.css": "css/bootstrap.min.css",
      "dist/css/bootstrap.min.css.map": "css/bootstrap.min.css.map",
      "dist/js/bootstrap.bundle.min.js": "js/bootstrap.bundle.min.js",
      "dist/js/bootstrap.bundle.min.js.map": "js/bootstrap.bundle.min.js.map",
    },
  },
  {
    package: "bootstrap-icons",
    target: "bootstrap-icons",
    files: {
      "font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
      "font/fonts/bootstrap-icons.woff2": "fonts/bootstrap-icons.woff2",
      "font/fonts/bootstrap-icons.woff": "fonts/bootstrap-icons.woff",
    },
  },
];

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

const rows = [];
for (const asset of ASSETS) {
  const packageDir = join(here, "node_modules", asset.package);
  const meta = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const targetDir = join(vendorDir, asset.target);
  rmSync(targetDir, { recursive: true, force: true });
  for (const [from, to] of Object.entries(asset.files)) {
    copy(join(packageDir, from), join(targetDir, to));
  }
  copy(join(packageDir, "LICENSE"), join(targetDir, "LICENSE"));
  const served = Object.values(asset.files)
    .filter((file) => !file.endsWith(".map"))
    .map((file) => `\`${asset.target}/${file}\``)
    .join(", ");
  rows.push(`| ${meta.name} | ${meta.version} | ${meta.license} | npm package \`${meta.name}@${meta.version}\` | ${served} |`);
}

const versions = `# Vendored front-end assets

Served from \`static/vendor/\`; nothing is loaded from a CDN. These files are copied
verbatim from the npm packages pinned in \`static-src/package-lock.json\` by
\`npm run build\` in \`static-src/\` (see \`static-src/README.md\`); do not edit them by hand.
Each folder holds the package's LICENSE.

| name | version | license | source | files |
|---|---|---|---|---|
${rows.join("\n")}

The YAML editor bundle in \`static/editor/\` is built from the same lock file; its bundled
packages, versions and licenses are listed in \`static/editor/LICENSES.txt\`.
`;
writeFileSync(join(vendorDir, "VERSIONS.md"), versions);
console.log(`vendored ${ASSETS.map((asset) => asset.package).join(", ")} into static/vendor/`);
