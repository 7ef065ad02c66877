#!/usr/bin/env bash
# Installs n8n VERSION into DIR (a cache dir keyed by version), once.
# Plain `npm install n8n@1.x` fails here: n8n 1.x pulls `xlsx` as a tarball
# from a CDN that is unreachable; overriding it with the registry's 0.18.5
# works (see /work/shared/notes/toolchain.md).
set -euo pipefail
version=${1:?version}
dir=${2:?dir}
if [[ -x "$dir/node_modules/.bin/n8n" ]]; then
	exit 0
fi
mkdir -p "$dir"
cat >"$dir/package.json" <<JSON
{
  "name": "unsilo-n8n-cache",
  "private": true,
  "dependencies": { "n8n": "$version" },
  "overrides": { "xlsx": "0.18.5" }
}
JSON
cd "$dir"
npm install --no-audit --no-fund --loglevel=error >install.log 2>&1 || { tail -30 install.log; exit 1; }
test -x node_modules/.bin/n8n
