#!/usr/bin/env bash
# Builds kube-testenv (a real kube-apiserver + embedded etcd) into
#   <repo>/.cache/kube-testenv/<key>/kube-testenv
# where <key> hashes go.mod, go.sum, build.sh, the *.go files and `go version`.
# When that binary already exists this is a no-op. The binary's path is the last line of stdout.
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
export GOTOOLCHAIN=local CGO_ENABLED=0

cd "$here"
key="$( { "$GO" version; "$GO" env GOOS GOARCH
          for f in go.mod go.sum build.sh $(ls ./*.go | LC_ALL=C sort); do echo "== $f"; cat "$f"; done
        } | sha256sum | cut -c1-16 )"
out_dir="$root/.cache/kube-testenv/$key"
bin="$out_dir/kube-testenv"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

# Version stamped the way hack/lib/version.sh does, so /version reports e.g. v1.37.2.
k8s_version="$("$GO" list -m -f '{{.Version}}' k8s.io/kubernetes)"
build_date="$("$GO" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
[[ "$k8s_version" =~ ^v([0-9]+)\.([0-9]+)\. ]] || { echo "build.sh: unexpected k8s.io/kubernetes version $k8s_version" >&2; exit 1; }
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=archive"
  [[ -n "$build_date" ]] && ldflags+=" -X $pkg.buildDate=$build_date"
done

echo "build.sh: building kube-testenv ($k8s_version) into $out_dir (the first build takes several minutes)" >&2
mkdir -p "$out_dir"
tmp="$(mktemp -d "$out_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$GO" build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/kube-testenv" . >&2
mv -f "$tmp/kube-testenv" "$bin"
rm -rf "$tmp"
trap - EXIT
# Drop binaries built from earlier sources (each is ~120 MB), but not a build in progress.
shopt -s nullglob
for old in "$root/.cache/kube-testenv"/*/; do
  [[ "$old" == "$out_dir/" ]] && continue
  in_progress=("$old".build.*)
  (( ${#in_progress[@]} == 0 )) && rm -rf "$old"
done
echo "$bin"
