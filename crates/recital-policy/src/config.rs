//! The policy file: its TOML schema, read key by key so that every mistake is
//! reported — all of them, not only the first — with the line it is on.
//!
//! The file is parsed into spanned TOML values and then walked by hand rather
//! than deserialised with serde: serde stops at the first problem, while an
//! author fixing a policy wants the whole list, each with a line number and a
//! hint (`did you mean "license_class"?`).

use std::collections::BTreeMap;
use std::ops::Range;

use recital_detect::SpanKind;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::decision::Action;
use crate::error::{PolicyError, Warning};
use crate::jurisdiction::{self, GroupDef, GroupError, Jurisdictions, EVERYWHERE};
use crate::marker::{check_marker, DEFAULT_MARKER};
use crate::pattern::Pattern;
use crate::policy::Policy;
use crate::reader::{suggest, value_span, Reader, Value};
use crate::spdx::{LicenseClass, LicenseTable};

/// Keys of the top level.
const TOP_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "default_jurisdiction",
    "default_category",
    "default_action",
    "redaction_marker",
    "jurisdiction_groups",
    "licenses",
    "categories",
    "rules",
];
/// Keys of a `[categories.NAME]` table.
const CATEGORY_KEYS: &[&str] = &["min_tokens", "min_chars", "description"];
/// Keys of a `[[rules]]` table.
const RULE_KEYS: &[&str] = &[
    "name",
    "description",
    "action",
    "jurisdictions",
    "license_class",
    "licenses",
    "tdm_opt_out",
    "notified",
    "categories",
    "kinds",
    "min_tokens",
    "min_chars",
    "min_coverage",
];
/// Span kinds a rule may name.
const KINDS: &[(&str, SpanKind)] =
    &[("exact", SpanKind::Exact), ("near", SpanKind::Near), ("code-canonical", SpanKind::CodeCanonical)];

/// A category of material and the length from which a copy of it counts.
#[derive(Debug, Clone)]
pub(crate) struct Category {
    /// Shortest span, in tokens of its stream, that rules consider.
    pub min_tokens: usize,
    /// Shortest span, in characters, that rules consider (if set).
    pub min_chars: Option<usize>,
}

/// One `[[rules]]` entry. Every condition is optional; those present are AND-ed.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub name: String,
    pub line: usize,
    pub action: Action,
    pub jurisdictions: Option<Vec<String>>,
    pub license_class: Option<Vec<LicenseClass>>,
    pub licenses: Option<Vec<Pattern>>,
    pub tdm_opt_out: Option<bool>,
    pub notified: Option<bool>,
    pub categories: Option<Vec<String>>,
    pub kinds: Option<Vec<SpanKind>>,
    pub min_tokens: Option<usize>,
    pub min_chars: Option<usize>,
    pub min_coverage: Option<f64>,
}

impl Rule {
    /// Whether the rule has no condition and no threshold of its own.
    fn is_unconditional(&self) -> bool {
        self.jurisdictions.is_none()
            && self.license_class.is_none()
            && self.licenses.is_none()
            && self.tdm_opt_out.is_none()
            && self.notified.is_none()
            && self.categories.is_none()
            && self.kinds.is_none()
            && self.min_tokens.is_none()
            && self.min_chars.is_none()
            && self.min_coverage.is_none()
    }
}

/// Reads and checks a policy; on failure, every error found, in line order.
pub(crate) fn read(src: &str, origin: &str) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
    let mut r = Reader::new(src, origin);
    let (doc, parse_errors) = DeTable::parse_recoverable(src);
    if !parse_errors.is_empty() {
        return Err(parse_errors
            .iter()
            .map(|e| {
                let at = e.span().map(|s| s.start).unwrap_or(0);
                let (line, col) = r.line_col(at);
                PolicyError::Parse {
                    origin: origin.to_string(),
                    line,
                    col,
                    msg: e.message().trim().to_string(),
                }
            })
            .collect());
    }
    let policy = r.policy(doc.get_ref());
    if r.errors.is_empty() {
        r.warnings.sort_by_key(|w| w.line);
        Ok((policy, r.warnings))
    } else {
        r.errors.sort_by_key(|e| e.line());
        Err(r.errors)
    }
}

impl Reader<'_> {
    fn policy(&mut self, root: &DeTable<'_>) -> Policy {
        let whole = 0..0;
        self.known_keys(root, TOP_KEYS, "at the top level", TOP_KEYS);
        let name = self.required_str(root, "name", &whole, "the policy").unwrap_or_default();
        let version = match root.get_key_value("version") {
            None => {
                self.error(
                    &whole,
                    "missing key \"version\": give the policy a version (1, 2, … or \"2025-06\")",
                );
                String::new()
            }
            Some((_, v)) => match v.get_ref() {
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::String(s) if !s.trim().is_empty() => s.trim().to_string(),
                other => {
                    let t = other.type_str();
                    self.error(
                        &v.span(),
                        format!("\"version\" must be a number or a non-empty string, not {t}"),
                    );
                    String::new()
                }
            },
        };
        let description = self.opt_str(root, "description").map(|(s, _)| s);

        let jurisdictions = self.groups(root);
        let default_jurisdiction = match self.required_str(root, "default_jurisdiction", &whole, "the policy")
        {
            Some(j) => {
                let span = value_span(root, "default_jurisdiction");
                self.jurisdiction(&jurisdictions, &j, &span, "default_jurisdiction")
            }
            None => String::new(),
        };
        let licenses = self.licenses(root);
        let categories = self.categories(root);
        let default_category = match self.opt_str(root, "default_category") {
            Some((c, span)) => {
                if !categories.contains_key(&c) {
                    let msg = format!(
                        "default_category {c:?} is not a category of this policy (categories: {})",
                        list_names(categories.keys())
                    );
                    self.error(&span, msg);
                }
                c
            }
            None => {
                if !categories.contains_key("prose") {
                    self.error(
                        &whole,
                        format!(
                            "no default_category and no category \"prose\": set default_category to one of: {}",
                            list_names(categories.keys())
                        ),
                    );
                }
                "prose".to_string()
            }
        };
        let default_action = match self.opt_str(root, "default_action") {
            Some((a, span)) => self.action(&a, &span, "default_action").unwrap_or(Action::Allow),
            None => Action::Allow,
        };
        let redaction_marker = match self.opt_str(root, "redaction_marker") {
            Some((m, span)) => {
                if let Err(e) = check_marker(&m) {
                    self.error(&span, e);
                }
                m
            }
            None => DEFAULT_MARKER.to_string(),
        };
        let rules = self.rules(root, &jurisdictions, &categories);
        self.shadowing(&rules, &categories);
        Policy {
            name,
            version,
            description,
            default_jurisdiction,
            default_category,
            default_action,
            redaction_marker,
            jurisdictions,
            licenses,
            categories,
            rules,
        }
    }

    fn groups(&mut self, root: &DeTable<'_>) -> Jurisdictions {
        let Some(t) = self.opt_table(root, "jurisdiction_groups") else { return Jurisdictions::default() };
        // (definition, key span, member spans), in file order.
        let mut entries: Vec<(&Spanned<std::borrow::Cow<'_, str>>, &Value<'_>)> = t.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut defs = Vec::new();
        let mut spans: Vec<(Range<usize>, Vec<Range<usize>>)> = Vec::new();
        for (k, v) in entries {
            let name = jurisdiction::normalize(k.get_ref());
            let members = self.str_list(&format!("jurisdiction group {name}"), v).unwrap_or_default();
            defs.push(GroupDef {
                name,
                members: members.iter().map(|(m, _)| jurisdiction::normalize(m)).collect(),
            });
            spans.push((k.span(), members.into_iter().map(|(_, s)| s).collect()));
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            let line = self.line(&spans[i].0);
            if let Some(first) = seen.insert(d.name.clone(), line) {
                self.error(
                    &spans[i].0,
                    format!("jurisdiction group {} is defined twice (first at line {first})", d.name),
                );
            }
        }
        let (j, errors) = Jurisdictions::build(&defs);
        for e in errors {
            match e {
                GroupError::BadName { group, msg } => self.error(&spans[group].0.clone(), msg),
                GroupError::Empty { group } => {
                    let msg = format!("jurisdiction group {} has no members", defs[group].name);
                    self.error(&spans[group].0.clone(), msg)
                }
                GroupError::UnknownMember { group, member, msg } => {
                    let span = spans[group].1.get(member).cloned().unwrap_or(spans[group].0.clone());
                    self.error(&span, msg)
                }
                GroupError::Cycle { group, member, path } => {
                    let span = spans[group].1.get(member).cloned().unwrap_or(spans[group].0.clone());
                    self.error(&span, format!("jurisdiction groups form a cycle: {}", path.join(" → ")))
                }
            }
        }
        j
    }

    fn licenses(&mut self, root: &DeTable<'_>) -> LicenseTable {
        let Some(t) = self.opt_table(root, "licenses") else { return LicenseTable::default() };
        let mut classes = Vec::new();
        let mut first_seen: BTreeMap<String, (LicenseClass, usize)> = BTreeMap::new();
        let mut entries: Vec<_> = t.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (k, v) in entries {
            let key: &str = k.get_ref();
            let Some(class) = LicenseClass::CONFIGURABLE.into_iter().find(|c| c.name() == key) else {
                let msg = match key {
                    "noassertion" => "[licenses] cannot list noassertion: NOASSERTION (or an empty licence) is always class noassertion".to_string(),
                    "unknown" => "[licenses] cannot list unknown: a licence is unknown when no class matches it".to_string(),
                    _ => format!(
                        "unknown licence class {key:?} in [licenses]: expected public-domain, permissive, copyleft or proprietary{}",
                        suggest(key, &["public-domain", "permissive", "copyleft", "proprietary"])
                    ),
                };
                self.error(&k.span(), msg);
                continue;
            };
            let mut pats = Vec::new();
            for (p, span) in self.str_list(&format!("[licenses] {key}"), v).unwrap_or_default() {
                match Pattern::new(p.trim()) {
                    Ok(pat) => {
                        let line = self.line(&span);
                        let folded = p.trim().to_ascii_lowercase();
                        match first_seen.get(&folded) {
                            Some(&(c, l)) if c != class => self.warn(
                                line,
                                format!(
                                    "{p:?} is listed under {c} (line {l}) and {class}; {} wins",
                                    earlier(c, class)
                                ),
                            ),
                            _ => {
                                first_seen.insert(folded, (class, line));
                            }
                        }
                        pats.push(pat)
                    }
                    Err(e) => self.error(&span, e),
                }
            }
            classes.push((class, pats));
        }
        LicenseTable::new(classes)
    }

    fn categories(&mut self, root: &DeTable<'_>) -> BTreeMap<String, Category> {
        let mut out = BTreeMap::new();
        let Some(t) = self.opt_table(root, "categories") else {
            return out;
        };
        for (k, v) in t.iter() {
            let name: &str = k.get_ref();
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                self.error(
                    &k.span(),
                    format!("category name {name:?} must be lower case letters, digits, '-' or '_'"),
                );
                continue;
            }
            let place = format!("category {name}");
            let DeValue::Table(ct) = v.get_ref() else {
                let t = v.get_ref().type_str();
                self.error(&v.span(), format!("{place} must be a table like {{ min_tokens = 50 }}, not {t}"));
                continue;
            };
            self.known_keys(ct, CATEGORY_KEYS, &place, TOP_KEYS);
            let min_tokens = match ct.get("min_tokens") {
                Some(v) => self.positive(&format!("{place}: min_tokens"), v),
                None => {
                    self.error(
                        &k.span(),
                        format!("{place} has no min_tokens (the shortest copy that counts)"),
                    );
                    None
                }
            };
            let min_chars =
                ct.get("min_chars").and_then(|v| self.positive(&format!("{place}: min_chars"), v));
            self.opt_str(ct, "description");
            out.insert(name.to_string(), Category { min_tokens: min_tokens.unwrap_or(1), min_chars });
        }
        out
    }

    fn rules(
        &mut self,
        root: &DeTable<'_>,
        juris: &Jurisdictions,
        categories: &BTreeMap<String, Category>,
    ) -> Vec<Rule> {
        let mut out = Vec::new();
        let Some((_, v)) = root.get_key_value("rules") else { return out };
        let DeValue::Array(items) = v.get_ref() else {
            let t = v.get_ref().type_str();
            self.error(&v.span(), format!("\"rules\" must be a list of [[rules]] tables, not {t}"));
            return out;
        };
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                let ty = item.get_ref().type_str();
                self.error(&item.span(), format!("rule {} must be a table, not {ty}", i + 1));
                continue;
            };
            let span = item.span();
            let line = self.line(&span);
            let name = match self.required_str(t, "name", &span, &format!("rule {} (line {line})", i + 1)) {
                Some(n) => {
                    let nspan = value_span(t, "name");
                    let nline = self.line(&nspan);
                    if let Some(first) = names.insert(n.clone(), nline) {
                        self.error(&nspan, format!("duplicate rule name {n:?} (first at line {first})"));
                    }
                    n
                }
                None => format!("#{}", i + 1),
            };
            let place = format!("rule {name:?}");
            self.known_keys(t, RULE_KEYS, &place, TOP_KEYS);
            self.opt_str(t, "description");
            let action = match self.opt_str(t, "action") {
                Some((a, s)) => self.action(&a, &s, &place),
                None => {
                    self.error(&span, format!("{place} has no action (allow, annotate, redact or block)"));
                    None
                }
            };
            let jurisdictions = self.opt_list(t, "jurisdictions", &place).map(|items| {
                items
                    .into_iter()
                    .map(|(j, s)| self.jurisdiction(juris, &j, &s, &format!("{place}: jurisdictions")))
                    .collect()
            });
            let license_class = self.opt_list(t, "license_class", &place).map(|items| {
                items
                    .into_iter()
                    .filter_map(|(c, s)| {
                        let found = LicenseClass::from_name(c.trim());
                        if found.is_none() {
                            let names: Vec<&str> = LicenseClass::ALL.iter().map(|c| c.name()).collect();
                            self.error(
                                &s,
                                format!(
                                    "{place}: unknown licence class {c:?}: expected one of {}{}",
                                    names.join(", "),
                                    suggest(&c, &names)
                                ),
                            );
                        }
                        found
                    })
                    .collect()
            });
            let licenses = self.opt_list(t, "licenses", &place).map(|items| {
                items
                    .into_iter()
                    .filter_map(|(p, s)| match Pattern::new(p.trim()) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            self.error(&s, format!("{place}: {e}"));
                            None
                        }
                    })
                    .collect()
            });
            let tdm_opt_out = self.opt_bool(t, "tdm_opt_out", &place);
            let notified = self.opt_bool(t, "notified", &place);
            let rule_categories = self.opt_list(t, "categories", &place).map(|items| {
                items
                    .into_iter()
                    .map(|(c, s)| {
                        if !categories.contains_key(&c) {
                            let msg = format!(
                                "{place}: unknown category {c:?} (categories: {})",
                                list_names(categories.keys())
                            );
                            self.error(&s, msg);
                        }
                        c
                    })
                    .collect()
            });
            let kinds = self.opt_list(t, "kinds", &place).map(|items| {
                items
                    .into_iter()
                    .filter_map(|(k, s)| {
                        let found = KINDS.iter().find(|(n, _)| *n == k).map(|(_, kind)| *kind);
                        if found.is_none() {
                            let msg = if k == "boilerplate" {
                                format!("{place}: boilerplate spans are always allowed; a rule cannot select them")
                            } else {
                                format!("{place}: unknown kind {k:?}: expected exact, near or code-canonical")
                            };
                            self.error(&s, msg);
                        }
                        found
                    })
                    .collect()
            });
            let min_tokens =
                t.get("min_tokens").and_then(|v| self.positive(&format!("{place}: min_tokens"), v));
            let min_chars = t.get("min_chars").and_then(|v| self.positive(&format!("{place}: min_chars"), v));
            let min_coverage = t.get("min_coverage").and_then(|v| {
                let f = self.number(&format!("{place}: min_coverage"), v)?;
                if (0.0..=1.0).contains(&f) {
                    Some(f)
                } else {
                    let msg = format!(
                        "{place}: min_coverage is a fraction of the output between 0 and 1 (0.5 = half), not {f}"
                    );
                    self.error(&v.span(), msg);
                    None
                }
            });
            out.push(Rule {
                name,
                line,
                action: action.unwrap_or(Action::Allow),
                jurisdictions,
                license_class,
                licenses,
                tdm_opt_out,
                notified,
                categories: rule_categories,
                kinds,
                min_tokens,
                min_chars,
                min_coverage,
            });
        }
        out
    }

    /// Warns about rules that can never apply because an earlier rule takes every span they would.
    fn shadowing(&mut self, rules: &[Rule], categories: &BTreeMap<String, Category>) {
        let max_tokens = categories.values().map(|c| c.min_tokens).max().unwrap_or(1);
        let max_chars = categories.values().map(|c| c.min_chars.unwrap_or(0)).max().unwrap_or(0);
        let Some(first) = rules.iter().position(Rule::is_unconditional) else { return };
        for r in &rules[first + 1..] {
            let lower_tokens = r.min_tokens.is_some_and(|m| m < max_tokens);
            let lower_chars = r.min_chars.is_some_and(|m| m < max_chars);
            if !lower_tokens && !lower_chars {
                let msg = format!(
                    "rule {:?} can never apply: rule {:?} (line {}) has no conditions and decides every span first",
                    r.name, rules[first].name, rules[first].line
                );
                self.warn(r.line, msg);
            }
        }
    }

    fn action(&mut self, a: &str, span: &Range<usize>, place: &str) -> Option<Action> {
        let found = Action::from_name(a);
        if found.is_none() {
            let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
            let msg = format!(
                "{place}: unknown action {a:?}: expected allow, annotate, redact or block{}",
                suggest(a, &names)
            );
            self.error(span, msg);
        }
        found
    }

    /// A jurisdiction named in the file: upper-cased; an error unless it is a code, a group or `*`.
    fn jurisdiction(&mut self, j: &Jurisdictions, name: &str, span: &Range<usize>, what: &str) -> String {
        let n = jurisdiction::normalize(name);
        if !j.is_known(&n) {
            let mut msg = format!(
                "{what}: unknown jurisdiction {name:?}: not an ISO 3166-1 alpha-2 code, a group of [jurisdiction_groups] or \"{EVERYWHERE}\""
            );
            if let Some(h) = jurisdiction::hint(&n) {
                msg.push_str(&format!(" ({h})"));
            }
            self.error(span, msg);
        }
        n
    }
}

/// Which of two classes is tried first.
fn earlier(a: LicenseClass, b: LicenseClass) -> LicenseClass {
    let pos = |c| LicenseClass::CONFIGURABLE.iter().position(|x| *x == c);
    if pos(a) <= pos(b) {
        a
    } else {
        b
    }
}

fn list_names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(|s| s.as_str()).collect();
    if v.is_empty() {
        "none; add a [categories] table".to_string()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
