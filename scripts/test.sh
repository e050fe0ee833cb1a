#!/usr/bin/env bash
# The whole test suite: formatting, lints, docs, and every unit, property and
# integration test of the workspace. `.ci/run` calls exactly this script.
#
# Builds go to a target directory outside the clone (reused between runs and
# clones) so CI on 2 cores does not rebuild dependencies from scratch each time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

scripts/install-test-corpora.sh
# The official `openai` Python client, from PyPI, for tests/openai_client.rs.
RECITAL_TEST_PYTHON="$(scripts/install-test-deps.sh)"
export RECITAL_TEST_PYTHON

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
cargo test --workspace
