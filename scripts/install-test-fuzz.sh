#!/usr/bin/env bash
# Installs cargo-fuzz (libFuzzer driver) from crates.io into ~/.cargo/bin, the
# version scripts/fuzz.sh is written for. Idempotent: when that version is
# already installed it only checks (well under a second).
#
# Stable toolchain: the targets are built with `--sanitizer none` (AddressSanitizer
# needs nightly's -Zsanitizer); safe Rust needs no ASan to catch out-of-bounds reads,
# and libFuzzer's coverage instrumentation (-Cpasses=sancov-module) is stable.
set -euo pipefail
version=0.13.2
if cargo fuzz --version 2>/dev/null | grep -q " $version\$"; then
  exit 0
fi
echo "install-test-fuzz: installing cargo-fuzz $version" >&2
cargo install cargo-fuzz --version "$version" --locked --quiet >&2
