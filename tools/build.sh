#!/usr/bin/env bash
# Builds one pinned CLI from its own tools module (tools/<name>/) into the user's cache,
# keyed by the module's version and go.sum, and links it into bin/. A warm run is a no-op.
# Each CLI has its own module because their k8s.io pins conflict with each other.
set -euo pipefail
name=${1:?usage: tools/build.sh NAME}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/tools/$name
[ -f "$dir/tools.go" ] || { echo "tools/build.sh: no tools/$name/tools.go" >&2; exit 2; }
pkg=$(sed -n 's/^import _ "\(.*\)"$/\1/p' "$dir/tools.go")
mod=$(cd "$dir" && go list -m -f '{{.Path}}@{{.Version}}' all | awk -v p="$pkg" 'index(p, substr($0, 1, index($0,"@")-1)) == 1 && length($0) > length(best) {best=$0} END {print best}')
# A tools module with its own main.go (a slimmer multi-call binary) builds
# "." and keys the cache by that file too.
target=$pkg
sumfiles=("$dir/go.sum")
if [ -f "$dir/main.go" ]; then target=.; sumfiles+=("$dir/main.go"); fi
# tools/<name>/ldflags (optional): link flags, e.g. the version a binary
# reports, which `go build` of a module cannot know otherwise.
ldflags=
if [ -f "$dir/ldflags" ]; then ldflags=$(grep -v '^#' "$dir/ldflags" | tr '\n' ' '); sumfiles+=("$dir/ldflags"); fi
sum=$(cat "${sumfiles[@]}" | sha256sum | cut -c1-12)
cache=${UNSILO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unsilo}
out=$cache/tools/$name-${mod##*@}-$sum/$name
if [ ! -x "$out" ]; then
  echo "building $name from $mod (cached in $out)" >&2
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$target")
  mv "$out.tmp" "$out"
fi
mkdir -p "$root/bin"
ln -sf "$out" "$root/bin/$name"
