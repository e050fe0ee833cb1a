//! SPDX licence tags in file headers.
//!
//! Policy decides per licence class, so ingest records the licence each file
//! declares. The SPDX convention (used by the Linux kernel, Zephyr, U-Boot
//! and many others) is one line near the top: `SPDX-License-Identifier:
//! <expression>`, inside whatever comment syntax the file uses. Only the
//! head of a file is searched (the first 20 lines or the first 4 KiB,
//! whichever reaches further) so that a tag quoted in the body, in a test
//! fixture or documentation, is not taken for the file's own. The expression
//! is returned as written, not parsed or validated: that belongs to the
//! policy layer.

/// The tag, matched ASCII case-insensitively.
pub const TAG: &str = "SPDX-License-Identifier:";

/// Lines searched at least.
pub const HEAD_LINES: usize = 20;

/// Bytes searched at least.
pub const HEAD_BYTES: usize = 4096;

/// The expression on the first `SPDX-License-Identifier:` line in the head of a file.
///
/// The head is the first [`HEAD_LINES`] lines or the first [`HEAD_BYTES`]
/// bytes, whichever reaches further (a line that starts inside it is read
/// whole). The expression is trimmed of whitespace and comment closers
/// (`*/`, `-->`, trailing `*`); parentheses and operators are kept as
/// written: `"GPL-2.0 WITH Linux-syscall-note"`,
/// `"(GPL-2.0-only OR BSD-3-Clause)"`. A tag with nothing after it is
/// skipped. `None` when no tag is found.
///
/// ```
/// use recital_text::spdx::identifier;
/// let src = "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */\n#include <x.h>\n";
/// assert_eq!(identifier(src).as_deref(), Some("GPL-2.0 WITH Linux-syscall-note"));
/// assert_eq!(identifier("int main(void);\n"), None);
/// ```
pub fn identifier(text: &str) -> Option<String> {
    let mut offset = 0usize;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n >= HEAD_LINES && offset >= HEAD_BYTES {
            break;
        }
        offset += line.len();
        if let Some(pos) = find_tag(line) {
            let expr = trim_expression(&line[pos + TAG.len()..]);
            if !expr.is_empty() {
                return Some(expr.to_string());
            }
        }
    }
    None
}

/// Byte offset of [`TAG`] in `line`, ASCII case-insensitive.
fn find_tag(line: &str) -> Option<usize> {
    let hay = line.as_bytes();
    let tag = TAG.as_bytes();
    if hay.len() < tag.len() {
        return None;
    }
    (0..=hay.len() - tag.len()).find(|&i| hay[i..i + tag.len()].eq_ignore_ascii_case(tag))
}

/// Strips whitespace and trailing comment closers.
fn trim_expression(s: &str) -> &str {
    let mut s = s.trim();
    loop {
        let before = s.len();
        for closer in ["*/", "-->", "*"] {
            if let Some(rest) = s.strip_suffix(closer) {
                s = rest.trim_end();
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_style_headers() {
        let cases = [
            ("// SPDX-License-Identifier: GPL-2.0\n#include <linux/module.h>\n", "GPL-2.0"),
            (
                "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */\n#ifndef _UAPI_LINUX_TYPES_H\n",
                "GPL-2.0 WITH Linux-syscall-note",
            ),
            ("# SPDX-License-Identifier: MIT\nimport os\n", "MIT"),
            (
                "// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)\n",
                "(GPL-2.0-only OR BSD-3-Clause)",
            ),
            (
                "/* SPDX-License-Identifier: GPL-2.0-or-later\t*/\r\n",
                "GPL-2.0-or-later",
            ),
            ("<!-- SPDX-License-Identifier: CC-BY-4.0 -->\n<html>", "CC-BY-4.0"),
            (" * SPDX-License-Identifier: Apache-2.0 *\n", "Apache-2.0"),
            (
                "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# spdx-license-identifier: BSD-2-Clause\n",
                "BSD-2-Clause",
            ),
            (
                "// SPDX-License-Identifier: MIT OR Apache-2.0",
                "MIT OR Apache-2.0",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(identifier(text).as_deref(), Some(want), "{text:?}");
        }
    }

    #[test]
    fn first_tag_wins_and_empty_tags_are_skipped() {
        let text = "// SPDX-License-Identifier:\n// SPDX-License-Identifier: MIT\n// SPDX-License-Identifier: GPL-2.0\n";
        assert_eq!(identifier(text).as_deref(), Some("MIT"));
    }

    #[test]
    fn absent_or_too_deep() {
        assert_eq!(identifier(""), None);
        assert_eq!(identifier("int main(void) { return 0; }\n"), None);
        assert_eq!(identifier("// SPDX-License-Identifier: */\n"), None);
        // 30 short lines, then the tag: past 20 lines, within 4 KiB: found.
        let shallow = format!("{}// SPDX-License-Identifier: MIT\n", "x\n".repeat(30));
        assert_eq!(identifier(&shallow).as_deref(), Some("MIT"));
        // 30 long lines: past 20 lines and past 4 KiB: not found.
        let deep =
            format!("{}// SPDX-License-Identifier: MIT\n", format!("{}\n", "x".repeat(200)).repeat(30));
        assert_eq!(identifier(&deep), None);
        // One huge first line, tag on line 2: within 20 lines: found.
        let wide = format!("{}\n// SPDX-License-Identifier: MIT\n", "y".repeat(10_000));
        assert_eq!(identifier(&wide).as_deref(), Some("MIT"));
    }

    #[test]
    fn non_ascii_does_not_panic() {
        assert_eq!(identifier("é SPDX-License-Identifier: ü-1.0 ✓"), Some("ü-1.0 ✓".into()));
        assert_eq!(identifier("SPDX-License-Identifier"), None);
        assert_eq!(identifier("ＳＰＤＸ"), None);
    }
}
