//! The perturbations: each takes one excerpt and returns it under exactly one
//! change that a reader would still call the same text.

use recital_text::code::{lexemes, Lang, LexemeKind};

use super::Rng;

/// Words substituted into copies and written into rewritten comments.
pub const WORDS: &[&str] = &[
    "river", "window", "quickly", "silver", "garden", "market", "yellow", "thunder", "pencil", "orange",
    "bridge", "candle", "forest", "summer", "number", "simple", "rather", "paper", "engine", "mirror",
    "travel", "basket", "hollow", "marble", "rocket", "velvet", "winter", "copper", "planet", "ladder",
    "signal", "meadow", "finger", "button", "harbor", "puzzle", "shadow", "tunnel", "violet", "wonder",
];

/// Zero-width and other invisible format characters.
const ZERO_WIDTH: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Latin letter -> look-alikes from Cyrillic and Greek (TR39 confusables).
fn homoglyphs(c: char) -> &'static [char] {
    match c {
        'a' => &['\u{0430}'],
        'c' => &['\u{0441}'],
        'd' => &['\u{0501}'],
        'e' => &['\u{0435}'],
        'h' => &['\u{04BB}'],
        'i' => &['\u{0456}'],
        'j' => &['\u{0458}'],
        'o' => &['\u{043E}', '\u{03BF}'],
        'p' => &['\u{0440}'],
        'q' => &['\u{051B}'],
        's' => &['\u{0455}'],
        'v' => &['\u{03BD}'],
        'w' => &['\u{051D}'],
        'x' => &['\u{0445}'],
        'y' => &['\u{0443}'],
        'A' => &['\u{0410}', '\u{0391}'],
        'B' => &['\u{0412}', '\u{0392}'],
        'C' => &['\u{0421}'],
        'E' => &['\u{0415}', '\u{0395}'],
        'H' => &['\u{041D}', '\u{0397}'],
        'I' => &['\u{0406}', '\u{0399}'],
        'J' => &['\u{0408}'],
        'K' => &['\u{041A}', '\u{039A}'],
        'M' => &['\u{041C}', '\u{039C}'],
        'N' => &['\u{039D}'],
        'O' => &['\u{041E}', '\u{039F}'],
        'P' => &['\u{0420}', '\u{03A1}'],
        'S' => &['\u{0405}'],
        'T' => &['\u{0422}', '\u{03A4}'],
        'X' => &['\u{0425}', '\u{03A7}'],
        'Y' => &['\u{04AE}', '\u{03A5}'],
        'Z' => &['\u{0396}'],
        _ => &[],
    }
}

/// Splits `s` into alternating runs: (is_word, text), where a word is a run of
/// alphabetic characters.
fn runs(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut cur: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let w = c.is_alphabetic();
        match cur {
            Some(x) if x == w => {}
            Some(x) => {
                out.push((x, &s[start..i]));
                start = i;
                cur = Some(w);
            }
            None => cur = Some(w),
        }
    }
    if let Some(x) = cur {
        out.push((x, &s[start..]));
    }
    out
}

pub fn all_caps(s: &str) -> String {
    s.to_uppercase()
}

pub fn title_case(s: &str) -> String {
    runs(s)
        .into_iter()
        .map(|(w, t)| {
            if !w {
                return t.to_string();
            }
            let mut cs = t.chars();
            let first = cs.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            first + &cs.as_str().to_lowercase()
        })
        .collect()
}

pub fn random_case(s: &str, rng: &mut Rng) -> String {
    s.chars()
        .map(
            |c| {
                if rng.chance(0.5) {
                    c.to_uppercase().collect::<String>()
                } else {
                    c.to_lowercase().collect()
                }
            },
        )
        .collect()
}

/// An invisible character inside about half of the words of two letters or more.
pub fn zero_width(s: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for (w, t) in runs(s) {
        let n = t.chars().count();
        if w && n >= 2 && rng.chance(0.5) {
            let at = 1 + rng.below(n - 1);
            for (k, c) in t.chars().enumerate() {
                if k == at {
                    out.push(*rng.pick(ZERO_WIDTH));
                }
                out.push(c);
            }
        } else {
            out.push_str(t);
        }
    }
    out
}

/// About 40 % of the letters that have a look-alike replaced by it.
pub fn homoglyph(s: &str, rng: &mut Rng) -> String {
    s.chars()
        .map(|c| {
            let h = homoglyphs(c);
            if !h.is_empty() && rng.chance(0.4) {
                *rng.pick(h)
            } else {
                c
            }
        })
        .collect()
}

/// The words re-flowed at another width with indentation, CRLF or LF line
/// ends, and some double spaces and no-break spaces between words.
pub fn rewrap(s: &str, rng: &mut Rng) -> String {
    let width = 25 + rng.below(70);
    let indent = *rng.pick(&["", "  ", "    ", "\t"]);
    let nl = if rng.chance(0.5) { "\r\n" } else { "\n" };
    let mut out = String::new();
    let mut line = 0usize;
    for (k, w) in s.split_whitespace().enumerate() {
        if k > 0 {
            if line + w.len() > width {
                out.push_str(nl);
                out.push_str(indent);
                line = 0;
            } else {
                let sep = if rng.chance(0.15) {
                    "  "
                } else if rng.chance(0.1) {
                    "\u{00A0}"
                } else {
                    " "
                };
                out.push_str(sep);
                line += 1;
            }
        }
        out.push_str(w);
        line += w.chars().count();
    }
    out
}

/// Quotes and dashes swapped between their straight and typographic forms,
/// and one comma edit in each run of about 15 words (the substitution rate):
/// a comma in the run removed, or, where it has none, one added after a word.
pub fn punctuation(s: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = s.chars().collect();
    // Word ends (index of the last letter) and commas, by char index.
    let mut word_ends = Vec::new();
    for i in 0..chars.len() {
        if chars[i].is_alphabetic() && !chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) {
            word_ends.push(i);
        }
    }
    let mut drop = std::collections::HashSet::new();
    let mut add = std::collections::HashSet::new();
    for chunk in word_ends.chunks(15) {
        if chunk.len() < 8 && !(drop.is_empty() && add.is_empty()) {
            continue;
        }
        let (a, b) = (chunk[0], chunk[chunk.len() - 1] + 1);
        let commas: Vec<usize> = (a..b).filter(|&i| chars[i] == ',').collect();
        if !commas.is_empty() && rng.chance(0.6) {
            drop.insert(*rng.pick(&commas));
        } else {
            // After a word that is followed by a space.
            let cands: Vec<usize> =
                chunk.iter().copied().filter(|&i| chars.get(i + 1) == Some(&' ')).collect();
            if !cands.is_empty() {
                add.insert(*rng.pick(&cands));
            } else if !commas.is_empty() {
                drop.insert(*rng.pick(&commas));
            }
        }
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut open_dq = true;
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        match c {
            '\'' => out.push(if prev.is_alphanumeric() { '\u{2019}' } else { '\u{2018}' }),
            '"' => {
                out.push(if open_dq { '\u{201C}' } else { '\u{201D}' });
                open_dq = !open_dq;
            }
            '\u{2018}' | '\u{2019}' => out.push('\''),
            '\u{201C}' | '\u{201D}' => out.push('"'),
            '\u{2014}' | '\u{2013}' => out.push_str("--"),
            '-' if prev.is_alphabetic() && next.is_alphabetic() => {
                out.push(if rng.chance(0.5) { '\u{2014}' } else { '\u{2013}' })
            }
            ',' if drop.contains(&i) => {}
            _ => {
                out.push(c);
                if add.contains(&i) {
                    out.push(',');
                }
            }
        }
    }
    out
}

/// One word in each run of about 15 words replaced by another word.
pub fn substitute(s: &str, rng: &mut Rng) -> String {
    let rs = runs(s);
    let words: Vec<usize> = (0..rs.len()).filter(|&i| rs[i].0).collect();
    let mut chosen = std::collections::HashSet::new();
    for chunk in words.chunks(15) {
        if chunk.len() >= 8 || chosen.is_empty() {
            chosen.insert(*rng.pick(chunk));
        }
    }
    rs.iter()
        .enumerate()
        .map(|(i, &(_, t))| {
            if chosen.contains(&i) {
                let mut w = *rng.pick(WORDS);
                while w.eq_ignore_ascii_case(t) {
                    w = *rng.pick(WORDS);
                }
                if t.chars().next().is_some_and(|c| c.is_uppercase()) {
                    let mut cs = w.chars();
                    cs.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default() + cs.as_str()
                } else {
                    w.to_string()
                }
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// Compatibility forms a reader sees as the same letters: one of fullwidth
/// letters, mathematical bold letters, typographic ligatures, or soft hyphens
/// inside long words.
pub fn compat(s: &str, rng: &mut Rng) -> (String, &'static str) {
    let has_lig = ["ff", "fi", "fl", "st"].iter().any(|l| s.contains(l));
    let kind = match rng.below(4) {
        2 if has_lig => 2,
        2 => 0,
        k => k,
    };
    match kind {
        0 => (
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect(),
            "fullwidth",
        ),
        1 => (
            s.chars()
                .map(|c| match c {
                    'A'..='Z' => char::from_u32(0x1D400 + (c as u32 - 'A' as u32)).unwrap_or(c),
                    'a'..='z' => char::from_u32(0x1D41A + (c as u32 - 'a' as u32)).unwrap_or(c),
                    _ => c,
                })
                .collect(),
            "math-bold",
        ),
        2 => {
            let mut t = s.to_string();
            for (from, to) in [
                ("ffi", "\u{FB03}"),
                ("ffl", "\u{FB04}"),
                ("ff", "\u{FB00}"),
                ("fi", "\u{FB01}"),
                ("fl", "\u{FB02}"),
                ("st", "\u{FB06}"),
            ] {
                t = t.replace(from, to);
            }
            (t, "ligatures")
        }
        _ => {
            let mut out = String::new();
            for (w, t) in runs(s) {
                let n = t.chars().count();
                if w && n >= 6 {
                    let cut = 2 + rng.below(n - 3);
                    for (k, c) in t.chars().enumerate() {
                        if k == cut {
                            out.push('\u{00AD}');
                        }
                        out.push(c);
                    }
                } else {
                    out.push_str(t);
                }
            }
            (out, "soft-hyphens")
        }
    }
}

/// Combining accents added to about 30 % of the vowels (`thé éarth`).
pub fn diacritics(s: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        out.push(c);
        if "aeiouAEIOU".contains(c) && rng.chance(0.3) {
            out.push(*rng.pick(&['\u{0301}', '\u{0300}', '\u{0308}', '\u{0302}']));
        }
    }
    out
}

// ---------------------------------------------------------------- code

fn line_comment(lang: Lang) -> &'static str {
    if lang == Lang::Python {
        "#"
    } else {
        "//"
    }
}

/// A fresh name in the style of `old`.
fn fresh_name(old: &str, lang: Lang, taken: &std::collections::HashSet<String>, rng: &mut Rng) -> String {
    const PARTS: &[&str] = &[
        "buf", "tmp", "count", "node", "val", "idx", "ptr", "len", "ctx", "state", "item", "res", "acc",
        "cur", "key", "data", "entry", "limit", "flag", "size", "pos", "elem", "head", "tail", "src", "dst",
        "out", "input",
    ];
    for attempt in 0.. {
        let a = *rng.pick(PARTS);
        let b = *rng.pick(PARTS);
        let n = if attempt > 20 { format!("{attempt}") } else { String::new() };
        let upper = old.chars().all(|c| !c.is_lowercase()) && old.chars().any(|c| c.is_uppercase());
        let name = if upper {
            format!("{}_{}{n}", a.to_uppercase(), b.to_uppercase())
        } else if old.contains('_') || old.chars().all(|c| !c.is_uppercase()) {
            if old.len() <= 2 {
                format!("{a}{n}")
            } else {
                format!("{a}_{b}{n}")
            }
        } else {
            let cap = |w: &str| w[..1].to_uppercase() + &w[1..];
            if old.starts_with(|c: char| c.is_uppercase()) {
                format!("{}{}{n}", cap(a), cap(b))
            } else {
                format!("{a}{}{n}", cap(b))
            }
        };
        if name != old && !taken.contains(&name) && !lang.is_keyword(&name) {
            return name;
        }
    }
    unreachable!()
}

/// Whether the identifier lexeme `i` is one a programmer renaming variables
/// would leave alone: a preprocessor directive (`define` after `#`), anything
/// on an `#include` line, `self`/`cls`/`this`/`super`, Rust lifetimes and raw
/// identifiers.
fn keep_name(src: &str, lx: &[recital_text::code::Lexeme], i: usize) -> bool {
    let t = &src[lx[i].src.clone()];
    if t.starts_with('\'') || t.starts_with("r#") || matches!(t, "self" | "Self" | "cls" | "this" | "super") {
        return true;
    }
    if i > 0 && &src[lx[i - 1].src.clone()] == "#" {
        return true;
    }
    let ls = src[..lx[i].src.start].rfind('\n').map_or(0, |p| p + 1);
    let line = src[ls..].trim_start();
    line.starts_with("#include") || line.starts_with("#import") || line.starts_with("# include")
}

/// Consistent renaming of about 70 % of the distinct identifiers (at least
/// one), as a programmer would: directives, include paths and `self` stay.
pub fn rename_identifiers(src: &str, lang: Lang, rng: &mut Rng) -> String {
    let lx: Vec<_> = lexemes(src, lang).collect();
    let mut names: Vec<&str> = Vec::new();
    let mut kept: std::collections::HashSet<&str> = Default::default();
    for (i, l) in lx.iter().enumerate() {
        if l.kind != LexemeKind::Identifier {
            continue;
        }
        let t = &src[l.src.clone()];
        if keep_name(src, &lx, i) {
            kept.insert(t);
        } else if !names.contains(&t) {
            names.push(t);
        }
    }
    // A name also used as a directive or include path is left alone everywhere.
    names.retain(|n| !kept.contains(n));
    let mut taken: std::collections::HashSet<String> =
        names.iter().chain(kept.iter()).map(|s| s.to_string()).collect();
    let mut map = std::collections::HashMap::new();
    for (k, &n) in names.iter().enumerate() {
        if rng.chance(0.7) || (k + 1 == names.len() && map.is_empty()) {
            let f = fresh_name(n, lang, &taken, rng);
            taken.insert(f.clone());
            map.insert(n, f);
        }
    }
    let mut out = String::with_capacity(src.len() + 64);
    let mut pos = 0;
    for (i, l) in lx.iter().enumerate() {
        if l.kind == LexemeKind::Identifier && !keep_name(src, &lx, i) {
            if let Some(f) = map.get(&src[l.src.clone()]) {
                out.push_str(&src[pos..l.src.start]);
                out.push_str(f);
                pos = l.src.end;
            }
        }
    }
    out.push_str(&src[pos..]);
    out
}

/// Width of an indentation prefix, tabs counting `tab`.
fn indent_width(ws: &str, tab: usize) -> usize {
    ws.chars().map(|c| if c == '\t' { tab } else { 1 }).sum()
}

/// Layout changed and nothing else: another indentation unit, some lines
/// joined or braces moved to their own line (C, Rust), spaces added or
/// removed next to operators. Comments, names and literals are untouched.
pub fn reformat(src: &str, lang: Lang, rng: &mut Rng) -> String {
    let lx: Vec<_> = lexemes(src, lang).collect();
    // Original indentation unit: the smallest non-zero indentation.
    let unit = src
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_width(&l[..l.len() - l.trim_start().len()], 4))
        .filter(|&w| w > 0)
        .min()
        .unwrap_or(4)
        .max(1);
    let new_unit = loop {
        let u = *rng.pick(&["  ", "   ", "    ", "\t", "        "]);
        if indent_width(u, 4) != unit {
            break u;
        }
    };
    let reindent = |ws: &str| -> String {
        // ws: whitespace after a newline.
        let lvl = (indent_width(ws, 4) + unit / 2) / unit;
        new_unit.repeat(lvl)
    };
    let reflow = matches!(lang, Lang::C | Lang::Cpp | Lang::Rust | Lang::Java);
    let allman = reflow && rng.chance(0.5);
    let line_of = |pos: usize| -> &str {
        let a = src[..pos].rfind('\n').map_or(0, |i| i + 1);
        let b = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
        &src[a..b]
    };
    let spaceable = |t: &str| {
        matches!(
            t,
            "=" | "=="
                | "!="
                | "+"
                | "-"
                | "*"
                | "/"
                | "<"
                | ">"
                | "<="
                | ">="
                | "&&"
                | "||"
                | ","
                | "("
                | ")"
                | "{"
                | "}"
                | "["
                | "]"
                | ";"
                | "+="
                | "-="
                | "|"
                | "&"
                | "=>"
        )
    };
    let mut out = String::with_capacity(src.len() + 64);
    let mut prev_end = 0usize;
    let mut prev_text = "";
    let mut prev_punct = false;
    let mut cur_indent = String::new();
    for l in &lx {
        let gap = &src[prev_end..l.src.start];
        let text = &src[l.src.clone()];
        let punct = l.kind == LexemeKind::Punct;
        if prev_end == 0 {
            // Leading whitespace of the excerpt: re-indent its first line.
            if gap.chars().all(char::is_whitespace) {
                let lead = &gap[gap.rfind('\n').map_or(0, |i| i + 1)..];
                out.push_str(&gap[..gap.len() - lead.len()]);
                cur_indent = reindent(lead);
                out.push_str(&cur_indent);
            } else {
                out.push_str(gap);
            }
        } else if !gap.chars().all(char::is_whitespace) {
            // A comment: keep it, re-indent the lines it spans.
            let mut first = true;
            for part in gap.split('\n') {
                if !first {
                    out.push('\n');
                    let t = part.trim_start_matches([' ', '\t']);
                    cur_indent = reindent(&part[..part.len() - t.len()]);
                    out.push_str(&cur_indent);
                    out.push_str(t);
                } else {
                    out.push_str(part);
                }
                first = false;
            }
        } else if gap.contains('\n') {
            let pre = line_of(prev_end).trim_start().starts_with('#')
                || line_of(l.src.start).trim_start().starts_with('#');
            let cont = src[..prev_end].trim_end_matches([' ', '\t']).ends_with('\\');
            if reflow
                && !pre
                && !cont
                && gap.matches('\n').count() == 1
                && prev_text != "{"
                && rng.chance(0.15)
            {
                out.push(' ');
            } else {
                let lead = &gap[gap.rfind('\n').map_or(0, |i| i + 1)..];
                let nls = &gap[..gap.len() - lead.len()];
                out.push_str(&nls.replace([' ', '\t'], ""));
                cur_indent = reindent(lead);
                out.push_str(&cur_indent);
            }
        } else if allman
            && text == "{"
            && !gap.is_empty()
            && !line_of(l.src.start).trim_start().starts_with('#')
        {
            out.push('\n');
            out.push_str(&cur_indent);
        } else if gap.is_empty() {
            let dotty = |t: &str| t.contains(['.', ':', '\'', '#', '@', '$']) || t == "->";
            if (punct || prev_punct)
                && !dotty(text)
                && !dotty(prev_text)
                && (spaceable(text) || spaceable(prev_text))
                && rng.chance(0.3)
            {
                out.push(' ');
            }
        } else if gap == " "
            && (punct != prev_punct)
            && (spaceable(text) || spaceable(prev_text))
            && rng.chance(0.3)
        {
            // drop the space
        } else {
            out.push_str(gap);
        }
        out.push_str(text);
        prev_end = l.src.end;
        prev_text = text;
        prev_punct = punct;
    }
    out.push_str(&src[prev_end..]);
    out
}

/// Byte ranges of the comments of `src`: what lies between lexemes and is not
/// whitespace.
fn comment_ranges(src: &str, lang: Lang) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut prev = 0;
    let ends: Vec<_> =
        lexemes(src, lang).map(|l| l.src).chain(std::iter::once(src.len()..src.len())).collect();
    for r in ends {
        let gap = &src[prev..r.start];
        if let Some(a) = gap.find(|c: char| !c.is_whitespace()) {
            let b = gap.trim_end().len();
            out.push(prev + a..prev + b);
        }
        prev = r.end;
    }
    out
}

/// Comments changed: all removed, all reworded, or new ones added (when the
/// excerpt has none, always added). Returns the new text, what was done, and
/// the byte ranges of the new text that are new (reworded or added comments).
pub fn change_comments(
    src: &str,
    lang: Lang,
    rng: &mut Rng,
) -> (String, &'static str, Vec<std::ops::Range<usize>>) {
    let cm = comment_ranges(src, lang);
    let action = if cm.is_empty() { 2 } else { rng.below(3) };
    match action {
        0 => {
            // Remove; a comment alone on its line(s) takes the line with it.
            let mut out = String::with_capacity(src.len());
            let mut pos = 0;
            for r in &cm {
                let ls = src[..r.start].rfind('\n').map_or(0, |i| i + 1);
                let le = src[r.end..].find('\n').map_or(src.len(), |i| r.end + i);
                let (a, b) = if src[ls..r.start].trim().is_empty() && src[r.end..le].trim().is_empty() {
                    (ls, (le + 1).min(src.len()))
                } else {
                    (src[..r.start].trim_end_matches([' ', '\t']).len(), r.end)
                };
                let a = a.max(pos);
                out.push_str(&src[pos..a]);
                pos = b.max(a);
            }
            out.push_str(&src[pos..]);
            (out.trim_end().to_string(), "removed", Vec::new())
        }
        1 => {
            let mut out = String::with_capacity(src.len());
            let mut fresh = Vec::new();
            let mut pos = 0;
            for r in &cm {
                out.push_str(&src[pos..r.start]);
                let a = out.len();
                for (w, t) in runs(&src[r.clone()]) {
                    if w && t.chars().count() >= 3 && rng.chance(0.7) {
                        let w = rng.pick(WORDS);
                        out.push_str(w);
                    } else {
                        out.push_str(t);
                    }
                }
                fresh.push(a..out.len());
                pos = r.end;
            }
            out.push_str(&src[pos..]);
            (out, "reworded", fresh)
        }
        _ => {
            // Lines at whose start a comment line may go: not inside a
            // lexeme (multi-line strings) or a comment, not after a `\`.
            let lx: Vec<_> = lexemes(src, lang).map(|l| l.src).collect();
            let mut starts = Vec::new();
            let mut pos = 0;
            for line in src.split_inclusive('\n') {
                let inside = lx.iter().any(|r| r.start < pos && pos < r.end)
                    || cm.iter().any(|r| r.start < pos && pos < r.end);
                let after_cont = src[..pos].trim_end_matches(['\n', '\r', ' ', '\t']).ends_with('\\');
                if !line.trim().is_empty() && !inside && !after_cont {
                    starts.push(pos);
                }
                pos += line.len();
            }
            let k = 1 + rng.below(3);
            let mut at: Vec<usize> =
                if starts.is_empty() { Vec::new() } else { (0..k).map(|_| *rng.pick(&starts)).collect() };
            at.sort_unstable();
            at.dedup();
            let mut out = String::with_capacity(src.len() + 128);
            let mut fresh = Vec::new();
            let mut pos = 0;
            for a in at {
                out.push_str(&src[pos..a]);
                let line = &src[a..];
                let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
                let n = 3 + rng.below(5);
                let words: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
                let c0 = out.len() + indent.len();
                out.push_str(&format!("{indent}{} {}\n", line_comment(lang), words.join(" ")));
                fresh.push(c0..out.len() - 1);
                pos = a;
            }
            out.push_str(&src[pos..]);
            (out, "added", fresh)
        }
    }
}

/// The excerpt as the content of a JSON string literal, the way encoders
/// and evaders write it: `\n`, `\t`, `\"`, `\\` escaped; every non-ASCII
/// character as `\uXXXX` (a surrogate pair above U+FFFF, as `ensure_ascii`
/// encoders do); `'`, `<`, `>`, `&` as `\u00XX` (HTML-safe encoders); and
/// one space in ten as `\u0020` (an evader's choice: the raw text then has
/// no space between the two words). The caller wraps it in quotes.
pub fn json_string(s: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\'' | '<' | '>' | '&' => out.push_str(&format!("\\u{:04x}", c as u32)),
            ' ' if rng.chance(0.1) => out.push_str("\\u0020"),
            c if c.is_ascii_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The excerpt dressed in Markdown: a block quote (lines of 40 to 80
/// bytes), a list (a sentence an item) or a plain paragraph, the note says
/// which; inside each line, a third of the words (in runs of one to three)
/// in emphasis or strong, one run as a link, one word as inline code.
pub fn markdown(s: &str, rng: &mut Rng) -> (String, &'static str) {
    let form = rng.below(3);
    let mut lines: Vec<Vec<&str>> = vec![Vec::new()];
    let (mut width, mut limit) = (0, rng.range(40, 80));
    for w in s.split_whitespace() {
        lines.last_mut().expect("a line").push(w);
        width += w.len() + 1;
        let end = match form {
            0 => width > limit,
            1 => w.ends_with(['.', ';', ':', '?', '!']) && width > 40,
            _ => false,
        };
        if end {
            lines.push(Vec::new());
            (width, limit) = (0, rng.range(40, 80));
        }
    }
    lines.retain(|l| !l.is_empty());
    let total: usize = lines.iter().map(Vec::len).sum();
    let (link, code) = (rng.below(total.max(1)), rng.below(total.max(1)));
    let mut seen = 0;
    let marked: Vec<String> = lines
        .iter()
        .map(|l| {
            let line = inline_markdown(l, seen, link, code, rng);
            seen += l.len();
            line
        })
        .collect();
    match form {
        0 => (marked.iter().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n"), "quote"),
        1 => (marked.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"), "list"),
        _ => (marked.join(" "), "paragraph"),
    }
}

/// One line's words with inline markup: the run holding word number `link`
/// (counted over the excerpt, this line's first being `first`) as a link,
/// word `code` as inline code, a third of the other runs emphasised.
fn inline_markdown(words: &[&str], first: usize, link: usize, code: usize, rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        if i > 0 {
            out.push(' ');
        }
        let n = rng.range(1, 3).min(words.len() - i);
        let run = words[i..i + n].join(" ");
        let at = first + i;
        // Markup must sit on word characters to count as such (CommonMark's
        // flanking rules): runs with punctuation at an edge are left plain.
        let clean = run.starts_with(char::is_alphanumeric) && run.ends_with(char::is_alphanumeric);
        if clean && (at..at + n).contains(&link) {
            out.push_str(&format!("[{run}](https://example.com/{})", rng.below(1000)));
        } else if clean && n == 1 && code == at {
            out.push_str(&format!("`{run}`"));
        } else if clean && rng.chance(0.33) {
            let mark = *rng.pick(&["*", "_", "**", "__", "***"]);
            out.push_str(&format!("{mark}{run}{mark}"));
        } else {
            out.push_str(&run);
        }
        i += n;
    }
    out
}
