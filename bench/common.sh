# bench/common.sh: sourced by the bench/*.sh scripts (not run on its own).
# Strict mode, the repository root as working directory, and where corpora,
# work files and builds live (each overridable from the environment):
#   RECITAL_BENCH_DATA  corpora installed by bench/corpora.sh (~/.cache/recital-bench)
#   RECITAL_BENCH_WORK  indexes and raw outputs (~/.cache/recital-bench-work)
#   CARGO_TARGET_DIR    builds, shared with .ci/run (~/.cache/recital/target)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}
WORK=${RECITAL_BENCH_WORK:-$HOME/.cache/recital-bench-work}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/recital/target}
mkdir -p "$WORK" bench/results
