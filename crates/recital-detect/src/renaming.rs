//! Is a canonical code match a *renamed copy* of its source, or only the same
//! shape?
//!
//! The canonical stream abstracts every identifier and literal, so two pieces
//! of code with the same shape match there even when they share nothing else
//! (a `switch` of `case N: f(N, x); break;`, a table of struct initialisers).
//! A programmer who renames variables to hide a copy renames them
//! *consistently*: each name in the copy stands for one name in the source,
//! and the literals stay. Code that merely shares a shape maps names every
//! which way and differs in its literals. This check reads the source's
//! identifiers (the canonical stream has only their positions) and measures
//! both, so a canonical match can stand on its own evidence where the copy has
//! no exact text piece left in common with its source.

use recital_text::code::{ID, NUM, STR};

/// How a canonical match's names and literals correspond to its source's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Renaming {
    /// Identifier occurrences.
    pub identifiers: usize,
    /// Distinct identifiers on the output side.
    pub distinct: usize,
    /// Identifier occurrences that agree with a one-to-one mapping of names
    /// (the first pairing of each name wins).
    pub consistent: usize,
    /// Consistent occurrences of a name already seen in the span: the
    /// mapping's evidence. A list of declarations uses each name once, so any
    /// mapping fits it and says nothing; a function uses its parameters and
    /// locals again and again.
    pub repeats: usize,
    /// Literal occurrences (numbers, strings).
    pub literals: usize,
    /// Literals identical on both sides.
    pub equal_literals: usize,
}

impl Renaming {
    /// Compares two canonically equal lexeme sequences, given as (canonical
    /// token, original text) pairs. Sequences of different lengths (not a
    /// canonical match) compare as nothing in common.
    pub fn compare(out: &[(&str, &str)], src: &[(&str, &str)]) -> Self {
        use std::collections::HashMap;
        let mut r = Renaming {
            identifiers: 0,
            distinct: 0,
            consistent: 0,
            repeats: 0,
            literals: 0,
            equal_literals: 0,
        };
        if out.len() != src.len() {
            return r;
        }
        let mut fwd: HashMap<&str, &str> = HashMap::new();
        let mut back: HashMap<&str, &str> = HashMap::new();
        for (&(ca, a), &(cb, b)) in out.iter().zip(src) {
            if ca != cb {
                return Renaming { consistent: 0, repeats: 0, equal_literals: 0, ..r };
            }
            if ca == ID {
                r.identifiers += 1;
                let seen = fwd.contains_key(a);
                let f = *fwd.entry(a).or_insert(b);
                let g = *back.entry(b).or_insert(a);
                let ok = f == b && g == a;
                r.consistent += ok as usize;
                r.repeats += (ok && seen) as usize;
            } else if ca == NUM || ca == STR {
                r.literals += 1;
                r.equal_literals += (a == b) as usize;
            }
        }
        r.distinct = fwd.len();
        r
    }

    /// A renamed copy: at least [`MIN_DISTINCT`] distinct names, at least
    /// 95 % of identifier occurrences consistent with one mapping, of which
    /// at least [`MIN_REPEATS`] and a fifth are repeats (evidence, not just
    /// room), and at least half the literals unchanged (where there are any).
    pub fn is_renamed_copy(&self) -> bool {
        self.distinct >= MIN_DISTINCT
            && self.consistent * 20 >= self.identifiers * 19
            && self.repeats >= MIN_REPEATS
            && self.repeats * 5 >= self.identifiers
            && self.equal_literals * 2 >= self.literals
    }
}

/// Fewer distinct names than this say too little: `i`, `n` and `x` map onto
/// anything.
pub const MIN_DISTINCT: usize = 4;

/// Fewer repeated names than this are no evidence of one mapping.
pub const MIN_REPEATS: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use recital_text::code::{canonical, Lang};

    fn cmp(a: &str, b: &str) -> Renaming {
        let (ca, cb) = (canonical(a, Lang::C), canonical(b, Lang::C));
        let pa: Vec<_> = (0..ca.len()).map(|i| (ca.text(i), &a[ca.tokens[i].src.clone()])).collect();
        let pb: Vec<_> = (0..cb.len()).map(|i| (cb.text(i), &b[cb.tokens[i].src.clone()])).collect();
        Renaming::compare(&pa, &pb)
    }

    #[test]
    fn consistent_renaming_is_a_copy() {
        let src = "static int probe(struct dev *d) { int n = d->count; return n + 4; }";
        let ren = "static int attach(struct dev *p) { int k = p->count; return k + 4; }";
        let r = cmp(src, ren);
        assert_eq!((r.identifiers, r.consistent, r.literals, r.equal_literals), (7, 7, 1, 1));
        assert!(r.is_renamed_copy());
        assert!(cmp(src, src).is_renamed_copy());
    }

    #[test]
    fn same_shape_is_not() {
        // Names that do not map one to one.
        let a = "int f(int a, int b) { g(a, b); g(b, a); h(a); return a; }";
        let b = "int f(int a, int b) { g(a, b); g(a, b); h(b); return a; }";
        assert!(!cmp(a, b).is_renamed_copy());
        // One mapping, but every literal changed: a table with other values.
        let a = "{ .mask = 0xffff0000, .value = 0x80230000, .name = \"e500mc\", .setup = setup_e500 },";
        let b = "{ .mask = 0xffff0000, .value = 0x00040000, .name = \"604\", .setup = setup_604 },";
        let r = cmp(a, b);
        assert_eq!(r.consistent, r.identifiers);
        assert!(!r.is_renamed_copy(), "{r:?}");
        // Each name once: any mapping fits, so it is no evidence.
        let a = "extern void cpu_probe(void);\nextern void hub_init(int n);\nextern void rtc_init(u32 id);";
        let b = "extern void omap_save(void);\nextern void ctl_restore(int k);\nextern void prm_init(u16 x);";
        let r = cmp(a, b);
        assert_eq!((r.consistent, r.repeats), (r.identifiers, 0), "{r:?}");
        assert!(!r.is_renamed_copy(), "{r:?}");
        // Too few names to say anything.
        assert!(!cmp("x = y + 1;", "a = b + 1;").is_renamed_copy());
        // Not a canonical match at all.
        assert!(!cmp("int a = b;", "a = b;").is_renamed_copy());
    }
}
