#!/usr/bin/env bash
# bench/index_ops.sh BASE_BIN [COPIES]: `recital index adopt` and the time to a new
# process's first answer, this tree's release build beside BASE_BIN (a release
# build of the commit to compare with), rounds interleaved; the "Adopt and first
# use" section of bench/RESULTS.md, raw JSON in bench/results/index-ops.json.
#
# COPIES (default 4) partition indexes are built from the first copies of the
# scale corpus (bench/scale_corpus.py; 279 MB of text each), then adopted into a
# new index by each binary (median of 3; and the disk each adoption took). On the
# adopted index: the first `count` and the first 4 KB `scan` of a new process,
# which checksums every shard file before it answers (Shard::verify_once), with the
# index in the page cache (warm) and evicted from it (cold), median of 3.
source "$(dirname "$0")/common.sh"
BASE=${1:?usage: bench/index_ops.sh BASE_BIN [COPIES]}
COPIES=${2:-4}
cargo build --release -q -p recital --bin recital
NEW=$CARGO_TARGET_DIR/release/recital
corpus=$WORK/scale-corpus
python3 bench/scale_corpus.py --copies "$COPIES" "$DATA/prose" "$corpus" >&2
ops=$WORK/index-ops
rm -rf "$ops" && mkdir -p "$ops"
parts=()
for ((k = 0; k < COPIES; k++)); do
  p=$ops/part-$k
  "$NEW" index build --text --index "$p" "$(printf '%s/copy-%03d.jsonl.zst' "$corpus" "$k")" >/dev/null 2>&1
  parts+=("$p")
done
text=$ops/output-4k.txt
python3 bench/batch_outputs.py --n 4 --seed 1 --copy-share 1 "$DATA/prose" | python3 -c \
  'import json, sys; print(" ".join(json.loads(l)["text"] for l in sys.stdin))' >"$text"
python3 bench/index_ops.py --base "$BASE" --new "$NEW" --parts "${parts[@]}" --work "$ops" \
  --query "the quick brown fox" --text-file "$text" --out bench/results/index-ops.json >/dev/null
rm -rf "$ops"
python3 bench/summarise_index_ops.py bench/results/index-ops.json "$BASE" >bench/results/index-ops.md
python3 bench/update_results.py "Adopt and first use" bench/results/index-ops.md
echo "==> bench/RESULTS.md updated (Adopt and first use)" >&2
