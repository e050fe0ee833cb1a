//! The Markdown view: a document's text with its markup dropped.
//!
//! pulldown-cmark parses (CommonMark, plus tables, strikethrough and task
//! lists) and reports each event's source range. The view keeps text, inline
//! code and code blocks (copied code in a fence must still be found), link
//! and image text (not URLs), table cells; block boundaries become a
//! synthetic `"\n"`. Where a text event's content is its source slice it is
//! mapped byte for byte; where not (entities, backslash escapes) each of its
//! bytes maps to the event's whole source range. Raw HTML is left to the
//! HTML view.
//!
//! A misparse (C's `*ptr`, `a_b_c`) cannot hide anything: the raw scan still
//! runs, so the view only adds.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{View, ViewKind};

/// Whether `text` may hold Markdown: a byte that starts inline markup, or a
/// line that could open a block (a list item, an indented code block). Plain
/// prose usually has neither and is never parsed.
pub(super) fn may_have_markup(text: &str) -> bool {
    // A table, not a search of the list per byte: the streaming filter asks
    // this of every window of plain prose, where it is the whole cost.
    const INLINE: [bool; 256] = {
        let mut t = [false; 256];
        let marks = b"*_`[]#>|~<&\\";
        let mut i = 0;
        while i < marks.len() {
            t[marks[i] as usize] = true;
            i += 1;
        }
        t
    };
    if text.bytes().any(|b| INLINE[b as usize]) {
        return true;
    }
    text.lines().any(|l| {
        let t = l.trim_start_matches(' ');
        let indent = l.len() - t.len();
        let marker = t.strip_prefix(['-', '+']).is_some_and(|r| r.starts_with([' ', '\t']) || r.is_empty())
            || t.trim_start_matches(|c: char| c.is_ascii_digit()).len() < t.len()
                && t.trim_start_matches(|c: char| c.is_ascii_digit()).starts_with(['.', ')'])
            || t.starts_with("===")
            || t.starts_with("---");
        marker || (indent >= 4 && !t.is_empty()) || l.starts_with('\t')
    })
}

/// True for inline tags: they wrap words inside a block, and add no boundary.
fn inline(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn inline_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Appends `content`, which the parser read from `text[src]`: byte for byte
/// where it is a slice of the source, else each byte from the whole range.
fn push_text(view: &mut View, text: &str, content: &str, src: std::ops::Range<usize>, seg: u32) {
    let slice = &text[src.clone()];
    if slice == content {
        view.push_verbatim(content, src.start, seg);
    } else {
        view.push_mapped(content, src, seg);
    }
}

/// A gap of dropped original text that a scan need not see: whitespace, or
/// whole code-fence lines (they stand between blocks, where no copy runs on).
fn ignorable(gap: &str) -> bool {
    gap.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("```") || t.starts_with("~~~")
    })
}

/// The Markdown view of `text`, or `None` when it has no markup (the view
/// would drop only whitespace and code fences).
pub(super) fn view(text: &str) -> Option<View> {
    if !may_have_markup(text) {
        return None;
    }
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut view = View::new(ViewKind::Markdown);
    let mut seg = 0u32;
    for (event, src) in Parser::new_ext(text, opts).into_offset_iter() {
        match event {
            Event::Text(s) | Event::Code(s) => {
                seg += 1;
                push_text(&mut view, text, &s, src, seg);
            }
            Event::SoftBreak if text[src.start..].starts_with('\n') => {
                view.push_verbatim("\n", src.start, seg)
            }
            Event::SoftBreak | Event::HardBreak => view.push_mapped("\n", src.start..src.start, seg),
            Event::Start(tag) if !inline(&tag) => view.separate(src.start, seg),
            Event::End(tag) if !inline_end(&tag) => view.separate(src.end, seg),
            _ => {}
        }
    }
    (!view.adds_nothing(text, ignorable)).then_some(view)
}

/// Where a link whose destination is still being written at the end of
/// `text` starts (the `[` of `[words](https://exa`, or the `!` of an image).
fn unfinished_link(text: &str) -> Option<usize> {
    let at = text.rfind("](")?;
    if text[at + 2..].contains([')', '\n']) {
        return None;
    }
    let open = text[..at].rfind('[').unwrap_or(at);
    Some(if text[..open].ends_with('!') { open - 1 } else { open })
}

/// The Markdown view of a text that may still grow (a stream so far): the
/// view of the text before a link whose destination is still being written
/// at its end. Until the link closes the parser reads it as literal text,
/// and its URL's words would stand between the last word of a copy and the
/// next, as if the copy had stopped there; its text joins the view once it
/// closes. Without such an end, the view of `text`.
pub(super) fn prefix_view(text: &str) -> Option<View> {
    if !may_have_markup(text) {
        return None;
    }
    let Some(cut) = unfinished_link(text) else { return view(text) };
    let head = &text[..cut];
    view(head).or_else(|| {
        let mut v = View::new(ViewKind::Markdown);
        v.push_verbatim(head, 0, 0);
        Some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original text each view word maps back to.
    fn back(v: &View, word: &str) -> String {
        let at = v.text().find(word).unwrap();
        let r = v.to_original(at..at + word.len());
        r.start.to_string() + ".." + &r.end.to_string()
    }

    #[test]
    fn emphasis_links_and_code_are_read_through() {
        let md = "Some *emphasised* and **strong** words, a [link text](https://x.test/u) and `code`.";
        let v = View::markdown(md).unwrap();
        assert_eq!(v.text().trim_end(), "Some emphasised and strong words, a link text and code.");
        let at = |w: &str| md.find(w).unwrap();
        assert_eq!(back(&v, "emphasised and strong"), format!("{}..{}", at("emphasised"), at("** words")));
        assert!(!v.text().contains("x.test"));
    }

    #[test]
    fn blocks_are_separated_and_code_blocks_kept() {
        let md = "# Title\n\n> quoted line\n> goes on\n\n- one\n- two\n\n```c\nint *p = &x;\n```\n\n| a | b |\n|---|---|\n| c | d |\n";
        let v = View::markdown(md).unwrap();
        let words: Vec<&str> = v.text().split_whitespace().collect();
        assert_eq!(
            words,
            [
                "Title", "quoted", "line", "goes", "on", "one", "two", "int", "*p", "=", "&x;", "a", "b",
                "c", "d"
            ]
        );
        assert!(!v.text().contains("onetwo"));
        let p = v.text().find("int").unwrap();
        assert_eq!(&md[v.to_original(p..p + 12)], "int *p = &x;");
    }

    #[test]
    fn entities_and_escapes_map_to_their_source() {
        let md = "fish &amp; chips \\*not emphasis\\*";
        let v = View::markdown(md).unwrap();
        assert_eq!(v.text().trim_end(), "fish & chips *not emphasis*");
        let amp = v.text().find('&').unwrap();
        assert_eq!(&md[v.to_original(amp..amp + 1)], "&amp;");
    }

    #[test]
    fn plain_text_and_fenced_code_alone_have_no_view() {
        assert!(View::markdown("Just prose.\n\nTwo paragraphs, nothing more.\n").is_none());
        assert!(View::markdown("Here is the code:\n\n```c\nint main(void) { return 0; }\n```\n").is_none());
        assert!(View::markdown("1. a numbered\n2. list").is_some());
    }

    #[test]
    fn a_link_destination_being_written_is_left_out_of_a_prefix() {
        let md = "a **b** [c d](https://x.test/one/tw";
        let v = prefix_view(md).unwrap();
        assert_eq!(v.text().split_whitespace().collect::<Vec<_>>(), ["a", "b"]);
        let plain = "a b ![c](https://x.test/one/tw";
        assert_eq!(prefix_view(plain).unwrap().text(), "a b ");
        let closed = "a **b** [c](https://x.test/one/two) d";
        assert_eq!(prefix_view(closed).unwrap().text().trim_end(), "a b c d");
        assert!(prefix_view("no markup at all").is_none());
    }

    #[test]
    fn pieces_keep_markup_out() {
        let md = "a **b c** d";
        let v = View::markdown(md).unwrap();
        assert_eq!(v.text().trim_end(), "a b c d");
        let pieces: Vec<&str> = v.original_pieces(0..v.text().len()).into_iter().map(|r| &md[r]).collect();
        assert_eq!(pieces, ["a ", "b c", " d"]);
    }
}
