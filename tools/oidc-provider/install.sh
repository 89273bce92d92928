#!/usr/bin/env bash
# Installs the tests' OpenID Connect provider (the npm package oidc-provider, pinned by
# package-lock.json) into
#   <repo>/.cache/oidc-provider/<key>/
# where <key> hashes package.json, package-lock.json, provider.mjs, install.sh and
# `node --version`. When that folder is complete this is a no-op. The path of provider.mjs
# inside it is the last line of stdout (run it with `node PATH CONFIG.json`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

command -v node >/dev/null 2>&1 || { echo "install.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install.sh: npm is not installed" >&2; exit 1; }

cd "$here"
key="$( { node --version
          for f in package.json package-lock.json provider.mjs install.sh; do echo "== $f"; cat "$f"; done
        } | sha256sum | cut -c1-16 )"
out_dir="$root/.cache/oidc-provider/$key"
if [[ -f "$out_dir/.installed" ]]; then
  echo "$out_dir/provider.mjs"
  exit 0
fi

echo "install.sh: installing oidc-provider into $out_dir" >&2
mkdir -p "$out_dir"
tmp="$(mktemp -d "$out_dir/.install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json provider.mjs "$tmp/"
(cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
rm -rf "$out_dir/node_modules"
mv "$tmp/node_modules" "$out_dir/node_modules"
cp package.json package-lock.json provider.mjs "$out_dir/"
rm -rf "$tmp"
trap - EXIT
touch "$out_dir/.installed"
# Drop installs of earlier sources, but not an install in progress.
shopt -s nullglob
for old in "$root/.cache/oidc-provider"/*/; do
  [[ "$old" == "$out_dir/" ]] && continue
  in_progress=("$old".install.*)
  (( ${#in_progress[@]} == 0 )) && rm -rf "$old"
done
echo "$out_dir/provider.mjs"
