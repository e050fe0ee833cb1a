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
