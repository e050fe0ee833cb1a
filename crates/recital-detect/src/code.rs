//! Where the code is in a model output: fenced blocks (```` ```lang ````, `~~~`)
//! with a language the lexer knows, or the whole input when the caller says it
//! is code.

use std::ops::Range;

use recital_text::code::Lang;

/// Byte ranges of code and their languages. `whole` treats the entire text as
/// code in that language when it has no fenced blocks.
pub fn regions(text: &str, whole: Option<Lang>, fence_default: Option<Lang>) -> Vec<(Range<usize>, Lang)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, Option<Lang>)> = None;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let fence: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        let is_fence = indent <= 3
            && fence.len() >= 3
            && fence.chars().all(|c| c == fence.chars().next().unwrap_or('`'));
        match &open {
            None if is_fence => {
                let info = trimmed[fence.len()..].trim();
                let word =
                    info.split(|c: char| c.is_whitespace() || c == '{' || c == ',').next().unwrap_or("");
                let lang = Lang::from_name(&word.to_ascii_lowercase()).or(fence_default);
                open = Some((fence, pos, lang));
            }
            Some((f, body_start, lang))
                if is_fence && fence.starts_with(f.as_str()) && trimmed[fence.len()..].trim().is_empty() =>
            {
                if let Some(l) = lang {
                    if start > *body_start {
                        out.push((*body_start..start, *l));
                    }
                }
                open = None;
            }
            _ => {}
        }
    }
    if let Some((_, body_start, Some(l))) = open {
        if text.len() > body_start {
            out.push((body_start..text.len(), l));
        }
    }
    if out.is_empty() {
        if let Some(l) = whole {
            if !text.is_empty() {
                out.push((0..text.len(), l));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fenced_blocks_with_known_languages() {
        let t = "Here:\n```c\nint x = 1;\n```\ntext\n~~~ python title=x\nprint(1)\n~~~\n```\nplain\n```\n```rust\nfn f() {}\n";
        let r = regions(t, None, None);
        let got: Vec<(&str, Lang)> = r.iter().map(|(rg, l)| (&t[rg.clone()], *l)).collect();
        assert_eq!(
            got,
            vec![("int x = 1;\n", Lang::C), ("print(1)\n", Lang::Python), ("fn f() {}\n", Lang::Rust)]
        );
        assert_eq!(regions("x = 1", Some(Lang::Python), None), vec![(0..5, Lang::Python)]);
        assert!(regions("just prose", None, None).is_empty());
    }
}
