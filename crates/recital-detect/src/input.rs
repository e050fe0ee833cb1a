//! Turning the caller's bytes into text without losing their offsets.
//!
//! Spans are reported as offsets into the input *as given*. Valid UTF-8 is used
//! as is. Invalid UTF-8 is decoded lossily (each invalid sequence becomes
//! U+FFFD) with a warning, and a map from the decoded text back to the input's
//! bytes keeps offsets exact. Input that looks binary (a NUL byte, or mostly
//! control bytes, in its first 8 KiB) is refused: it is not a model output.

use crate::error::DetectError;

/// Decoded input and the map back to the caller's bytes.
#[derive(Debug, Clone)]
pub struct Input {
    /// The text scanned.
    pub text: String,
    /// `(text offset, input offset)` at the start of each run after an invalid
    /// sequence; empty when the input was valid UTF-8.
    shifts: Vec<(usize, usize)>,
    /// Input length in bytes.
    pub input_len: usize,
    /// Warnings for the report.
    pub warnings: Vec<String>,
}

impl Input {
    /// Decodes `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DetectError> {
        let head = &bytes[..bytes.len().min(8192)];
        let controls =
            head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)).count();
        if head.contains(&0) || (head.len() >= 64 && controls * 10 > head.len()) {
            return Err(DetectError::Binary);
        }
        let mut warnings = Vec::new();
        if bytes.is_empty() {
            warnings.push("input is empty".to_string());
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Self { text: s.to_string(), shifts: Vec::new(), input_len: bytes.len(), warnings }),
            Err(_) => {
                let mut text = String::with_capacity(bytes.len() + 16);
                let mut shifts = Vec::new();
                let mut pos = 0usize;
                let mut bad = 0usize;
                for chunk in bytes.utf8_chunks() {
                    text.push_str(chunk.valid());
                    pos += chunk.valid().len();
                    if !chunk.invalid().is_empty() {
                        text.push('\u{FFFD}');
                        pos += chunk.invalid().len();
                        bad += 1;
                        shifts.push((text.len(), pos));
                    }
                }
                warnings.push(format!(
                    "input is not valid UTF-8: {bad} invalid sequence(s) decoded as U+FFFD; offsets refer to the input bytes"
                ));
                Ok(Self { text, shifts, input_len: bytes.len(), warnings })
            }
        }
    }

    /// Input byte offset of text offset `t` (a char boundary of `text`).
    pub fn input_offset(&self, t: usize) -> usize {
        match self.shifts.partition_point(|&(ts, _)| ts <= t) {
            0 => t,
            i => {
                let (ts, is) = self.shifts[i - 1];
                is + (t - ts)
            }
        }
    }
}

/// Char and UTF-16 offsets of byte offsets of a text, computed in one pass.
pub struct OffsetMap {
    bytes: Vec<usize>,
    chars: Vec<usize>,
    utf16: Vec<usize>,
}

impl OffsetMap {
    /// Prepares conversions for the byte offsets `wanted` (any order) of `text`.
    pub fn new(text: &str, wanted: impl IntoIterator<Item = usize>) -> Self {
        let mut bytes: Vec<usize> = wanted.into_iter().collect();
        bytes.sort_unstable();
        bytes.dedup();
        let mut chars = Vec::with_capacity(bytes.len());
        let mut utf16 = Vec::with_capacity(bytes.len());
        let (mut c, mut u) = (0usize, 0usize);
        let mut it = text.char_indices().peekable();
        for &b in &bytes {
            while let Some(&(i, ch)) = it.peek() {
                if i >= b {
                    break;
                }
                c += 1;
                u += ch.len_utf16();
                it.next();
            }
            chars.push(c);
            utf16.push(u);
        }
        Self { bytes, chars, utf16 }
    }

    fn at(&self, b: usize, v: &[usize]) -> usize {
        match self.bytes.binary_search(&b) {
            Ok(i) => v[i],
            Err(_) => 0,
        }
    }

    /// Char offset of byte offset `b` (one of the wanted ones).
    pub fn char_of(&self, b: usize) -> usize {
        self.at(b, &self.chars)
    }

    /// UTF-16 code-unit offset of byte offset `b` (one of the wanted ones).
    pub fn utf16_of(&self, b: usize) -> usize {
        self.at(b, &self.utf16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_maps_back_to_input_bytes() {
        let bytes = b"ab\xffcd\xe2\x82xyz";
        let inp = Input::decode(bytes).unwrap();
        assert_eq!(inp.text, "ab\u{FFFD}cd\u{FFFD}xyz");
        assert_eq!(inp.warnings.len(), 1);
        let at = |needle: &str| inp.input_offset(inp.text.find(needle).unwrap());
        assert_eq!(at("ab"), 0);
        assert_eq!(at("cd"), 3);
        assert_eq!(at("xyz"), 7);
        assert_eq!(inp.input_offset(inp.text.len()), bytes.len());
    }

    #[test]
    fn binary_is_refused_and_empty_warns() {
        assert!(matches!(Input::decode(b"\x7fELF\x02\x01\x01\0\0\0"), Err(DetectError::Binary)));
        let inp = Input::decode(b"").unwrap();
        assert!(inp.warnings[0].contains("empty"));
    }

    #[test]
    fn char_and_utf16_offsets() {
        let t = "a😀é\r\nb";
        let m = OffsetMap::new(t, [0, 1, 5, 7, 9, t.len()]);
        assert_eq!((m.char_of(1), m.utf16_of(1)), (1, 1));
        assert_eq!((m.char_of(5), m.utf16_of(5)), (2, 3));
        assert_eq!((m.char_of(7), m.utf16_of(7)), (3, 4));
        assert_eq!((m.char_of(t.len()), m.utf16_of(t.len())), (6, 7));
    }
}
