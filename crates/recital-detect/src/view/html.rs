//! The HTML view: text with tags dropped and entities decoded.
//!
//! html5ever's tokenizer (the WHATWG algorithm, entities included) reports
//! no source offsets, so it is fed the text in small pieces — a run of
//! alphanumerics, or one other character — and each token it emits is
//! charged to the bytes fed since the last token: byte for byte where the
//! characters are those bytes, else (an entity, a held-back `<`) each
//! character to the whole range. Block-level tags and `<br>` become a
//! synthetic `"\n"`; `<script>` and `<style>` content is dropped; each text
//! run between tags is its own segment, so a redaction leaves tags intact.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::{View, ViewKind};

/// What the tokenizer emitted during one feed.
#[derive(Default)]
struct Emitted {
    /// Characters, in order.
    chars: String,
    /// A tag or comment was emitted (text runs on either side are separate
    /// segments); a block boundary too.
    tag: bool,
    block: bool,
    /// A known HTML element or an entity was seen: the text is HTML.
    html: bool,
    /// Inside `<script>` or `<style>`: characters dropped.
    skip: bool,
}

struct Sink(RefCell<Emitted>);

/// Elements whose boundaries separate words.
fn block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "thead"
            | "tbody"
            | "blockquote"
            | "pre"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "hr"
            | "dd"
            | "dt"
            | "dl"
            | "figure"
            | "figcaption"
            | "main"
            | "aside"
            | "title"
            | "head"
            | "body"
            | "html"
            | "form"
            | "option"
            | "address"
            | "details"
            | "summary"
            | "caption"
    )
}

/// Inline elements common in model outputs (with `block`, what makes a
/// text HTML rather than code with a `<`).
fn inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "i"
            | "u"
            | "s"
            | "em"
            | "strong"
            | "span"
            | "code"
            | "small"
            | "sub"
            | "sup"
            | "mark"
            | "q"
            | "cite"
            | "abbr"
            | "kbd"
            | "del"
            | "ins"
            | "img"
            | "font"
            | "tt"
            | "var"
            | "script"
            | "style"
    )
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut e = self.0.borrow_mut();
        match token {
            Token::CharacterTokens(t) if !e.skip => e.chars.push_str(&t),
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                e.tag = true;
                e.block |= block(name);
                e.html |= block(name) || inline(name);
                let raw = match name {
                    "script" => Some(RawKind::ScriptData),
                    "style" => Some(RawKind::Rawtext),
                    _ => None,
                };
                if let Some(kind) = raw {
                    e.skip = tag.kind == TagKind::StartTag && !tag.self_closing;
                    if e.skip {
                        return TokenSinkResult::RawData(kind);
                    }
                }
            }
            Token::CommentToken(_) | Token::DoctypeToken(_) => e.tag = true,
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The pieces the tokenizer is fed: runs of ASCII alphanumerics, and every
/// other character on its own.
fn pieces(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        let c = rest.chars().next()?;
        let len = if c.is_ascii_alphanumeric() {
            rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        at += len;
        Some(at - len..at)
    })
}

/// Appends the characters `chars` the tokenizer emitted for `text[src]`:
/// the common prefix and suffix byte for byte, the rest (an entity and what
/// the tokenizer held back with it) each byte from the rest of the range.
/// True when that rest decodes an entity.
fn push_chars(view: &mut View, text: &str, chars: &str, src: std::ops::Range<usize>, seg: u32) -> bool {
    let s = &text[src.clone()];
    // Not into an entity: its `&` may be what it decodes to.
    let amp = s.find('&').unwrap_or(s.len());
    let mut p = chars.bytes().zip(s.bytes()).take_while(|(a, b)| a == b).count().min(amp);
    while !chars.is_char_boundary(p) {
        p -= 1;
    }
    let (cr, sr) = (&chars[p..], &s[p..]);
    let mut q = cr.bytes().rev().zip(sr.bytes().rev()).take_while(|(a, b)| a == b).count();
    while !cr.is_char_boundary(cr.len() - q) {
        q -= 1;
    }
    view.push_verbatim(&chars[..p], src.start, seg);
    let mid = &cr[..cr.len() - q];
    let from = src.start + p..src.end - q;
    if !mid.is_empty() {
        view.push_mapped(mid, from.clone(), seg);
    }
    view.push_verbatim(&cr[cr.len() - q..], src.end - q, seg);
    !mid.is_empty() && text[from].contains('&')
}

/// The HTML view of `text`, or `None` when it has no HTML elements or
/// entities (a `<` in code or prose does not make it HTML).
pub(super) fn view(text: &str) -> Option<View> {
    if !text.bytes().any(|b| b == b'<' || b == b'&') {
        return None;
    }
    let tok = Tokenizer::new(Sink(RefCell::new(Emitted::default())), TokenizerOpts::default());
    let queue = BufferQueue::default();
    let mut view = View::new(ViewKind::Html);
    let (mut last, mut seg, mut html) = (0usize, 0u32, false);
    let mut charge = |view: &mut View, tok: &Tokenizer<Sink>, end: usize| {
        let mut e = tok.sink.0.borrow_mut();
        if e.tag {
            seg += 1;
        }
        if e.block {
            view.separate(last, seg);
        }
        html |= e.html || push_chars(view, text, &e.chars, last..end, seg);
        let skip = e.skip;
        *e = Emitted { skip, ..Emitted::default() };
        last = end;
    };
    for r in pieces(text) {
        queue.push_back(StrTendril::from_slice(&text[r.clone()]));
        let _ = tok.feed(&queue);
        let emitted = {
            let e = tok.sink.0.borrow();
            e.tag || !e.chars.is_empty()
        };
        if emitted {
            charge(&mut view, &tok, r.end);
        }
    }
    tok.end();
    charge(&mut view, &tok, text.len());
    (html && !view.adds_nothing(text, |g| g.trim().is_empty())).then_some(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_dropped_and_entities_decoded() {
        let h = "<p>In the <b>beginning</b> God&nbsp;created &amp; the <a href=\"x\">heaven</a>.</p><p>And the earth</p>";
        let v = View::html(h).unwrap();
        assert_eq!(v.text().trim_end(), "In the beginning God\u{a0}created & the heaven.\nAnd the earth");
        let amp = v.text().find('&').unwrap();
        assert_eq!(&h[v.to_original(amp..amp + 1)], "&amp;");
        let w = v.text().find("beginning").unwrap();
        assert_eq!(&h[v.to_original(w..w + 9)], "beginning");
        let pieces: Vec<&str> = v.original_pieces(0..w + 9).into_iter().map(|r| &h[r]).collect();
        assert_eq!(pieces, ["In the ", "beginning"]);
    }

    #[test]
    fn script_and_style_are_dropped_and_br_separates() {
        let h = "one<br>two<script>var x = 'three';</script><style>p { }</style> four";
        let v = View::html(h).unwrap();
        let words: Vec<&str> = v.text().split_whitespace().collect();
        assert_eq!(words, ["one", "two", "four"]);
    }

    #[test]
    fn code_with_less_than_and_plain_text_have_no_view() {
        assert!(View::html("no markup at all").is_none());
        assert!(View::html("if (a < b && c) { return; }").is_none());
        assert!(View::html("#include <stdio.h>\nint main(void) { return a<b; }").is_none());
    }
}
