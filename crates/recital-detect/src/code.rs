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

/// Byte ranges of code and their languages: fenced blocks, then bare code
/// between them. `whole` treats the entire text as code in that language when
/// it has no fenced blocks.
pub fn regions(text: &str, whole: Option<Lang>, fence_default: Option<Lang>) -> Vec<(Range<usize>, Lang)> {
    marked_regions(text, whole, fence_default).into_iter().map(|(r, l, _)| (r, l)).collect()
}

/// [`regions`] in order, each marked `true` when the text declares it (a
/// fenced block, or the whole text when the caller says it is code or it
/// plainly is) and `false` for bare code found between paragraphs. The scan
/// searches both on the canonical stream but judges near-verbatim matches in
/// bare code as prose, since a bare region's bounds are a guess.
pub fn marked_regions(
    text: &str,
    whole: Option<Lang>,
    fence_default: Option<Lang>,
) -> Vec<(Range<usize>, Lang, bool)> {
    let blocks = fenced_blocks(text, fence_default);
    if blocks.is_empty() && !text.is_empty() {
        if let Some(l) = whole {
            return vec![(0..text.len(), l, true)];
        }
        if let Some(l) = guess_lang(text) {
            // Text that plainly is code, but with lines of prose: an answer
            // of snippets between paragraphs. Each snippet is lexed in its
            // own language (one guess for the whole lexes some in the wrong
            // one, and the prose's words, `function`, sway it), and counts
            // as declared code, since the answer as a whole is code.
            if !text.lines().any(|l| line_kind(l) == LineKind::Prose) {
                return vec![(0..text.len(), l, true)];
            }
            // A run of a single code line counts here: the text is known to
            // be code, and its language is the fallback.
            return bare_regions(text, 0..text.len(), 1, Some(l))
                .into_iter()
                .map(|(r, l)| (r, l, true))
                .collect();
        }
    }
    let bare =
        |range: Range<usize>| bare_regions(text, range, 1, None).into_iter().map(|(r, l)| (r, l, false));
    let mut out = Vec::new();
    let mut gap = 0;
    for b in blocks {
        out.extend(bare(gap..b.whole.start));
        gap = b.whole.end;
        if let (Some(l), false) = (b.lang, b.body.is_empty()) {
            out.push((b.body, l, true));
        }
    }
    out.extend(bare(gap..text.len()));
    out
}

/// A fenced block: its body, the whole block with its fence lines, and its
/// language (`None` for a language the lexer does not know).
struct Block {
    body: Range<usize>,
    whole: Range<usize>,
    lang: Option<Lang>,
}

fn fenced_blocks(text: &str, fence_default: Option<Lang>) -> Vec<Block> {
    let resolve = |fl: FenceLang, body: &str| match fl {
        FenceLang::Known(l) => Some(l),
        FenceLang::Guess => fence_default.or_else(|| guess_lang(body)),
        FenceLang::Other => None,
    };
    let mut out = Vec::new();
    // (fence, block start, body start, language)
    let mut open: Option<(String, usize, usize, FenceLang)> = None;
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
                open = Some((fence, start, pos, fl));
            }
            Some((f, block_start, body_start, fl))
                if is_fence && fence.starts_with(f.as_str()) && trimmed[fence.len()..].trim().is_empty() =>
            {
                let body = *body_start..start;
                let lang = resolve(*fl, &text[body.clone()]);
                out.push(Block { body, whole: *block_start..pos, lang });
                open = None;
            }
            _ => {}
        }
    }
    if let Some((_, block_start, body_start, fl)) = open {
        let lang = resolve(fl, &text[body_start..]);
        out.push(Block { body: body_start..text.len(), whole: block_start..text.len(), lang });
    }
    out
}

/// How a line of unfenced text reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LineKind {
    Blank,
    /// Plainly code: a statement, a brace, a preprocessor line, a header.
    Code,
    /// Either: comments, signatures, continuation lines, short labels.
    Soft,
    /// A sentence or a line of a paragraph.
    Prose,
}

/// Marks that prose almost never has: operators, brackets, calls
/// (`name(`), member access and snake_case names. Parentheses after a space
/// and semicolons are left out, since sentences use them.
fn code_marks(t: &str) -> usize {
    let mut n = 0;
    let mut prev = ' ';
    for c in t.chars() {
        n += match c {
            '{' | '}' | '[' | ']' | '=' | '<' | '>' | '&' | '|' | '*' | '+' | '%' | '^' | '~' => 1,
            '(' | '_' if prev.is_alphanumeric() || prev == '_' => 1,
            _ => 0,
        };
        prev = c;
    }
    n
}

fn line_kind(line: &str) -> LineKind {
    let t = line.trim();
    if t.is_empty() {
        return LineKind::Blank;
    }
    // One tab is an indentation (Go, the kernel); one space is not.
    let indented = line.starts_with('\t') || line.len() - line.trim_start_matches(' ').len() >= 2;
    let words = t
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_alphabetic() || "'’,.:;?!\"".contains(c)))
        .count();
    let dense = code_marks(t) * 100 >= t.chars().count() * 3;
    let first = t.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '#').next().unwrap_or("");
    // `# define X` is `#define X` (the preprocessor allows blanks after `#`).
    let directive = match first {
        "#" => format!("#{}", t[1..].trim_start().split(|c: char| !c.is_alphanumeric()).next().unwrap_or("")),
        f => f.to_string(),
    };
    if ["#include", "#define", "#if", "#ifdef", "#ifndef", "#endif", "#else", "#elif", "#undef", "#pragma"]
        .contains(&directive.as_str())
    {
        return LineKind::Code;
    }
    if t.starts_with("//") || t.starts_with("/*") || t.starts_with("*/") || t.starts_with("* ") || t == "*" {
        return LineKind::Soft;
    }
    // A block opened or closed, or a whole one-line block (`f() { return x; }`).
    if t.starts_with('}') || t.ends_with('{') || (t.ends_with('}') && t.contains('{') && dense) {
        return LineKind::Code;
    }
    let jump = ["return", "break", "continue", "goto"].contains(&first);
    if t.ends_with(';') && (dense || jump || !t.contains(' ')) {
        return LineKind::Code;
    }
    if t.ends_with(':') && python_header(t) {
        return LineKind::Code;
    }
    if (first == "return" || first == "import" || first == "from") && words <= 5 && (dense || t.contains('.'))
    {
        return LineKind::Code;
    }
    // A short sentence or label ("Then, bare:", "That is all.") is prose too.
    let sentence = words >= 2 && t.ends_with([':', '.', '?', '!']);
    match ((words >= 4 || sentence) && !dense, indented) {
        // Inside a function, an indented line of words is a wrapped string
        // or comment more often than a paragraph.
        (true, true) => LineKind::Soft,
        (true, false) => LineKind::Prose,
        (false, true) => LineKind::Code,
        (false, false) => LineKind::Soft,
    }
}

/// `if x:`, `def f(a):`, `else:`: a Python block header, not a sentence
/// ending in a colon.
fn python_header(t: &str) -> bool {
    const KW: &[&str] =
        &["def", "class", "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "async"];
    let first = t.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
    KW.contains(&first) && (t.contains('(') || t.split_whitespace().count() <= 6)
}

/// Runs of code-shaped lines in `text[range]`, each with a guessed language
/// (`fallback` where the run shows none): at least `min_code` plain code
/// lines and no line of prose inside. Prose around code breaks a run;
/// comments, signatures and blank lines do not.
fn bare_regions(
    text: &str,
    range: Range<usize>,
    min_code: usize,
    fallback: Option<Lang>,
) -> Vec<(Range<usize>, Lang)> {
    let mut out = Vec::new();
    // (first code/soft line start, last code/soft line end, code lines)
    let mut run: Option<(usize, usize, usize)> = None;
    let mut pos = range.start;
    let close = |run: Option<(usize, usize, usize)>, out: &mut Vec<(Range<usize>, Lang)>| {
        if let Some((a, b, code)) = run {
            if code >= min_code {
                if let Some(l) = region_lang(&text[a..b]).or(fallback) {
                    out.push((a..b, l));
                }
            }
        }
    };
    for line in text[range.clone()].split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let end = start + line.trim_end().len();
        match line_kind(line) {
            LineKind::Blank => {}
            LineKind::Prose => close(run.take(), &mut out),
            kind => {
                let code = usize::from(kind == LineKind::Code);
                run = Some(match run {
                    Some((a, _, c)) => (a, end, c + code),
                    None => (start + (line.len() - line.trim_start().len()), end, code),
                });
            }
        }
    }
    close(run, &mut out);
    out
}

/// The language of a region already known to be code: the clearest markers,
/// else C for brace-and-semicolon code (the C family lexes alike, and C's
/// keywords are the common core) and Python for colon-and-indent code.
fn region_lang(region: &str) -> Option<Lang> {
    if let Some(l) = guess_lang(region) {
        return Some(l);
    }
    let mut sorted = marker_scores(region).to_vec();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.1));
    if sorted[0].1 >= 2 && sorted[0].1 > sorted[1].1 {
        return Some(sorted[0].0);
    }
    let braces = region.matches(['{', '}', ';']).count();
    let headers = region.lines().filter(|l| l.trim_end().ends_with(':') && python_header(l.trim())).count();
    if braces >= 3 {
        Some(Lang::C)
    } else if headers >= 1 {
        Some(Lang::Python)
    } else {
        None
    }
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
    let scores = marker_scores(text);
    let mut sorted = scores.to_vec();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.1));
    let (best, top) = sorted[0];
    (top >= 3 && top > sorted[1].1).then_some(best)
}

/// Per language, how strongly `text` shows that language's markers.
fn marker_scores(text: &str) -> [(Lang, i32); 8] {
    // A word marker counts where it starts a word: `def ` inside `#ifdef `
    // or `fn ` inside `kfn ` says nothing (operators such as `->` count
    // anywhere).
    let has = |needle: &str| {
        let word = needle.starts_with(|c: char| c.is_alphanumeric() || c == '_');
        let starts_word = |at: usize| {
            !word
                || text[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '#'))
        };
        text.match_indices(needle).filter(|&(at, _)| starts_word(at)).count().min(5) as i32
    };
    let mut scores = [
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
                + has("function(") * 2
                + has("=== ")
                + has("!== ")
                + has("typeof ")
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
    // Lines ending in `{` or `;` are not Python, however many of its
    // markers (`    return `, `None`) such code happens to contain.
    let braced = text.lines().filter(|l| l.trim_end().ends_with(['{', ';'])).count();
    if braced >= 2 {
        scores[0].1 = 0;
    }
    scores
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

    #[test]
    fn finds_bare_code_between_paragraphs() {
        let c = "static int count(struct node *n)\n{\n\tint k = 0;\n\n\t/* walk it */\n\twhile (n) {\n\t\tk++;\n\t\tn = n->next;\n\t}\n\treturn k;\n}";
        let t = format!(
            "The function below walks the list once and stops at the end.\nIt returns the count.\n\n{c}\n\nLet me know if you want the tests for this as well.\n"
        );
        let r = regions(&t, None, None);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(&t[r[0].0.clone()], c);
        assert_eq!(r[0].1, Lang::C);
        let py = "def area(r):\n    k = math.pi * r * r\n    return k\n";
        let t = format!("Here is how you compute the area of a circle.\n{py}That is all there is to it.\n");
        let r = regions(&t, None, None);
        assert_eq!(
            r.iter().map(|(g, l)| (&t[g.clone()], *l)).collect::<Vec<_>>(),
            vec![(py.trim_end(), Lang::Python)]
        );
    }

    #[test]
    fn bare_code_is_also_found_beside_fences() {
        let t = "First:\n```c\nint x = 1;\n```\nand then, bare:\n\nint f(void)\n{\n\tg();\n\treturn 1;\n}\n";
        let got: Vec<&str> = regions(t, None, None).iter().map(|(r, _)| &t[r.clone()]).collect();
        assert_eq!(got, vec!["int x = 1;\n", "int f(void)\n{\n\tg();\n\treturn 1;\n}"]);
    }

    #[test]
    fn snippets_between_paragraphs_are_lexed_each_in_its_language() {
        // Mostly code, so the whole text reads as code (C); one guess for all
        // of it lexed the JavaScript as C.
        let c = "static int count(struct node *n)\n{\n\tint k = 0;\n#ifdef DEBUG\n\tk++;\n#endif\n\twhile (n) {\n\t\tk++;\n\t\tn = n->next;\n\t}\n\treturn k;\n}";
        let js = "exports.isNum = function(num) {\n  if (typeof num === 'number') {\n    return num - num === 0;\n  }\n  return false;\n};";
        let mac = "#define FREE(s, p)  (*((s)->zfree))((s)->opaque, (voidpf)(p))\n#define TRY_FREE(s, p) {if (p) FREE(s, p);}";
        let t = format!(
            "The loop below walks the list once and stops at the end.\n\n{c}\n\nThis one checks its input before it reaches this point.\n{js}\n\nAnd the macros.\n\n{mac}\n"
        );
        let r = marked_regions(&t, None, None);
        let got: Vec<(&str, Lang, bool)> = r.iter().map(|(g, l, d)| (&t[g.clone()], *l, *d)).collect();
        assert_eq!(got, vec![(c, Lang::C, true), (js, Lang::JavaScript, true), (mac, Lang::C, true)]);
    }

    #[test]
    fn markers_count_only_at_the_start_of_a_word() {
        let c = "#ifdef CONFIG_X\n    return None_left;\n#endif\n#ifdef Y\nint f(void) {\n    return 0;\n}\n";
        let py = marker_scores(c).iter().find(|s| s.0 == Lang::Python).map(|s| s.1);
        assert_eq!(py, Some(0));
        assert_eq!(region_lang(c), Some(Lang::C));
        // Operators count wherever they are.
        let c = "p->next = q->next;\nq->prev = p->prev;\n";
        assert_eq!(marker_scores(c).iter().find(|s| s.0 == Lang::C).map(|s| s.1), Some(4));
    }

    #[test]
    fn one_line_blocks_and_spaced_directives_are_code() {
        assert_eq!(
            line_kind("func (w *wrap) Error() string { return w.msg + \": \" + w.err.Error() }"),
            LineKind::Code
        );
        assert_eq!(line_kind("# define PAGE_SHIFT\t12"), LineKind::Code);
        assert_eq!(line_kind("#  ifdef CONFIG_SMP"), LineKind::Code);
        // Braces in a sentence are not a block, nor is a heading.
        assert_ne!(line_kind("The set {a, b} is what the caller passes in as its argument."), LineKind::Code);
        assert_ne!(line_kind("# Define the problem first"), LineKind::Code);
        // One such line between paragraphs is a snippet of its own.
        let t = "The wrapper prints its message and the cause.\n\nfunc (w *wrap) Error() string { return w.msg + \": \" + w.err.Error() }\n\nThat is all.\n";
        let got: Vec<(&str, Lang)> =
            regions(t, None, None).iter().map(|(r, l)| (&t[r.clone()], *l)).collect();
        assert_eq!(
            got,
            vec![("func (w *wrap) Error() string { return w.msg + \": \" + w.err.Error() }", Lang::Go)]
        );
    }

    #[test]
    fn one_tab_is_an_indentation() {
        // Go: a `case` label under a one-tab indent is code, not a sentence.
        assert_eq!(line_kind("\tcase Person:\n"), LineKind::Soft);
        assert_eq!(line_kind("case closed, then:\n"), LineKind::Prose);
        let go = "func (d Domain) String() string {\n\tswitch d {\n\tcase Person:\n\t\treturn \"Person\"\n\tcase Group:\n\t\treturn \"Group\"\n\t}\n\treturn fmt.Sprintf(\"Domain%d\", int(d))\n}";
        let t = format!("Here is how the existing code in the project does it.\n\n{go}\n\nThat is all.\n");
        let got: Vec<&str> = regions(&t, None, None).iter().map(|(g, _)| &t[g.clone()]).collect();
        assert_eq!(got, vec![go]);
    }

    #[test]
    fn prose_with_semicolons_and_colons_is_not_code() {
        let kjv = "And God said, Let there be light: and there was light.\nAnd God saw the light, that it was good;\nand God divided the light from the darkness.\nAnd the evening and the morning were the first day;\nfor so it was; and so it remained;\nIf you ask me:\nthe answer is simple; it always was;\n";
        assert!(regions(kjv, None, None).is_empty(), "{:?}", regions(kjv, None, None));
        let list = "Steps:\n- open the file;\n- read it (all of it);\n- close it.\n";
        assert!(regions(list, None, None).is_empty());
    }
}
