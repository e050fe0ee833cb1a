//! A document tokenised for a shard: its text and canonical streams, done
//! on any thread ([`tokenize_doc`]) and interned by the shard builder.

use recital_text::Scratch;

use crate::doctable::DocMode;
use crate::rights::Rights;
use crate::shard_build::DocInput;

/// A document that owns its fields (it crosses threads).
#[derive(Debug, Clone)]
pub struct OwnedDoc {
    /// External id.
    pub id: String,
    /// Path or title.
    pub path: Option<String>,
    /// Original text.
    pub text: String,
    /// Text or code.
    pub mode: DocMode,
    /// Rights.
    pub rights: Rights,
}

impl OwnedDoc {
    /// Copies a borrowed document.
    pub fn from_input(d: &DocInput<'_>) -> Self {
        Self {
            id: d.id.to_string(),
            path: d.path.map(str::to_string),
            text: d.text.to_string(),
            mode: d.mode,
            rights: d.rights.clone(),
        }
    }
}

/// Normalised token strings of one document, packed in one buffer.
#[derive(Debug, Clone, Default)]
pub struct TokenBuf {
    buf: String,
    ends: Vec<u32>,
    /// Byte offset of each token in its document.
    srcs: Vec<u32>,
}

impl TokenBuf {
    fn push(&mut self, t: &str) {
        self.buf.push_str(t);
        self.ends.push(self.buf.len() as u32);
    }

    /// Byte offset in its document of token `i` (0 when not recorded).
    pub fn src(&self, i: usize) -> u32 {
        self.srcs.get(i).copied().unwrap_or(0)
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&e| {
            let s = &self.buf[start..e as usize];
            start = e as usize;
            s
        })
    }
}

/// A document with its token streams.
#[derive(Debug, Clone)]
pub struct Tokenized {
    /// The document.
    pub doc: OwnedDoc,
    /// Text-stream tokens.
    pub text: TokenBuf,
    /// Canonical code tokens (code documents only).
    pub canon: Option<TokenBuf>,
}

/// Tokenises one document (both streams).
pub fn tokenize_doc(doc: OwnedDoc, scratch: &mut Scratch) -> Tokenized {
    // The text stream keeps each token's offset (the index samples every 64th,
    // so that hits find their place in long documents without re-tokenising
    // them). Workers have spare time: the build is bound by interning.
    let ts = recital_text::tokenize(&doc.text);
    let mut text = TokenBuf { srcs: Vec::with_capacity(ts.len()), ..Default::default() };
    for (i, t) in ts.tokens.iter().enumerate() {
        text.push(ts.text(i));
        text.srcs.push(t.src.start as u32);
    }
    // The canonical stream keeps offsets too: a code hit is then located by
    // lexing a window from the nearest sampled lexeme, not the whole file.
    let canon = doc.mode.lang().map(|lang| {
        let mut c = TokenBuf::default();
        recital_text::code::for_each_canonical_at(&doc.text, lang, scratch, |t, at| {
            c.push(t);
            c.srcs.push(at as u32);
        });
        c
    });
    Tokenized { doc, text, canon }
}
