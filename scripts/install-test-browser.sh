#!/usr/bin/env bash
# Installs what the web console's browser tests use (crates/recital/tests/console.rs):
# Debian's Chromium (`chromium`, `chromium-driver`: browser downloads are not
# reachable, so Playwright drives the system browser) and, from npm,
# playwright-core and axe-core in ${RECITAL_CACHE:-$HOME/.cache/recital}/node.
#
# Prints that node_modules directory on stdout (everything else goes to stderr), so
# `RECITAL_TEST_NODE_MODULES="$(scripts/install-test-browser.sh)"` works. Idempotent:
# when everything is there it only checks versions (well under a second). Fails when
# it cannot install: the browser tests cannot be skipped.
set -euo pipefail

playwright=1.65.2
axe=4.14.1
cache="${RECITAL_CACHE:-$HOME/.cache/recital}"
dir="$cache/node"
modules="$dir/node_modules"

say() { echo "install-test-browser: $*" >&2; }

version_of() { sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$modules/$1/package.json" 2>/dev/null | head -n1; }

ready() {
  [ -x /usr/bin/chromium ] && command -v node >/dev/null 2>&1 &&
    [ "$(version_of playwright-core)" = "$playwright" ] && [ "$(version_of axe-core)" = "$axe" ]
}

if ready; then
  echo "$modules"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/node.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if ready; then
  echo "$modules"
  exit 0
fi

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "need $* but this is not root with apt-get: install them and rerun"
    exit 1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; } ||
    { say "could not install $*"; exit 1; }
}

[ -x /usr/bin/chromium ] || apt_install chromium chromium-driver
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm

mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private": true, "description": "recital browser-test tools"}' >"$dir/package.json"
say "installing playwright-core@$playwright and axe-core@$axe from npm into $dir"
(cd "$dir" && npm install --no-audit --no-fund --silent "playwright-core@$playwright" "axe-core@$axe" >&2) ||
  { say "npm install failed (is the npm registry reachable?)"; exit 1; }
ready || { say "playwright-core $playwright and axe-core $axe still not in $modules"; exit 1; }
echo "$modules"
