//! SPDX licence expressions and the licence classes a policy reasons about.
//!
//! A source's licence is an SPDX expression: `MIT`, `MIT OR Apache-2.0`,
//! `GPL-2.0-only WITH Linux-syscall-note`, `(MIT AND BSD-3-Clause)`. Operators
//! bind as in SPDX: `WITH` tighter than `AND`, `AND` tighter than `OR`; they are
//! written all upper or all lower case. The class of an expression is:
//!
//! - `NOASSERTION` (or nothing at all): [`LicenseClass::Noassertion`];
//! - an identifier: the first class of the policy whose patterns match it, in
//!   the fixed order public-domain, permissive, copyleft, proprietary (an id
//!   ending in `+`, "or later", is also tried without the `+`); none:
//!   [`LicenseClass::Unknown`];
//! - `A WITH exception`: the class of `A` (exceptions only widen a licence);
//! - `A OR B`: the *least* restrictive class of the alternatives (the user may
//!   choose which licence to accept);
//! - `A AND B`: the *most* restrictive (both licences must be honoured);
//! - a malformed expression: [`LicenseClass::Unknown`], never a panic.
//!
//! From least to most restrictive: public-domain, permissive, copyleft,
//! unknown, noassertion, proprietary. Terms that are not known are treated as
//! possibly restrictive (more than copyleft), but less so than a licence known
//! to reserve all rights.

use serde::{Deserialize, Serialize};

use crate::pattern::{is_id_char, Pattern};

/// The class of a licence, which rules select on (`license_class = [...]`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseClass {
    /// No rights reserved: CC0, the Unlicense, expired copyright.
    PublicDomain,
    /// Reuse allowed with attribution: MIT, BSD, Apache, CC-BY.
    Permissive,
    /// Reuse allowed only under the same licence: GPL, MPL, CC-BY-SA.
    Copyleft,
    /// All rights reserved, or a licence the policy lists as proprietary.
    Proprietary,
    /// `NOASSERTION`: nobody has said what the licence is.
    Noassertion,
    /// A licence the policy does not classify, or an expression that does not parse.
    Unknown,
}

impl LicenseClass {
    /// Every class, in the order the policy tries its configurable ones.
    pub const ALL: [LicenseClass; 6] = [
        LicenseClass::PublicDomain,
        LicenseClass::Permissive,
        LicenseClass::Copyleft,
        LicenseClass::Proprietary,
        LicenseClass::Noassertion,
        LicenseClass::Unknown,
    ];

    /// The classes a policy's `[licenses]` table may list patterns for, in matching order.
    pub const CONFIGURABLE: [LicenseClass; 4] = [
        LicenseClass::PublicDomain,
        LicenseClass::Permissive,
        LicenseClass::Copyleft,
        LicenseClass::Proprietary,
    ];

    /// The name used in policy files and JSON (`public-domain`, `noassertion`, …).
    pub fn name(self) -> &'static str {
        match self {
            LicenseClass::PublicDomain => "public-domain",
            LicenseClass::Permissive => "permissive",
            LicenseClass::Copyleft => "copyleft",
            LicenseClass::Proprietary => "proprietary",
            LicenseClass::Noassertion => "noassertion",
            LicenseClass::Unknown => "unknown",
        }
    }

    /// The class with this name (exact, lower case).
    pub fn from_name(name: &str) -> Option<LicenseClass> {
        LicenseClass::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Rank from least (0) to most restrictive; see the module documentation.
    pub fn restrictiveness(self) -> u8 {
        match self {
            LicenseClass::PublicDomain => 0,
            LicenseClass::Permissive => 1,
            LicenseClass::Copyleft => 2,
            LicenseClass::Unknown => 3,
            LicenseClass::Noassertion => 4,
            LicenseClass::Proprietary => 5,
        }
    }
}

impl std::fmt::Display for LicenseClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed SPDX licence expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A licence identifier, possibly with an exception.
    License {
        /// The identifier (`GPL-2.0-only`, `LicenseRef-Acme`).
        id: String,
        /// The exception of `WITH`, if any.
        exception: Option<String>,
    },
    /// All of these apply.
    And(Vec<Expr>),
    /// Any one of these may be chosen.
    Or(Vec<Expr>),
}

/// Deepest nesting of parentheses accepted (a guard against hostile input).
const MAX_DEPTH: usize = 32;

impl Expr {
    /// Parses an expression; the error says what is wrong and where (byte offset).
    pub fn parse(text: &str) -> Result<Expr, String> {
        let tokens = lex(text)?;
        let mut p = Parser { tokens, pos: 0, depth: 0 };
        let e = p.or_expr()?;
        match p.tokens.get(p.pos) {
            None => Ok(e),
            Some(t) => Err(format!("unexpected {} at byte {}", t.describe(), t.at)),
        }
    }

    /// Licence identifiers in the expression, in order (exceptions excluded).
    pub fn license_ids(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_ids(&mut out);
        out
    }

    fn collect_ids<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::License { id, .. } => out.push(id),
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.collect_ids(out)),
        }
    }

    /// The class of the expression, given the class of each identifier.
    pub fn classify(&self, class_of: &dyn Fn(&str) -> LicenseClass) -> LicenseClass {
        match self {
            Expr::License { id, .. } => class_of(id),
            Expr::And(v) => v
                .iter()
                .map(|e| e.classify(class_of))
                .max_by_key(|c| c.restrictiveness())
                .unwrap_or(LicenseClass::Unknown),
            Expr::Or(v) => v
                .iter()
                .map(|e| e.classify(class_of))
                .min_by_key(|c| c.restrictiveness())
                .unwrap_or(LicenseClass::Unknown),
        }
    }
}

/// Documents of one licence class (`index stats`, a build's report).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassCount {
    /// The class.
    pub class: LicenseClass,
    /// Documents in it.
    pub docs: u64,
}

/// Documents per class under `table`, from documents per licence
/// expression: most documents first, ties in [`LicenseClass::ALL`] order,
/// empty classes left out. Grouping happens here, not in the index, because
/// classes are the policy's: the index only knows expressions.
pub fn class_counts<'a>(
    table: &LicenseTable,
    counts: impl IntoIterator<Item = (&'a str, u64)>,
) -> Vec<ClassCount> {
    let mut per = [0u64; LicenseClass::ALL.len()];
    for (license, docs) in counts {
        let class = table.classify(license);
        per[LicenseClass::ALL.iter().position(|c| *c == class).expect("every class is listed")] += docs;
    }
    let mut v: Vec<ClassCount> = LicenseClass::ALL
        .iter()
        .zip(per)
        .filter(|(_, docs)| *docs > 0)
        .map(|(class, docs)| ClassCount { class: *class, docs })
        .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.docs));
    v
}

/// Whether a licence string says that nothing is known (`NOASSERTION` or empty).
pub fn is_noassertion(license: &str) -> bool {
    let t = license.trim();
    t.is_empty() || t.eq_ignore_ascii_case("NOASSERTION")
}

/// The patterns of a policy's `[licenses]` table, per configurable class.
#[derive(Debug, Clone, Default)]
pub struct LicenseTable {
    classes: Vec<(LicenseClass, Vec<Pattern>)>,
}

impl LicenseTable {
    /// A table from patterns per class; classes are tried in [`LicenseClass::CONFIGURABLE`] order.
    pub fn new(mut classes: Vec<(LicenseClass, Vec<Pattern>)>) -> LicenseTable {
        classes.sort_by_key(|(c, _)| LicenseClass::CONFIGURABLE.iter().position(|x| x == c));
        LicenseTable { classes }
    }

    /// The class of one licence identifier.
    pub fn class_of_id(&self, id: &str) -> LicenseClass {
        if is_noassertion(id) {
            return LicenseClass::Noassertion;
        }
        let find = |id: &str| {
            self.classes.iter().find(|(_, pats)| pats.iter().any(|p| p.matches(id))).map(|(c, _)| *c)
        };
        find(id).or_else(|| id.strip_suffix('+').and_then(find)).unwrap_or(LicenseClass::Unknown)
    }

    /// The class of a whole expression (see the module documentation).
    pub fn classify(&self, license: &str) -> LicenseClass {
        if is_noassertion(license) {
            return LicenseClass::Noassertion;
        }
        match Expr::parse(license) {
            Ok(e) => e.classify(&|id| self.class_of_id(id)),
            Err(_) => LicenseClass::Unknown,
        }
    }
}

/// Whether any licence identifier of `license` matches one of `patterns`; an
/// expression that does not parse is matched as a whole.
pub fn any_id_matches(license: &str, patterns: &[Pattern]) -> bool {
    let t = license.trim();
    match Expr::parse(t) {
        Ok(e) => e.license_ids().iter().any(|id| patterns.iter().any(|p| p.matches(id))),
        Err(_) => patterns.iter().any(|p| p.matches(t)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    With,
    Id(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Open => "'('".into(),
            Tok::Close => "')'".into(),
            Tok::And => "AND".into(),
            Tok::Or => "OR".into(),
            Tok::With => "WITH".into(),
            Tok::Id(s) => format!("{s:?}"),
        }
    }
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            out.push(Token { tok: if c == '(' { Tok::Open } else { Tok::Close }, at });
            chars.next();
        } else if is_id_char(c) {
            let mut end = at;
            while let Some(&(i, c)) = chars.peek() {
                if !is_id_char(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let word = &text[at..end];
            let tok = match word {
                "AND" | "and" => Tok::And,
                "OR" | "or" => Tok::Or,
                "WITH" | "with" => Tok::With,
                _ => Tok::Id(word.to_string()),
            };
            out.push(Token { tok, at });
        } else {
            return Err(format!("{c:?} at byte {at} cannot appear in an SPDX expression"));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.tokens.get(self.pos) {
            Some(t) => format!("expected {wanted}, found {} at byte {}", t.describe(), t.at),
            None => format!("expected {wanted} at the end"),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.and_expr()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            v.push(self.and_expr()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Expr::Or(v) })
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.with_expr()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            v.push(self.with_expr()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Expr::And(v) })
    }

    fn with_expr(&mut self) -> Result<Expr, String> {
        let e = self.primary()?;
        if self.peek() != Some(&Tok::With) {
            return Ok(e);
        }
        let Expr::License { id, exception: None } = e else {
            return Err(self.unexpected("AND, OR or ')' (WITH follows a single licence)"));
        };
        self.pos += 1;
        match self.peek() {
            Some(Tok::Id(x)) => {
                let exception = Some(x.clone());
                self.pos += 1;
                Ok(Expr::License { id, exception })
            }
            _ => Err(self.unexpected("an exception identifier after WITH")),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Tok::Id(id)) => {
                let id = id.clone();
                self.pos += 1;
                Ok(Expr::License { id, exception: None })
            }
            Some(Tok::Open) => {
                if self.depth >= MAX_DEPTH {
                    return Err(format!("parentheses nested deeper than {MAX_DEPTH}"));
                }
                self.depth += 1;
                self.pos += 1;
                let e = self.or_expr()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(self.unexpected("')'"));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(e)
            }
            _ => Err(self.unexpected("a licence identifier or '('")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> LicenseTable {
        let p = |v: &[&str]| v.iter().map(|s| Pattern::new(s).unwrap()).collect::<Vec<_>>();
        LicenseTable::new(vec![
            // Deliberately out of order: matching order is fixed, not file order.
            (LicenseClass::Proprietary, p(&["LicenseRef-*", "NONE"])),
            (LicenseClass::PublicDomain, p(&["CC0-1.0", "LicenseRef-PublicDomain"])),
            (LicenseClass::Permissive, p(&["MIT", "Apache-2.0", "BSD-*"])),
            (LicenseClass::Copyleft, p(&["GPL-*", "LGPL-*", "MPL-2.0"])),
        ])
    }

    fn lic(id: &str) -> Expr {
        Expr::License { id: id.into(), exception: None }
    }

    #[test]
    fn parses_operators_with_spdx_precedence() {
        assert_eq!(Expr::parse("MIT").unwrap(), lic("MIT"));
        assert_eq!(
            Expr::parse("MIT OR Apache-2.0 AND BSD-3-Clause").unwrap(),
            Expr::Or(vec![lic("MIT"), Expr::And(vec![lic("Apache-2.0"), lic("BSD-3-Clause")])])
        );
        assert_eq!(
            Expr::parse("(MIT OR Apache-2.0) AND BSD-3-Clause").unwrap(),
            Expr::And(vec![Expr::Or(vec![lic("MIT"), lic("Apache-2.0")]), lic("BSD-3-Clause")])
        );
        assert_eq!(
            Expr::parse("GPL-2.0-only WITH Linux-syscall-note OR MIT").unwrap(),
            Expr::Or(vec![
                Expr::License { id: "GPL-2.0-only".into(), exception: Some("Linux-syscall-note".into()) },
                lic("MIT")
            ])
        );
        assert_eq!(Expr::parse(" ((MIT)) ").unwrap(), lic("MIT"));
        assert_eq!(Expr::parse("mit or isc").unwrap(), Expr::Or(vec![lic("mit"), lic("isc")]));
        assert_eq!(
            Expr::parse("DocumentRef-a:LicenseRef-b").unwrap().license_ids(),
            vec!["DocumentRef-a:LicenseRef-b"]
        );
    }

    #[test]
    fn malformed_expressions_are_errors_not_panics() {
        for bad in [
            "",
            "MIT OR",
            "OR MIT",
            "(MIT",
            "MIT)",
            "MIT Apache-2.0",
            "MIT WITH",
            "(MIT OR ISC) WITH x",
            "MIT WITH a WITH b",
            "MIT / Apache-2.0",
            "GPL-2.0, MIT",
            "Ünïcode",
            "MIT And ISC",
            "()",
        ] {
            assert!(Expr::parse(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = format!("{}MIT{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(Expr::parse(&deep).unwrap_err().contains("nested"));
    }

    #[test]
    fn classes_follow_or_least_and_most_with_of_the_licence() {
        let t = table();
        let c = |s: &str| t.classify(s);
        assert_eq!(c("MIT"), LicenseClass::Permissive);
        assert_eq!(c("mit"), LicenseClass::Permissive, "SPDX ids are case-insensitive");
        assert_eq!(c("GPL-2.0-only"), LicenseClass::Copyleft);
        assert_eq!(c("GPL-2.0-only OR MIT"), LicenseClass::Permissive);
        assert_eq!(c("GPL-2.0-only AND MIT"), LicenseClass::Copyleft);
        assert_eq!(c("(MIT AND BSD-3-Clause)"), LicenseClass::Permissive);
        assert_eq!(c("GPL-2.0-only WITH Linux-syscall-note"), LicenseClass::Copyleft);
        assert_eq!(c("CC0-1.0 OR LicenseRef-Acme"), LicenseClass::PublicDomain);
        assert_eq!(c("MIT AND (GPL-3.0-only OR LicenseRef-Acme)"), LicenseClass::Copyleft);
        assert_eq!(c("MIT AND LicenseRef-Acme"), LicenseClass::Proprietary);
        // First class wins in the fixed order: LicenseRef-PublicDomain is also LicenseRef-*.
        assert_eq!(c("LicenseRef-PublicDomain"), LicenseClass::PublicDomain);
        assert_eq!(c("NOASSERTION"), LicenseClass::Noassertion);
        assert_eq!(c(" noassertion "), LicenseClass::Noassertion);
        assert_eq!(c(""), LicenseClass::Noassertion);
        assert_eq!(c("NONE"), LicenseClass::Proprietary);
        assert_eq!(c("MIT AND NOASSERTION"), LicenseClass::Noassertion);
        assert_eq!(c("Artistic-2.0"), LicenseClass::Unknown);
        assert_eq!(c("Artistic-2.0 OR MIT"), LicenseClass::Permissive);
        assert_eq!(c("Artistic-2.0 AND MIT"), LicenseClass::Unknown);
        assert_eq!(c("Artistic-2.0 AND NOASSERTION"), LicenseClass::Noassertion);
        // `+` (or later) falls back to the id without it.
        assert_eq!(c("MPL-2.0+"), LicenseClass::Copyleft);
        assert_eq!(c("MIT OR"), LicenseClass::Unknown);
        assert_eq!(c("GPL-2.0 / MIT"), LicenseClass::Unknown);
    }

    #[test]
    fn licence_patterns_match_any_id_of_an_expression() {
        let pats = [Pattern::new("GPL-*").unwrap()];
        assert!(any_id_matches("MIT OR GPL-3.0-only", &pats));
        assert!(any_id_matches("(MIT AND gpl-2.0-only WITH Classpath-exception-2.0)", &pats));
        assert!(!any_id_matches("MIT WITH GPL-exception", &pats), "exceptions are not licences");
        assert!(!any_id_matches("LGPL-2.1-only", &pats));
        assert!(any_id_matches("NOASSERTION", &[Pattern::new("NOASSERTION").unwrap()]));
        // A malformed expression is matched as a whole.
        assert!(any_id_matches("GPL-2.0, MIT", &[Pattern::new("GPL-*").unwrap()]));
    }

    #[test]
    fn class_names_round_trip() {
        for c in LicenseClass::ALL {
            assert_eq!(LicenseClass::from_name(c.name()), Some(c));
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.name()));
        }
        assert_eq!(LicenseClass::from_name("Copyleft"), None);
        let mut ranks: Vec<u8> = LicenseClass::ALL.iter().map(|c| c.restrictiveness()).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), 6, "the order is total");
    }

    #[test]
    fn class_counts_group_expressions_most_first() {
        let counts =
            [("MIT", 3), ("GPL-2.0-only", 2), ("NOASSERTION", 4), ("MIT OR GPL-2.0-only", 1), ("x y", 1)];
        let c = class_counts(&table(), counts);
        let got: Vec<(&str, u64)> = c.iter().map(|c| (c.class.name(), c.docs)).collect();
        assert_eq!(got, [("permissive", 4), ("noassertion", 4), ("copyleft", 2), ("unknown", 1)]);
    }
}
