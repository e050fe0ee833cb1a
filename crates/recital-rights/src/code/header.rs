//! What a file says about itself: `SPDX-License-Identifier` and
//! `SPDX-FileCopyrightText` lines in its head (the REUSE convention), or
//! in its `FILE.license` companion (REUSE's way for files that cannot hold
//! a comment), which then speaks for it.

use std::io::Read;
use std::path::Path;

/// Bytes of a file searched for its header.
const HEAD: u64 = 8192;

/// The header of one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub license: Option<String>,
    pub holder: Option<String>,
    /// Where it was read (the file, or its `.license` companion).
    pub from: String,
}

/// The header of `file` (`rel` is its path as records name it).
pub(crate) fn read(file: &Path, rel: &str) -> std::io::Result<Header> {
    let companion = file.with_file_name(format!(
        "{}.license",
        file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
    ));
    let (path, from) = if companion.is_file() {
        (companion, format!("{rel}.license"))
    } else {
        (file.to_path_buf(), rel.to_string())
    };
    let mut head = Vec::new();
    std::fs::File::open(&path)?.take(HEAD).read_to_end(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    let holders: Vec<String> = text
        .lines()
        .take(recital_text::spdx::HEAD_LINES * 2)
        .filter_map(|l| l.split_once("SPDX-FileCopyrightText:").map(|(_, t)| trim_comment(t)))
        .filter(|t| !t.is_empty())
        .collect();
    Ok(Header {
        license: recital_text::spdx::identifier(&text),
        holder: (!holders.is_empty()).then(|| holders.join("; ")),
        from,
    })
}

/// A header value without the comment closers around it.
fn trim_comment(t: &str) -> String {
    t.trim().trim_end_matches("*/").trim_end_matches("-->").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_and_companions() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join("a.c");
        std::fs::write(
            &c,
            "/* SPDX-FileCopyrightText: 2024 Jane Doe */\n/* SPDX-License-Identifier: MIT */\nint x;\n",
        )
        .unwrap();
        let h = read(&c, "a.c").unwrap();
        assert_eq!(
            (h.license.as_deref(), h.holder.as_deref(), h.from.as_str()),
            (Some("MIT"), Some("2024 Jane Doe"), "a.c")
        );
        let png = d.path().join("logo.png");
        std::fs::write(&png, [0x89, b'P', b'N', b'G', 0]).unwrap();
        std::fs::write(
            d.path().join("logo.png.license"),
            "SPDX-FileCopyrightText: 2020 Studio\nSPDX-License-Identifier: CC-BY-4.0\n",
        )
        .unwrap();
        let h = read(&png, "logo.png").unwrap();
        assert_eq!((h.license.as_deref(), h.from.as_str()), (Some("CC-BY-4.0"), "logo.png.license"));
        assert_eq!(
            read(&d.path().join("plain.txt").with_extension("none"), "x").map(|_| ()).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    }
}
