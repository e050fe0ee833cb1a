//! TDMRep's HTML technique: `<meta name="tdm-reservation" content="1">` and
//! `<meta name="tdm-policy" content="…">` in a page's head, read with
//! html5ever's tokenizer (the WHATWG algorithm: comments, attributes
//! unquoted or in any case, entities), with script and style content
//! skipped as raw text, so that markup quoted in a script is not taken
//! for the page's own.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// The TDMRep meta values of a page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TdmMeta {
    pub reservation: Option<String>,
    pub policy: Option<String>,
}

#[derive(Default)]
struct Seen {
    meta: TdmMeta,
    /// Past the head: `<body>` or `</head>` was seen.
    done: bool,
}

struct Sink(RefCell<Seen>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else { return TokenSinkResult::Continue };
        let mut seen = self.0.borrow_mut();
        let name: &str = &tag.name;
        match (tag.kind, name) {
            (TagKind::StartTag, "body") | (TagKind::EndTag, "head") => seen.done = true,
            (TagKind::StartTag, "meta") if !seen.done => {
                let attr =
                    |n: &str| tag.attrs.iter().find(|a| &*a.name.local == n).map(|a| a.value.to_string());
                let content = attr("content");
                match attr("name").map(|n| n.trim().to_ascii_lowercase()).as_deref() {
                    Some("tdm-reservation") if seen.meta.reservation.is_none() => {
                        seen.meta.reservation = content
                    }
                    Some("tdm-policy") if seen.meta.policy.is_none() => seen.meta.policy = content,
                    _ => {}
                }
            }
            (TagKind::StartTag, "script") if !tag.self_closing => {
                return TokenSinkResult::RawData(RawKind::ScriptData)
            }
            (TagKind::StartTag, "style") if !tag.self_closing => {
                return TokenSinkResult::RawData(RawKind::Rawtext)
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The TDMRep meta elements in the head of `html`.
pub(crate) fn tdm_meta(html: &str) -> TdmMeta {
    let tok = Tokenizer::new(Sink(RefCell::new(Seen::default())), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&queue);
    tok.end();
    let seen = tok.sink.0.take();
    seen.meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_specification_example() {
        let page = r#"<!DOCTYPE html><html><head>
            <meta charset="utf-8">
            <META NAME="TDM-Reservation" content=1>
            <meta name="tdm-policy" content="https://provider.com/policies/policy.json">
            </head><body>text</body></html>"#;
        let m = tdm_meta(page);
        assert_eq!(m.reservation.as_deref(), Some("1"));
        assert_eq!(m.policy.as_deref(), Some("https://provider.com/policies/policy.json"));
    }

    #[test]
    fn quoted_commented_and_body_markup_is_not_the_pages() {
        let page = r#"<html><head>
            <!-- <meta name="tdm-reservation" content="1"> -->
            <script>document.write('<meta name="tdm-reservation" content="1">')</script>
            </head><body><meta name="tdm-reservation" content="1"></body></html>"#;
        assert_eq!(tdm_meta(page), TdmMeta::default());
        assert_eq!(tdm_meta("no html at all"), TdmMeta::default());
    }
}
