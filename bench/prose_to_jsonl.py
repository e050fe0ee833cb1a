#!/usr/bin/env python3
"""Convert installed text sources into JSONL documents for the recital prose benchmark.

Used by bench/corpora.sh; standard library only.  Every record is
    {"id": "<source>/<document>", "text": "...", "source": "<package and version>"}
with one document per dictionary entry group, Bible chapter, play, help file, manual
page or HTML page.  Nothing is deduplicated and nothing is repeated.

usage:
  prose_to_jsonl.py dictd   OUT ID SOURCE DICT.dz INDEX        [--group-bytes N]
  prose_to_jsonl.py files   OUT ID SOURCE ROOT --include RE [--exclude RE]  (plain text; .gz read)
  prose_to_jsonl.py html    OUT ID SOURCE ROOT --include RE [--exclude RE]  (HTML -> text)
  prose_to_jsonl.py kjv     OUT ID SOURCE                     (runs `bible -f`, one record per chapter)
  prose_to_jsonl.py fortune OUT ID SOURCE DIR                 (one record per fortune file)
  prose_to_jsonl.py man     OUT ID SOURCE LISTFILE --include RE  (renders with `man -l`, one per page)
OUT is written atomically (OUT.tmp, then renamed).  Prints "OUT records bytes" on stderr.
"""
import argparse
import base64
import gzip
import html
import html.parser
import json
import os
import re
import subprocess
import sys
import zlib

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class Writer:
    def __init__(self, out, ident, source):
        self.out, self.ident, self.source = out, ident, source
        self.f = open(out + ".tmp", "w", encoding="utf-8")
        self.n = self.bytes = 0
        self.seen = set()

    def add(self, doc, text, license=None):
        text = text.replace("\x00", " ").strip("\n")
        if not text.strip():
            return
        doc_id = f"{self.ident}/{doc}"
        k, i = doc_id, 1
        while k in self.seen:  # ids must be unique; never drop text
            i += 1
            k = f"{doc_id}#{i}"
        self.seen.add(k)
        rec = {"id": k, "text": text + "\n", "source": self.source}
        if license:
            rec["license"] = license
        self.f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.n += 1
        self.bytes += len(text.encode("utf-8")) + 1

    def close(self):
        self.f.close()
        os.replace(self.out + ".tmp", self.out)
        print(f"{self.out}\t{self.n} records\t{self.bytes} text bytes", file=sys.stderr)


def read_text(path):
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


def walk(root, include, exclude):
    inc, exc = re.compile(include), re.compile(exclude) if exclude else None
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if os.path.islink(p) or not inc.search(rel) or (exc and exc.search(rel)):
                continue
            yield p, rel


# ---------------------------------------------------------------- dictd
def b64num(s):
    n = 0
    for c in s:
        n = n * 64 + B64.index(c)
    return n


def cmd_dictd(a, w):
    data = open(a.dict, "rb").read()
    if a.dict.endswith(".dz"):
        data = zlib.decompress(data, 16 + zlib.MAX_WBITS)  # dictzip is gzip with extra field
    blocks = {}
    for line in open(a.index, encoding="utf-8", errors="replace"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
            continue
        off, ln = b64num(parts[1]), b64num(parts[2])
        blocks.setdefault((off, ln), parts[0])
    # distinct definition blocks in file order, grouped into documents of ~group_bytes
    group, first, size, last_end = [], None, 0, -1
    def flush():
        nonlocal group, first, size
        if group:
            w.add(f"{first}", "\n\n".join(group))
        group, first, size = [], None, 0
    for (off, ln), head in sorted(blocks.items()):
        if off < last_end:  # a block inside one already taken (aliases): skip, not repeat
            continue
        last_end = off + ln
        text = data[off:off + ln].decode("utf-8", errors="replace").strip("\n")
        if first is None:
            first = head
        group.append(text)
        size += len(text)
        if size >= a.group_bytes:
            flush()
    flush()


# ---------------------------------------------------------------- plain files
def cmd_files(a, w):
    for p, rel in walk(a.root, a.include, a.exclude):
        w.add(rel, read_text(p))


# ---------------------------------------------------------------- HTML
class HTMLText(html.parser.HTMLParser):
    BLOCK = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
             "tr", "table", "section", "article", "blockquote", "pre", "br", "hr", "caption",
             "figure", "header", "footer", "main", "td", "th"}
    SKIP = {"script", "style", "head", "nav", "noscript", "svg", "button", "form", "select"}
    NAVCLASS = {"navheader", "navfooter", "navigation", "sphinxsidebar", "related", "breadcrumb",
                "breadcrumbs", "footer", "sidebar", "nav-wrapper", "nav-chapters", "mobile-nav-chapters",
                "menu-bar"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.pre = [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "pre":
            self.pre += 1
        d = dict(attrs)
        if d.get("role") == "navigation" or self.NAVCLASS.intersection((d.get("class") or "").split()):
            if tag not in self.SKIP:  # count as a skipped element until its end tag
                self._nav_tag = getattr(self, "_nav_tag", [])
                self._nav_tag.append([tag, 1])
                self.skip += 1
                return
        nav = getattr(self, "_nav_tag", [])
        if nav and nav[-1][0] == tag:
            nav[-1][1] += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        nav = getattr(self, "_nav_tag", [])
        if nav and nav[-1][0] == tag:
            nav[-1][1] -= 1
            if nav[-1][1] == 0:
                nav.pop()
                self.skip -= 1
                return
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        self.parts.append(data)

    def text(self):
        t = "".join(self.parts)
        t = re.sub(r"[ \t]+\n", "\n", t)
        t = re.sub(r"\n (?=\S)", "\n", t)
        t = re.sub(r"\n{3,}", "\n\n", t)
        return t.strip()


def html_to_text(src):
    p = HTMLText()
    try:
        p.feed(src)
        p.close()
    except Exception:  # malformed HTML: keep what was parsed
        pass
    return p.text()


def cmd_html(a, w):
    for p, rel in walk(a.root, a.include, a.exclude):
        w.add(rel, html_to_text(read_text(p)))


# ---------------------------------------------------------------- KJV via `bible -f`
def cmd_kjv(a, w):
    out = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    chapters, order = {}, []
    for line in out.splitlines():
        m = re.match(r"^(\S+?)(\d+):(\d+) (.*)$", line)
        if not m:
            continue
        key = f"{m.group(1)}{m.group(2)}"
        if key not in chapters:
            chapters[key] = []
            order.append(key)
        chapters[key].append(m.group(4))
    for key in order:
        w.add(key, "\n".join(chapters[key]))


# ---------------------------------------------------------------- fortune files
def cmd_fortune(a, w):
    for f in sorted(os.listdir(a.root)):
        p = os.path.join(a.root, f)
        if os.path.isfile(p) and not os.path.islink(p) and "." not in f:
            w.add(f, read_text(p))


# ---------------------------------------------------------------- man pages
SPDX = re.compile(r"SPDX-License-Identifier:\s*(.+?)\s*$", re.M)


def render_man(p):
    src = read_text(p)
    if src.lstrip().startswith(".so ") and len(src) < 300:  # a redirection to another page
        return None, None
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "-l", "-E", "UTF-8", p], env=env, capture_output=True)
    text = re.sub(r".\x08", "", r.stdout.decode("utf-8", errors="replace"))  # overstrike, if any
    m = SPDX.search(src[:4000])
    return text, (m.group(1) if m else None)


def cmd_man(a, w):
    """ROOT is a file listing the page files (e.g. from dpkg -L), one per line.  The page's
    own SPDX line (a roff comment, dropped by rendering) becomes the record's "license"."""
    from concurrent.futures import ThreadPoolExecutor
    pages = sorted({l.strip() for l in open(a.root) if re.search(a.include, l.strip()) and os.path.isfile(l.strip())
                    and not os.path.islink(l.strip())})
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for p, (text, lic) in zip(pages, ex.map(render_man, pages)):
            if text:
                w.add(os.path.relpath(p, "/usr/share/man"), text, lic)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["dictd", "files", "html", "kjv", "fortune", "man"])
    ap.add_argument("out")
    ap.add_argument("ident")
    ap.add_argument("source")
    ap.add_argument("root", nargs="?")
    ap.add_argument("index", nargs="?")
    ap.add_argument("--include", default=".")
    ap.add_argument("--exclude", default=None)
    ap.add_argument("--group-bytes", type=int, default=8192)
    a = ap.parse_args()
    a.dict = a.root
    w = Writer(a.out, a.ident, a.source)
    {"dictd": cmd_dictd, "files": cmd_files, "html": cmd_html, "kjv": cmd_kjv,
     "fortune": cmd_fortune, "man": cmd_man}[a.mode](a, w)
    w.close()


if __name__ == "__main__":
    main()
