#!/usr/bin/env bash
# Installs what the PostgreSQL tests use (`serve --db postgres://…`: the store's
# tests in crates/recital-serve and tests/serve_pg.rs in crates/recital): Debian's
# `postgresql` package, whose server binaries (initdb, pg_ctl, postgres, createdb)
# the tests run on a temporary directory and a free port. Nothing is started here
# and the package's own cluster is not used.
#
# Prints the directory of those binaries on stdout (everything else goes to stderr),
# so `RECITAL_TEST_PG_BIN="$(scripts/install-test-postgres.sh)"` works. Idempotent:
# when they are there it only looks (well under a second). Fails when it cannot
# install: the PostgreSQL tests cannot be skipped.
set -euo pipefail

say() { echo "install-test-postgres: $*" >&2; }

# The newest installed server's binaries (Debian keeps each major version apart).
bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/createdb" ] && echo "$d"
}

if d="$(bindir)"; then
  echo "$d"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "need Debian's postgresql package but this is not root with apt-get: install it and rerun"
  exit 1
fi
say "installing postgresql with apt-get"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 ||
  { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; } ||
  { say "could not install postgresql"; exit 1; }
d="$(bindir)" || { say "postgresql is installed but initdb/pg_ctl are not under /usr/lib/postgresql/*/bin"; exit 1; }
echo "$d"
