#!/usr/bin/env bash
# bench/artefact.sh [SIZE_MB]: `recital artefact scan` throughput (MB/s) and
# peak memory on one artefact of SIZE_MB (default 1024) random bytes with
# passages of the bundled sample prose planted in it as UTF-8, UTF-16LE, and
# inside gzip and zstd members (bench/artefact_make.py), against the sample
# index, release build. Side by side in the same run: `cat` (reading the
# file from the page cache) and GNU `strings -a -n 24` (printable ASCII runs
# only, no scanning). Written to bench/RESULTS.md (section "Artefact scan");
# the raw report in bench/results/artefact.json (without the copies' text).
source "$(dirname "$0")/common.sh"
SIZE_MB=${1:-1024}
W=$WORK/artefact
mkdir -p "$W"
command -v zstd >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq zstd >&2; } ||
  { echo "bench/artefact.sh needs the zstd command" >&2; exit 1; }
cargo build --release -q -p recital
BIN=$CARGO_TARGET_DIR/release/recital
[ -d "$W/index" ] || "$BIN" index build --index "$W/index" --rights data/sample/rights.jsonl data/sample/prose >/dev/null
ART=$W/artefact-$SIZE_MB.bin
[ -f "$ART.json" ] && [ -f "$ART" ] || python3 bench/artefact_make.py "$ART" "$SIZE_MB" data/sample > "$ART.json"

# Wall time of a command, output discarded, in seconds.
t() { local s; s=$(date +%s.%N); "$@" >/dev/null; python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$s" "$(date +%s.%N)"; }
cat "$ART" >/dev/null # into the page cache
CAT_S=$(t cat "$ART")
STRINGS_S=$(t strings -a -n 24 "$ART")
/usr/bin/time -v -o "$W/time.txt" "$BIN" artefact scan --index "$W/index" --json "$ART" > "$W/report.json"
python3 - "$W" "$ART" "$CAT_S" "$STRINGS_S" "$(git rev-parse --short HEAD)" > "$W/section.md" <<'PY'
import json, os, re, sys
w, art, cat_s, strings_s, rev = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
made = json.load(open(art + ".json"))
r = json.load(open(w + "/report.json"))
tv = open(w + "/time.txt").read()
wall = tv.split("Elapsed (wall clock) time (h:mm:ss or m:ss): ")[1].split("\n")[0]
parts = [float(x) for x in wall.split(":")]
secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv).group(1)) / 1024
mb = made["bytes"] / 1e6
kinds = {"utf8": 0, "utf16": 0, "gzip": 0, "zstd": 0}
for c in r["copies"]:
    m = c.get("members") or []
    k = m[0]["kind"] if m else ("utf16" if c["encoding"].startswith("utf16") else "utf8")
    kinds[k] += 1
for c in r["copies"]:
    c["span"]["text"] = c["span"]["text"][:80]
    for s in c["span"]["sources"]:
        s.pop("snippet", None)
json.dump(r, open("bench/results/artefact.json", "w"), indent=1)
load = os.getloadavg()[0]
print(f"Run on {os.cpu_count()} cores, load average {load:.2f}; recital {rev}, release build. Regenerate with `bench/artefact.sh`.\n")
print(f"One artefact of {mb:,.0f} MB: random bytes with {made['total']} passages (about 500 bytes each) of the bundled sample prose planted "
      "as UTF-8, UTF-16LE and inside gzip and zstd members (`artefact_make.py`), scanned against the sample index "
      "with the built-in policy. `cat` and `strings -a -n 24` (printable ASCII runs only, nothing scanned) read the same file from the page cache in the same run.\n")
print("| command | wall time | MB/s | peak RSS | vs `strings` |")
print("|---|---:|---:|---:|---:|")
print(f"| `cat` | {cat_s:.2f} s | {mb / cat_s:,.0f} | | |")
print(f"| `strings -a -n 24` | {strings_s:.2f} s | {mb / strings_s:,.0f} | | 1.00 |")
print(f"| `recital artefact scan` | {secs:.2f} s | {mb / secs:,.0f} | {rss:,.0f} MB | {strings_s / secs:.2f} |")
print()
found = ", ".join(f"{kinds[k]}/{made['planted'][k]} {k}" for k in kinds)
print(f"Copies found: {len(r['copies'])} of {made['total']} planted ({found}); {r['files'][0]['members']} compressed member(s) opened "
      f"(the planted ones and any gzip/zstd magic numbers that random bytes produced by chance and that decoded to something). "
      f"Memory does not grow with the file: the reader holds one 1 MiB block and the scanner a 256 KiB window.")
PY
python3 bench/update_results.py "Artefact scan" "$W/section.md"
cat "$W/section.md"
