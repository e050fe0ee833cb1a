//! ISCC (ISO 24138) Text-Codes as work identifiers, with `iscc-lib`: a
//! similarity-preserving code of a text (MinHash over character n-grams of
//! the collapsed text), so copies of a work, reformatted or lightly edited,
//! get the same or a near code. A notice or a registry can name the work by
//! it, and scan sources carry it.

use std::io::Read;
use std::path::Path;

use crate::error::{Result, RightsError};

/// Files read at most (a Text-Code of a larger one is not worth the read).
const MAX_BYTES: u64 = 16 << 20;

/// Largest Hamming distance, in bits of a 64-bit Text-Code, at which two
/// codes are taken to name the same work: reformatted or lightly edited
/// copies stay well within it (4 words in 1,200 changed and the text
/// reflowed moved the code by at most 2 bits in the tests below), other
/// texts were at least 24 bits apart. A longer code is compared on the bits
/// both have, the bound scaled with them.
pub const NEAR_BITS: u32 = 8;

/// An ISCC Text-Code (ISO 24138: a Content-Code of subtype Text): a
/// similarity-preserving identifier of a text, so that copies of a work get
/// the same or a near code ([`TextCode::is_near`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextCode {
    /// Canonical form, `ISCC:` and the base32 of header and body.
    code: String,
    /// The body (the similarity hash), 8 bytes for a 64-bit code.
    body: Vec<u8>,
}

impl TextCode {
    /// Reads a Text-Code as written (`ISCC:EAAS…`, the prefix optional,
    /// case-insensitive). Refuses anything that is not an ISCC, and an ISCC
    /// of another kind (a Meta-, Data- or Instance-Code says nothing about
    /// near copies of a text).
    pub fn parse(s: &str) -> Result<TextCode> {
        let trimmed = s.trim();
        let bare =
            trimmed.get(..5).filter(|p| p.eq_ignore_ascii_case("ISCC:")).map_or(trimmed, |_| &trimmed[5..]);
        let code = format!("ISCC:{}", bare.to_ascii_uppercase());
        let bad = |why: String| RightsError::format(format!("ISCC {trimmed:?}"), why);
        let (main, sub, _, _, body) = iscc_lib::iscc_decode(&code).map_err(|e| bad(e.to_string()))?;
        let (content, text) =
            (iscc_lib::codec::MainType::Content as u8, iscc_lib::codec::SubType::TEXT as u8);
        if main != content || sub != text {
            return Err(bad(format!(
                "not a Text-Code (main type {main}, subtype {sub}); expected a Content-Code of a text"
            )));
        }
        if body.is_empty() {
            return Err(bad("an empty code".into()));
        }
        Ok(TextCode { code, body })
    }

    /// The 64-bit Text-Code of `text`; `None` for a text with no words.
    pub fn of_text(text: &str) -> Option<TextCode> {
        if text.trim().is_empty() {
            return None;
        }
        let code = iscc_lib::gen_text_code_v0(text, 64).ok()?.iscc;
        TextCode::parse(&code).ok()
    }

    /// The code as written: `ISCC:` and upper-case base32.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// Bits that differ between the two codes, over the bits both have.
    pub fn distance(&self, other: &TextCode) -> u32 {
        self.body.iter().zip(&other.body).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    /// Whether `other` names the same work or a near copy of it: at most
    /// [`NEAR_BITS`] per 64 compared bits differ.
    pub fn is_near(&self, other: &TextCode) -> bool {
        let bits = 8 * self.body.len().min(other.body.len()) as u32;
        self.distance(other) * 64 <= NEAR_BITS * bits
    }
}

impl std::fmt::Display for TextCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code)
    }
}

/// The 64-bit Text-Code of `file`'s text; `None` for an empty, binary
/// (a NUL byte), unreadable or oversized file.
pub(crate) fn text_code(file: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(file).ok()?.take(MAX_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.is_empty() || bytes.len() as u64 > MAX_BYTES || bytes[..bytes.len().min(8192)].contains(&0) {
        return None;
    }
    TextCode::of_text(&String::from_utf8_lossy(&bytes)).map(|c| c.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_vector_and_what_has_none() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("hello.txt");
        // ISCC's conformance data (iscc-lib tests/data.json, test_0001_hello_world).
        std::fs::write(&f, "Hello World").unwrap();
        assert_eq!(text_code(&f).as_deref(), Some("ISCC:EAASKDNZNYGUUF5A"));
        std::fs::write(&f, "").unwrap();
        assert_eq!(text_code(&f), None);
        std::fs::write(&f, [b'a', 0, b'b']).unwrap();
        assert_eq!(text_code(&f), None);
        assert_eq!(text_code(&d.path().join("missing")), None);
    }

    /// Deterministic prose: words picked by a seeded LCG.
    fn prose(seed: u64, words: usize) -> String {
        const W: &[&str] = &[
            "river", "stone", "lantern", "harbour", "quiet", "orchard", "copper", "meadow", "signal",
            "thread", "winter", "garden", "market", "candle", "bridge", "feather", "hollow", "ember",
            "valley", "mirror",
        ];
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..words)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                W[(x >> 33) as usize % W.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn codes_parse_in_any_case_with_or_without_the_prefix() {
        let c = TextCode::parse("ISCC:EAASKDNZNYGUUF5A").unwrap();
        assert_eq!(c.as_str(), "ISCC:EAASKDNZNYGUUF5A");
        assert_eq!(TextCode::parse(" eaaskdnznyguuf5a ").unwrap(), c);
        assert_eq!(TextCode::of_text("Hello World").unwrap(), c);
        for bad in ["", "ISCC:", "ISCC:not-base32!", "hello"] {
            assert!(TextCode::parse(bad).is_err(), "{bad:?}");
        }
        // The same body under a Meta-Code header (main type 0) is an ISCC but no Text-Code.
        assert!(TextCode::parse("ISCC:EAAQCAQDAQCQMBYI").is_ok());
        let e = TextCode::parse("ISCC:AAAQCAQDAQCQMBYI").unwrap_err().to_string();
        assert!(e.contains("not a Text-Code"), "{e}");
        assert!(TextCode::of_text("").is_none());
    }

    /// Near copies (a few words changed, the text reflowed) stay within
    /// [`NEAR_BITS`]; other texts of the same vocabulary do not.
    #[test]
    fn edited_copies_are_near_and_other_texts_are_not() {
        let (mut near_max, mut far_min) = (0, u32::MAX);
        for seed in 1..=12u64 {
            let text = prose(seed, 1200);
            let code = TextCode::of_text(&text).unwrap();
            let mut words: Vec<&str> = text.split(' ').collect();
            for i in (0..words.len()).step_by(300) {
                words[i] = "changed";
            }
            let edited = TextCode::of_text(&words.join("\n")).unwrap();
            assert!(code.is_near(&edited), "seed {seed}: edited copy {} bits away", code.distance(&edited));
            let other = TextCode::of_text(&prose(seed + 100, 1200)).unwrap();
            assert!(!code.is_near(&other), "seed {seed}: another text {} bits away", code.distance(&other));
            assert_eq!(code.distance(&code), 0);
            near_max = near_max.max(code.distance(&edited));
            far_min = far_min.min(code.distance(&other));
        }
        eprintln!("ISCC: edited copies at most {near_max} bits away, other texts at least {far_min}");
    }
}
