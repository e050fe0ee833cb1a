//! Where the code is in a model output: fenced blocks (```` ```lang ````, `~~~`)
//! with a language the lexer knows (or guessed from their content), or the whole
//! input when the caller says it is code or when it plainly looks like code.
//!
//! Why guess: code models often answer with bare code, no fences; without the
//! canonical stream a renamed copy of such output would pass unnoticed. The guess
//! is conservative (several code-shaped lines and clear language markers).

use std::ops::Range;

use recital_text::code::Lang;

/// What a fence says about its language.
#[derive(Clone, Copy)]
enum FenceLang {
    /// A language the lexer knows.
    Known(Lang),
    /// No info string: guess from the content.
    Guess,
    /// A language the lexer does not know (`text`, `console`, `sql`, …).
    Other,
}

/// Byte ranges of code and their languages. `whole` treats the entire text as
/// code in that language when it has no fenced blocks.
pub fn regions(text: &str, whole: Option<Lang>, fence_default: Option<Lang>) -> Vec<(Range<usize>, Lang)> {
    let resolve = |fl: FenceLang, body: &str| match fl {
        FenceLang::Known(l) => Some(l),
        FenceLang::Guess => fence_default.or_else(|| guess_lang(body)),
        FenceLang::Other => None,
    };
    let mut out = Vec::new();
    let mut open: Option<(String, usize, FenceLang)> = None;
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
                let fl = match Lang::from_name(&word.to_ascii_lowercase()) {
                    Some(l) => FenceLang::Known(l),
                    None if word.is_empty() => FenceLang::Guess,
                    None => FenceLang::Other,
                };
                open = Some((fence, pos, fl));
            }
            Some((f, body_start, fl))
                if is_fence && fence.starts_with(f.as_str()) && trimmed[fence.len()..].trim().is_empty() =>
            {
                let body = *body_start..start;
                if let Some(l) = resolve(*fl, &text[body.clone()]) {
                    if !body.is_empty() {
                        out.push((body, l));
                    }
                }
                open = None;
            }
            _ => {}
        }
    }
    if let Some((_, body_start, fl)) = open {
        if let (Some(l), true) = (resolve(fl, &text[body_start..]), text.len() > body_start) {
            out.push((body_start..text.len(), l));
        }
    }
    if out.is_empty() && !text.is_empty() {
        if let Some(l) = whole.or_else(|| guess_lang(text)) {
            out.push((0..text.len(), l));
        }
    }
    out
}

/// The language of `text` if it plainly looks like code: at least three
/// code-shaped lines making up at least 40 % of its non-empty lines, and one
/// language's markers clearly ahead.
pub fn guess_lang(text: &str) -> Option<Lang> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let code_like = lines
        .iter()
        .filter(|l| {
            l.ends_with([';', '{', '}', ')', ':', ','])
                || l.starts_with(['#', '}', '@'])
                || l.starts_with("//")
                || l.starts_with("def ")
                || l.starts_with("return")
        })
        .count();
    if code_like < 3 || code_like * 10 < lines.len() * 4 {
        return None;
    }
    let has = |needle: &str| text.matches(needle).count().min(5) as i32;
    let scores = [
        (
            Lang::Python,
            has("def ") * 2
                + has("import ")
                + has("self.") * 2
                + has("elif ") * 2
                + has("None")
                + has("    return "),
        ),
        (
            Lang::Rust,
            has("fn ") * 2
                + has("let mut ") * 2
                + has("impl ") * 2
                + has("pub fn ") * 2
                + has("&mut ")
                + has("::"),
        ),
        (
            Lang::Go,
            has("func ") * 2 + has(":= ") * 2 + has("package ") * 2 + has("fmt.") * 2 + has("err != nil") * 2,
        ),
        (
            Lang::C,
            has("#include") * 2
                + has("#define ") * 2
                + has("->")
                + has("void ")
                + has("unsigned ")
                + has("NULL")
                + has("sizeof("),
        ),
        (
            Lang::Cpp,
            has("std::") * 2
                + has("template<") * 2
                + has("template <") * 2
                + has("#include <iostream>") * 3
                + has("nullptr") * 2,
        ),
        (
            Lang::Java,
            has("public class ") * 3
                + has("private ")
                + has("System.out") * 2
                + has("import java") * 3
                + has("@Override") * 2,
        ),
        (
            Lang::JavaScript,
            has("function ") * 2
                + has("const ")
                + has("=> ")
                + has("console.") * 2
                + has("require(") * 2
                + has("export "),
        ),
        (
            Lang::TypeScript,
            has("interface ") * 2 + has(": string") * 2 + has(": number") * 2 + has("export "),
        ),
    ];
    let mut sorted = scores.to_vec();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.1));
    let (best, top) = sorted[0];
    (top >= 3 && top > sorted[1].1).then_some(best)
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

    #[test]
    fn guesses_bare_code_but_not_prose() {
        let py =
            "def area(r):\n    import math\n    return math.pi * r * r\n\ndef main():\n    print(area(2))\n";
        assert_eq!(guess_lang(py), Some(Lang::Python));
        let c = "#include <stdio.h>\n#define N 10\nint main(void) {\n    int x = 0;\n    return x;\n}\n";
        assert_eq!(guess_lang(c), Some(Lang::C));
        let rs = "pub fn add(a: u32) -> u32 {\n    let mut x = a;\n    x += 1;\n    x\n}\nfn main() {\n}\n";
        assert_eq!(guess_lang(rs), Some(Lang::Rust));
        let prose =
            "It was the best of times;\nit was the worst of times:\nit was the age of wisdom,\nand so on.";
        assert_eq!(guess_lang(prose), None);
        // A fence with no language is guessed from its content.
        let fenced = format!("Here:\n```\n{c}```\nbye");
        assert_eq!(regions(&fenced, None, None).first().map(|r| r.1), Some(Lang::C));
    }
}
