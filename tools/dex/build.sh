#!/usr/bin/env bash
# Builds the tests' OpenID provider: Dex (github.com/dexidp/dex, cmd/dex, the version go.mod
# names) and testldap, the small LDAP directory that gives Dex's static test users their
# groups, into
#   <repo>/.cache/dex/<version>-<key>/{dex,testldap,web/}
# where <key> hashes go.mod, go.sum, build.sh, the Go sources here and `go version`. web/ is
# Dex's login page templates, copied from the module. When that folder is complete this is a
# no-op. The folder's path is the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else echo "build.sh: no go toolchain found (set GO=/path/to/go)" >&2; exit 1
  fi
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

cd "$here"
version="$("$GO" list -m -f '{{.Version}}' github.com/dexidp/dex)"
key="$( { "$GO" version; "$GO" env GOOS GOARCH
          for f in go.mod go.sum build.sh $(find . -name '*.go' | LC_ALL=C sort); do echo "== $f"; cat "$f"; done
        } | sha256sum | cut -c1-16 )"
out_dir="$root/.cache/dex/${version%%+*}-$key"
if [[ -f "$out_dir/.built" ]]; then
  echo "$out_dir"
  exit 0
fi

echo "build.sh: building Dex $version into $out_dir (the first build takes a few minutes)" >&2
mkdir -p "$out_dir"
tmp="$(mktemp -d "$out_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Dex links its SQLite storage (mattn/go-sqlite3), which needs cgo and a C compiler.
CGO_ENABLED=1 "$GO" build -trimpath -ldflags "-s -w -X github.com/dexidp/dex/version.Version=$version" \
  -o "$tmp/dex" github.com/dexidp/dex/cmd/dex >&2
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$tmp/testldap" ./testldap >&2
module_dir="$("$GO" list -m -f '{{.Dir}}' github.com/dexidp/dex)"
cp -R "$module_dir/web" "$tmp/web"
chmod -R u+w "$tmp/web"
rm -rf "$out_dir/dex" "$out_dir/testldap" "$out_dir/web"
mv "$tmp/dex" "$tmp/testldap" "$tmp/web" "$out_dir/"
rm -rf "$tmp"
trap - EXIT
touch "$out_dir/.built"
# Drop builds of earlier sources, but not a build in progress.
shopt -s nullglob
for old in "$root/.cache/dex"/*/; do
  [[ "$old" == "$out_dir/" ]] && continue
  in_progress=("$old".build.*)
  (( ${#in_progress[@]} == 0 )) && rm -rf "$old"
done
echo "$out_dir"
