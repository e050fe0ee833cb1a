//! Reading spanned TOML values: types checked, every problem recorded with
//! its line, with a suggestion where a key or name looks like a typo.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::{PolicyError, Warning};

/// A TOML value with its byte range in the file.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

pub(crate) struct Reader<'s> {
    pub src: &'s str,
    pub origin: &'s str,
    pub line_starts: Vec<usize>,
    pub errors: Vec<PolicyError>,
    pub warnings: Vec<Warning>,
}

impl<'s> Reader<'s> {
    pub(crate) fn new(src: &'s str, origin: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Reader { src, origin, line_starts, errors: Vec::new(), warnings: Vec::new() }
    }

    /// Line and column (both from 1; the column in characters) of a byte offset.
    pub(crate) fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= at);
        let start = self.line_starts[line - 1];
        let col = self.src.get(start..at).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        self.line_col(span.start).0
    }

    pub(crate) fn error(&mut self, span: &Range<usize>, msg: impl Into<String>) {
        let line = self.line(span);
        self.errors.push(PolicyError::Invalid { origin: self.origin.to_string(), line, msg: msg.into() });
    }

    pub(crate) fn warn(&mut self, line: usize, msg: impl Into<String>) {
        self.warnings.push(Warning { origin: self.origin.to_string(), line, msg: msg.into() });
    }

    // ---- value helpers ----

    pub(crate) fn known_keys(&mut self, t: &DeTable<'_>, known: &[&str], place: &str, top: &[&str]) {
        for (k, _) in t.iter() {
            let key: &str = k.get_ref();
            if known.contains(&key) {
                continue;
            }
            let mut msg = format!(
                "unknown key {key:?} {}",
                if place.starts_with("at ") { place.to_string() } else { format!("in {place}") }
            );
            if known != top && top.contains(&key) {
                msg.push_str(
                    "; it belongs at the top of the file: TOML puts every key written after a [table] \
                     or [[rules]] header into that table, so move it above the first header",
                );
            } else {
                msg.push_str(&suggest(key, known));
                if key == "rule" {
                    msg.push_str(" (rules are written as [[rules]] tables)");
                }
            }
            self.error(&k.span(), msg);
        }
    }

    pub(crate) fn opt_table<'t, 'i>(&mut self, t: &'t DeTable<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        let (_, v) = t.get_key_value(key)?;
        match v.get_ref() {
            DeValue::Table(inner) => Some(inner),
            other => {
                let ty = other.type_str();
                self.error(&v.span(), format!("{key:?} must be a table ([{key}]), not {ty}"));
                None
            }
        }
    }

    pub(crate) fn opt_str(&mut self, t: &DeTable<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let (_, v) = t.get_key_value(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.trim().to_string(), v.span())),
            other => {
                let ty = other.type_str();
                self.error(&v.span(), format!("{key:?} must be a string, not {ty}"));
                None
            }
        }
    }

    pub(crate) fn required_str(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        table: &Range<usize>,
        place: &str,
    ) -> Option<String> {
        if !t.contains_key(key) {
            self.error(table, format!("{place} has no {key:?}"));
            return None;
        }
        let (s, span) = self.opt_str(t, key)?;
        if s.is_empty() {
            self.error(&span, format!("{key:?} of {place} is empty"));
            return None;
        }
        Some(s)
    }

    pub(crate) fn opt_bool(&mut self, t: &DeTable<'_>, key: &str, place: &str) -> Option<bool> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                let ty = other.type_str();
                self.error(&v.span(), format!("{place}: {key:?} must be true or false, not {ty}"));
                None
            }
        }
    }

    /// A string or a list of strings; `what` names the key in messages.
    pub(crate) fn str_list(&mut self, what: &str, v: &Value<'_>) -> Option<Vec<(String, Range<usize>)>> {
        match v.get_ref() {
            DeValue::String(s) => Some(vec![(s.trim().to_string(), v.span())]),
            DeValue::Array(a) => {
                let mut out = Vec::new();
                for item in a.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.trim().to_string(), item.span())),
                        other => {
                            let ty = other.type_str();
                            self.error(&item.span(), format!("{what}: expected a string, not {ty}"));
                        }
                    }
                }
                Some(out)
            }
            other => {
                let ty = other.type_str();
                self.error(&v.span(), format!("{what} must be a list of strings, not {ty}"));
                None
            }
        }
    }

    /// An optional non-empty list condition of a rule.
    pub(crate) fn opt_list(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        place: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let v = t.get(key)?;
        let items = self.str_list(&format!("{place}: {key}"), v)?;
        if items.is_empty() {
            self.error(
                &v.span(),
                format!("{place}: an empty {key} list matches nothing; remove the key to match everything"),
            );
            return None;
        }
        Some(items)
    }

    pub(crate) fn positive(&mut self, what: &str, v: &Value<'_>) -> Option<usize> {
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if n >= 1 => usize::try_from(n).ok(),
                _ => {
                    self.error(&v.span(), format!("{what} must be at least 1, not {}", i.as_str()));
                    None
                }
            },
            other => {
                let ty = other.type_str();
                self.error(&v.span(), format!("{what} must be a whole number, not {ty}"));
                None
            }
        }
    }

    pub(crate) fn number(&mut self, what: &str, v: &Value<'_>) -> Option<f64> {
        let parsed = match v.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|n| n as f64),
            _ => None,
        };
        if parsed.is_none() {
            let ty = v.get_ref().type_str();
            self.error(&v.span(), format!("{what} must be a number, not {ty}"));
        }
        parsed
    }
}

/// The span of the value under `key`, or of the table start when it is absent.
pub(crate) fn value_span(t: &DeTable<'_>, key: &str) -> Range<usize> {
    t.get(key).map(|v| v.span()).unwrap_or(0..0)
}

/// `; did you mean "x"?` for the closest known name within two edits, else nothing.
pub(crate) fn suggest(word: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(&word.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, k)) => format!("; did you mean {k:?}?"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
