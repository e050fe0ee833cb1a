//! Renamed copies of code are found whole, fenced or bare (issue 15).
//!
//! A copy with its identifiers renamed matches on the canonical stream only,
//! which has no comments: the comment above the copied function is part of
//! the copy where the source has it there, and is not where it was rewritten.
//! Bare, between paragraphs of an answer that is mostly code, each snippet
//! is lexed in its own language.

use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_index::{BuildOptions, Index, IngestOptions};

const SOURCE: &str = "#include <stdio.h>\n\n\
/* Sum the live weights. */\n\
static u64 ring_weight(struct ring *r, u64 limit)\n\
{\n\
\tu64 total = 0;\n\
\tstruct entry *cursor = r->head;\n\
\n\
\twhile (cursor && total < limit) {\n\
\t\tif (cursor->live)\n\
\t\t\ttotal += cursor->weight;\n\
\t\tcursor = cursor->next;\n\
\t}\n\
\treturn total;\n\
}\n\n\
int main(void)\n{\n\treturn 0;\n}\n";

/// The function of `SOURCE` with its names (types included) renamed
/// consistently (so no exact text piece is long enough to report), below
/// `comment` (too short to be an exact copy on its own).
fn renamed(comment: &str) -> String {
    format!(
        "{comment}static size_t loop_sum(struct band *b, size_t cap)\n\
{{\n\
    size_t acc = 0;\n\
    struct item *it = b->first;\n\
\n\
    while (it && acc < cap) {{\n\
        if (it->used)\n\
            acc += it->w;\n\
        it = it->nx;\n\
    }}\n\
    return acc;\n\
}}"
    )
}

const COMMENT: &str = "/* Sum the live weights. */\n";

struct Fixture {
    _dir: tempfile::TempDir,
    index: Index,
}

fn index() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("ring.c"), SOURCE).expect("write");
    let idx = dir.path().join("idx");
    recital_index::build(&idx, &[src], &IngestOptions::default(), &BuildOptions::default()).expect("build");
    Fixture { _dir: dir, index: Index::open(&idx).expect("open") }
}

/// Byte ranges of `text` reported as copies.
fn copies(f: &Fixture, text: &str) -> Vec<std::ops::Range<usize>> {
    let rep = scan(&f.index, &Input::decode(text.as_bytes()).expect("decode"), &ScanOptions::default())
        .expect("scan");
    rep.spans.iter().filter(|s| s.kind != SpanKind::Boilerplate).map(|s| s.byte_start..s.byte_end).collect()
}

/// Whether every non-blank byte of `from..to` is in a span.
fn covered(text: &str, spans: &[std::ops::Range<usize>], from: usize, to: usize) -> bool {
    (from..to).all(|b| text.as_bytes()[b].is_ascii_whitespace() || spans.iter().any(|s| s.contains(&b)))
}

#[test]
fn the_comment_above_a_renamed_copy_is_part_of_it() {
    let f = index();
    let code = renamed(COMMENT);
    let text = format!("Here is the code:\n\n```c\n{code}\n```\n");
    let at = text.find(COMMENT).unwrap();
    let spans = copies(&f, &text);
    assert!(covered(&text, &spans, at, at + code.len()), "{spans:?} should cover {at}..{}", at + code.len());
}

#[test]
fn a_rewritten_comment_is_not() {
    let f = index();
    let mine = "/* My own helper: sums what is still in use. */\n";
    let code = renamed(mine);
    let text = format!("Here is the code:\n\n```c\n{code}\n```\n");
    let at = text.find(mine).unwrap();
    let spans = copies(&f, &text);
    let body = at + mine.len();
    assert!(covered(&text, &spans, body, at + code.len()), "{spans:?}");
    assert!(spans.iter().all(|s| s.start >= body), "{spans:?}");
}

#[test]
fn a_bare_renamed_snippet_amid_prose_and_other_code_is_found() {
    let f = index();
    let code = renamed("");
    let py = "class Ring:\n    def __init__(self, items):\n        self.items = items\n\n    def weight(self):\n        return sum(i.weight for i in self.items if i.live)\n";
    // Read as one region, the whole answer was lexed as Python.
    let text = format!(
        "Here is the Python version.\n\n{py}\nThis is the part that handles the edge cases you asked about.\n{code}\n"
    );
    let at = text.find(&code).unwrap();
    let spans = copies(&f, &text);
    assert!(covered(&text, &spans, at, at + code.len()), "{spans:?}");
}

/// A function of 24 lexemes, shorter than `code_min_tokens` (25): its shape
/// alone is too little evidence, its comments make up the rest.
const SHORT_SOURCE: &str = "/* Drop one reference to the buffer pool; the last user frees it. */\n\
void pool_put(struct pool *p)\n\
{\n\
\tif (--p->refs == 0)\n\
\t\tpool_free(p);\n\
}\n\n\
void pool_get(struct pool *p)\n\
{\n\
\t/* the caller holds the pool lock, so a plain increment is enough here */\n\
\tp->refs += 1;\n\
\tpool_touch(p);\n\
}\n";

fn short_index() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("pool.c"), SHORT_SOURCE).expect("write");
    let idx = dir.path().join("idx");
    recital_index::build(&idx, &[src], &IngestOptions::default(), &BuildOptions::default()).expect("build");
    Fixture { _dir: dir, index: Index::open(&idx).expect("open") }
}

fn fenced(code: &str) -> String {
    format!("Here is the code:\n\n```c\n{code}\n```\n")
}

#[test]
fn a_short_renamed_function_under_its_source_comment_is_found() {
    let f = short_index();
    let code = "/* Drop one reference to the buffer pool; the last user frees it. */\n\
void band_drop(struct band *b)\n{\n    if (--b->uses == 0)\n        band_release(b);\n}";
    let text = fenced(code);
    let at = text.find(code).unwrap();
    let spans = copies(&f, &text);
    assert!(covered(&text, &spans, at, at + code.len()), "{spans:?} should cover {at}..{}", at + code.len());
}

#[test]
fn a_comment_inside_a_short_renamed_function_counts_too() {
    let f = short_index();
    let code = "void band_hold(struct band *b)\n{\n    /* the caller holds the pool lock, so a plain\n       increment is enough here */\n    b->uses += 1;\n    band_mark(b);\n}";
    let text = fenced(code);
    let at = text.find(code).unwrap();
    let spans = copies(&f, &text);
    assert!(covered(&text, &spans, at, at + code.len()), "{spans:?} should cover {at}..{}", at + code.len());
}

#[test]
fn a_short_renamed_function_without_its_comments_is_not() {
    let f = short_index();
    // Comments of the writer's own (as long as the source's), or none: the
    // shape of a 24-lexeme function is no evidence of a copy.
    for code in [
        "/* Release the band once nobody refers to it any more, then free it. */\n\
void band_drop(struct band *b)\n{\n    if (--b->uses == 0)\n        band_release(b);\n}",
        "void band_drop(struct band *b)\n{\n    if (--b->uses == 0)\n        band_release(b);\n}",
        "void band_hold(struct band *b)\n{\n    /* we own the band here and nobody else can see it yet, fine */\n    b->uses += 1;\n    band_mark(b);\n}",
    ] {
        let spans = copies(&f, &fenced(code));
        assert!(spans.is_empty(), "{code}: {spans:?}");
    }
}
