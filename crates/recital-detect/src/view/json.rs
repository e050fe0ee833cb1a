//! The JSON view: the decoded content of string literals.
//!
//! Lenient by design: a window of a stream may start or end mid-document, and
//! a model's "JSON" may be invalid, so this does not parse JSON; it follows
//! string literals and the brackets around them, only far enough to tell
//! keys (schema, not content) from values.

use super::{View, ViewKind};

/// Incremental JSON string-literal decoder for streamed JSON (tool-call
/// arguments arrive in fragments).
///
/// Its view is the decoded content of every string *value*, in order,
/// separated by `"\n"` (a synthetic byte mapped to the empty range where the
/// next literal's content starts). Keys are left out: they are the schema
/// (`"content"`, `"arguments"`), not what the model wrote. A string is a key
/// where it opens an object's member (after `{` or `,` inside an object);
/// where the brackets are unknown (a window starting mid-document) it counts
/// as a value. Only complete escapes are decoded: a fragment may end inside
/// an escape or between the two halves of a UTF-16 surrogate pair, and the
/// view then waits for the next fragment.
#[derive(Debug, Clone)]
pub struct JsonStrings {
    raw: String,
    view: View,
    /// Next raw byte to decode (the undecided bytes start here).
    pos: usize,
    /// Inside a string literal: whether it is a key.
    string: Option<bool>,
    /// Open brackets, `{` or `[`, outside string literals.
    stack: Vec<u8>,
    /// The next string opens an object member (a key).
    expect_key: bool,
    /// String values opened so far (the segment numbers).
    values: u32,
    /// Escape sequences decoded inside values.
    escapes: usize,
}

impl Default for JsonStrings {
    fn default() -> Self {
        Self::new()
    }
}

/// The outcome of decoding an escape sequence that starts at a backslash.
enum Escape {
    /// More raw bytes are needed to decide.
    Incomplete,
    /// The escape's text and its length in raw bytes.
    Done(char, usize),
}

impl JsonStrings {
    /// A decoder that has seen nothing.
    pub fn new() -> Self {
        Self {
            raw: String::new(),
            view: View::new(ViewKind::Json),
            pos: 0,
            string: None,
            stack: Vec::new(),
            expect_key: false,
            values: 0,
            escapes: 0,
        }
    }

    /// Appends a raw fragment and decodes as far as it can.
    pub fn push(&mut self, raw: &str) {
        self.raw.push_str(raw);
        while self.pos < self.raw.len() {
            let progressed = match self.string {
                None => self.outside(),
                Some(key) => self.inside(key),
            };
            if !progressed {
                break;
            }
        }
    }

    /// Everything pushed.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Decoded so far.
    pub fn view(&self) -> &str {
        self.view.text()
    }

    /// Raw offset where view byte `v` starts; for `v == view().len()`, the
    /// raw offset where undecided raw bytes begin (all before it are
    /// accounted for by the view).
    pub fn raw_start(&self, v: usize) -> usize {
        self.view.src.get(v).map_or(self.pos, |&(s, _)| s as usize)
    }

    /// Raw offset just after the source of view byte `v` (the end of its
    /// escape sequence).
    pub fn raw_end(&self, v: usize) -> usize {
        self.view.src.get(v).map_or(self.pos, |&(_, e)| e as usize)
    }

    /// Segment (string value number, from 0) of view byte `v`.
    pub fn segment(&self, v: usize) -> usize {
        self.view.seg.get(v).map_or(self.values.saturating_sub(1) as usize, |&s| s as usize)
    }

    /// Escape sequences decoded inside string values so far.
    pub fn escapes(&self) -> usize {
        self.escapes
    }

    /// The whole-text view.
    pub fn into_view(self) -> View {
        self.view
    }

    /// Outside literals: brackets, commas and colons up to the next quote.
    fn outside(&mut self) -> bool {
        let bytes = self.raw.as_bytes();
        while self.pos < bytes.len() {
            let b = bytes[self.pos];
            self.pos += 1;
            match b {
                b'{' => {
                    self.stack.push(b'{');
                    self.expect_key = true;
                }
                b'[' => {
                    self.stack.push(b'[');
                    self.expect_key = false;
                }
                b'}' | b']' => {
                    self.stack.pop();
                    self.expect_key = false;
                }
                b',' => self.expect_key = self.stack.last() == Some(&b'{'),
                b':' => self.expect_key = false,
                b'"' => {
                    let key = self.expect_key;
                    self.expect_key = false;
                    self.string = Some(key);
                    if !key {
                        if self.values > 0 {
                            self.view.push_mapped("\n", self.pos..self.pos, self.values);
                        }
                        self.values += 1;
                    }
                    return true;
                }
                _ => {}
            }
        }
        true
    }

    /// Inside a literal: a verbatim run, an escape, or the closing quote.
    /// False when an escape is incomplete (wait for more).
    fn inside(&mut self, key: bool) -> bool {
        let bytes = self.raw.as_bytes();
        let at = self.pos;
        let run = bytes[at..].iter().position(|&b| b == b'"' || b == b'\\').map_or(bytes.len(), |k| at + k);
        let seg = self.values.saturating_sub(1);
        if run > at {
            if !key {
                self.view.push_verbatim(&self.raw[at..run], at, seg);
            }
            self.pos = run;
            return true;
        }
        if bytes[at] == b'"' {
            self.pos += 1;
            self.string = None;
            return true;
        }
        match escape(&bytes[at..]) {
            Escape::Incomplete => false,
            Escape::Done(c, len) => {
                if !key {
                    let mut buf = [0u8; 4];
                    self.view.push_mapped(c.encode_utf8(&mut buf), at..at + len, seg);
                    self.escapes += 1;
                }
                self.pos += len;
                true
            }
        }
    }
}

/// Decodes the escape sequence at the start of `b` (which starts with `\`).
/// Unknown escapes stand for the escaped character itself; lone surrogates
/// for U+FFFD.
fn escape(b: &[u8]) -> Escape {
    let Some(&c) = b.get(1) else { return Escape::Incomplete };
    let simple = match c {
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'u' => return unicode(b),
        // `\"`, `\\`, `\/` and anything else: the character itself. Before
        // a multi-byte character the backslash stands for itself (the
        // character is then part of the next verbatim run).
        c if c.is_ascii() => c as char,
        _ => return Escape::Done('\\', 1),
    };
    Escape::Done(simple, 2)
}

/// `\uXXXX`, and `\uXXXX\uXXXX` for a surrogate pair.
fn unicode(b: &[u8]) -> Escape {
    let Some(hi) = hex4(b, 2) else {
        return if b.len() < 6 && b[2..].iter().all(u8::is_ascii_hexdigit) {
            Escape::Incomplete
        } else {
            Escape::Done('u', 2)
        };
    };
    match hi {
        0xD800..=0xDBFF => {
            // The low half may still be on its way.
            let rest = &b[6..];
            let could_be_low = rest.len() < 6
                && rest.iter().zip(b"\\u").all(|(a, e)| a == e)
                && rest.get(2).is_none_or(|d| matches!(d, b'd' | b'D'))
                && rest.get(3).is_none_or(|d| matches!(d, b'c'..=b'f' | b'C'..=b'F'))
                && rest.iter().skip(4).all(u8::is_ascii_hexdigit);
            if could_be_low {
                return Escape::Incomplete;
            }
            match hex4(b, 8).filter(|_| b.get(6..8) == Some(b"\\u")) {
                Some(lo @ 0xDC00..=0xDFFF) => {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    Escape::Done(char::from_u32(c).unwrap_or('\u{FFFD}'), 12)
                }
                _ => Escape::Done('\u{FFFD}', 6),
            }
        }
        _ => Escape::Done(char::from_u32(hi).unwrap_or('\u{FFFD}'), 6),
    }
}

/// The four hex digits at `b[at..at + 4]`, if all there.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let d = b.get(at..at + 4)?;
    d.iter().try_fold(0u32, |acc, &x| Some(acc * 16 + (x as char).to_digit(16)?))
}

/// The JSON view of a whole text, or `None` when no string value holds an
/// escape (then the raw scan sees the same words in the same order).
pub(super) fn view(text: &str) -> Option<View> {
    if !text.contains('\\') {
        return None;
    }
    let mut js = JsonStrings::new();
    js.push(text);
    (js.escapes > 0).then(|| js.into_view())
}

/// JSON-escapes a text for insertion inside a string literal (for redaction
/// markers): the content of `serde_json`'s string literal, without its quotes.
pub fn json_escape(s: &str) -> String {
    let lit = serde_json::to_string(s).unwrap_or_default();
    lit[1..lit.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// The oracle: string values of `v` in serialisation order, not keys.
    fn values(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| values(x, out)),
            Value::Object(m) => m.values().for_each(|x| values(x, out)),
            _ => {}
        }
    }

    fn whole(raw: &str) -> JsonStrings {
        let mut js = JsonStrings::new();
        js.push(raw);
        js
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<String>().prop_map(Value::String),
            "[a-z \"\\\\/\n\t]{0,12}".prop_map(Value::String),
            any::<i32>().prop_map(Value::from),
            Just(Value::Null),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"\\\\]{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The view of a serialised document is its string values, joined by "\n".
        #[test]
        fn view_is_the_decoded_string_values(v in arb_json(), pretty in any::<bool>()) {
            let raw = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
            let mut want = Vec::new();
            values(&v, &mut want);
            let js = whole(&raw);
            prop_assert_eq!(js.view(), want.join("\n"));
            prop_assert_eq!(js.raw_start(js.view().len()), raw.len());
        }

        /// Fed in fragments, the decoder ends where it ends when fed at once.
        #[test]
        fn fragments_decode_as_the_whole(v in arb_json(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let raw = serde_json::to_string(&v).unwrap();
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(raw.len() + 1)).filter(|&c| raw.is_char_boundary(c)).collect();
            at.sort_unstable();
            let mut js = JsonStrings::new();
            let mut prev = 0;
            for c in at.into_iter().chain([raw.len()]) {
                js.push(&raw[prev..c]);
                prev = c;
                // Everything decided is in the view; what is not is a suffix.
                prop_assert!(js.raw_start(js.view().len()) <= c);
            }
            let all = whole(&raw);
            prop_assert_eq!(js.view(), all.view());
            prop_assert_eq!(&js.view.src, &all.view.src);
            prop_assert_eq!(&js.view.seg, &all.view.seg);
        }

        /// Every view char maps inside its own literal's content, and the
        /// raw text it maps to decodes to it.
        #[test]
        fn chars_map_into_their_literal(strings in prop::collection::vec(any::<String>(), 1..5)) {
            let mut raw = String::from("[");
            let mut contents = Vec::new();
            for (k, s) in strings.iter().enumerate() {
                if k > 0 { raw.push_str(", "); }
                let lit = serde_json::to_string(s).unwrap();
                contents.push(raw.len() + 1..raw.len() + lit.len() - 1);
                raw.push_str(&lit);
            }
            raw.push(']');
            let js = whole(&raw);
            let view = js.view.clone();
            for (v, c) in view.text().char_indices() {
                let r = view.to_original(v..v + c.len_utf8());
                if r.is_empty() {
                    prop_assert_eq!(c, '\n');
                    continue;
                }
                let k = js.segment(v);
                prop_assert!(contents[k].start <= r.start && r.end <= contents[k].end, "{:?} not in {:?}", r, contents[k]);
                let back: String = serde_json::from_str(&format!("\"{}\"", &raw[r])).unwrap();
                prop_assert_eq!(back, c.to_string());
            }
        }
    }

    #[test]
    fn escapes_and_surrogate_pairs_decode() {
        let js = whole(r#"{"k": "a\nb\t\"q\" \\ \/ \u00e9 \ud83d\ude00 \ud800x"}"#);
        assert_eq!(js.view(), "a\nb\t\"q\" \\ / é 😀 \u{FFFD}x");
        let smile = js.view().find('😀').unwrap();
        assert_eq!(js.raw_end(smile) - js.raw_start(smile), 12);
    }

    #[test]
    fn a_fragment_may_end_inside_an_escape_or_a_pair() {
        let mut js = JsonStrings::new();
        js.push(r#"["x\ud83d"#);
        assert_eq!(js.view(), "x");
        assert_eq!(js.raw_start(1), 3);
        js.push(r#"\ude"#);
        assert_eq!(js.view(), "x");
        js.push(r#"00 \"#);
        assert_eq!(js.view(), "x😀 ");
        js.push(r#"n"]"#);
        assert_eq!(js.view(), "x😀 \n");
        assert_eq!(js.raw_start(js.view().len()), js.raw().len());
    }

    #[test]
    fn keys_are_left_out_and_plain_text_has_no_view() {
        let js = whole(r#"{"role": "user", "content": "one\ntwo", "list": ["three"]}"#);
        assert_eq!(js.view(), "user\none\ntwo\nthree");
        assert_eq!(js.segment(js.view().find("three").unwrap()), 2);
        assert!(View::json(r#"{"content": "no escapes here"}"#).is_none());
        assert!(View::json("plain prose, nothing else").is_none());
        assert!(View::json(r#"{"content": "one\ntwo"}"#).is_some());
    }

    #[test]
    fn redaction_markers_are_escaped() {
        assert_eq!(json_escape("a \"b\"\n"), r#"a \"b\"\n"#);
    }
}
