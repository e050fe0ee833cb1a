//! ISCC (ISO 24138) Text-Codes as work identifiers, with `iscc-lib`: a
//! similarity-preserving code of a text (MinHash over character n-grams of
//! the collapsed text), so copies of a work, reformatted or lightly edited,
//! get the same or a near code. A notice or a registry can name the work by
//! it, and scan sources carry it.

use std::io::Read;
use std::path::Path;

/// Files read at most (a Text-Code of a larger one is not worth the read).
const MAX_BYTES: u64 = 16 << 20;

/// The 64-bit Text-Code of `file`'s text; `None` for an empty, binary
/// (a NUL byte), unreadable or oversized file.
pub(crate) fn text_code(file: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(file).ok()?.take(MAX_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.is_empty() || bytes.len() as u64 > MAX_BYTES || bytes[..bytes.len().min(8192)].contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    iscc_lib::gen_text_code_v0(&text, 64).ok().map(|r| r.iscc)
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
}
