//! Jurisdictions: ISO 3166-1 alpha-2 country codes and named groups of them.
//!
//! A policy names jurisdictions by country code (`DE`, `US`), by a group it
//! defines in `[jurisdiction_groups]` (`EU`, `EEA`; groups may contain groups),
//! or `*` for everywhere. Names are case-insensitive and kept upper case.
//!
//! A request jurisdiction lies *within* a listed one when it is the same name,
//! when the list item is `*`, or when every country of the request (one
//! country, or all of a group's) belongs to the item: a request from `DE` is
//! within `EU` and `EEA`; a request tagged `EU` is within `EEA` but not within
//! `DE`. A request may carry a code the policy does not know (`UK`, `XX`): it is
//! taken as just that code, inside `*` and nothing else — not an error, since a
//! service must answer every request. A *policy file* naming an unknown code is
//! an error, because it is almost always a typo.

use std::collections::{BTreeMap, BTreeSet};

/// Officially assigned ISO 3166-1 alpha-2 codes, plus `XK` (Kosovo, a
/// user-assigned code in common use).
pub const COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA",
    "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV",
    "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU",
    "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES",
    "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM",
    "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE",
    "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM",
    "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT",
    "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU",
    "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA",
    "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL",
    "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
    "VG", "VI", "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The list item meaning every jurisdiction.
pub const EVERYWHERE: &str = "*";

/// Whether `code` (upper case) is a country code.
pub fn is_country_code(code: &str) -> bool {
    COUNTRY_CODES.binary_search(&code).is_ok()
}

/// Upper-cases and trims a jurisdiction name.
pub fn normalize(name: &str) -> String {
    name.trim().to_ascii_uppercase()
}

/// A hint for a common mistake with a code, if there is one.
pub fn hint(code: &str) -> Option<&'static str> {
    match code {
        "UK" => Some("the ISO code of the United Kingdom is GB"),
        "EL" => Some("the ISO code of Greece is GR"),
        "EU" | "EEA" => Some("define it under [jurisdiction_groups]"),
        _ => None,
    }
}

/// A group as written in a policy: upper-case name and members.
#[derive(Debug, Clone)]
pub struct GroupDef {
    /// Name of the group.
    pub name: String,
    /// Members: country codes or other groups.
    pub members: Vec<String>,
}

/// What is wrong with a group definition; indices point into the definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupError {
    /// The group's name is not usable.
    BadName {
        /// Index of the group.
        group: usize,
        /// Why.
        msg: String,
    },
    /// A member is neither a country code nor a group.
    UnknownMember {
        /// Index of the group.
        group: usize,
        /// Index of the member in the group.
        member: usize,
        /// Why, with a hint where there is one.
        msg: String,
    },
    /// The group has no members.
    Empty {
        /// Index of the group.
        group: usize,
    },
    /// The group contains itself, through the members named in `path`.
    Cycle {
        /// Index of the group where the cycle closes.
        group: usize,
        /// Index of the member that closes it.
        member: usize,
        /// The names along the cycle, first and last equal.
        path: Vec<String>,
    },
}

/// Resolved groups, each expanded to its countries.
#[derive(Debug, Clone, Default)]
pub struct Jurisdictions {
    groups: BTreeMap<String, BTreeSet<String>>,
}

impl Jurisdictions {
    /// Resolves groups (recursively); returns what it could and every error found.
    pub fn build(defs: &[GroupDef]) -> (Jurisdictions, Vec<GroupError>) {
        let mut errors = Vec::new();
        let by_name: BTreeMap<&str, usize> =
            defs.iter().enumerate().map(|(i, d)| (d.name.as_str(), i)).collect();
        for (g, d) in defs.iter().enumerate() {
            let valid_chars = d.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if d.name.is_empty() || !valid_chars {
                errors.push(GroupError::BadName {
                    group: g,
                    msg: format!("group name {:?} may only use letters, digits, '-' and '_'", d.name),
                });
            } else if is_country_code(&d.name) {
                errors.push(GroupError::BadName {
                    group: g,
                    msg: format!("group name {} is a country code; choose another name", d.name),
                });
            }
            if d.members.is_empty() {
                errors.push(GroupError::Empty { group: g });
            }
            for (m, name) in d.members.iter().enumerate() {
                if !is_country_code(name) && !by_name.contains_key(name.as_str()) {
                    let mut msg = if name == EVERYWHERE {
                        format!("group {} lists \"*\"; write \"*\" in the rule instead of a group", d.name)
                    } else {
                        format!("unknown jurisdiction {name:?} in group {}: not an ISO 3166-1 alpha-2 code or a group", d.name)
                    };
                    if let Some(h) = hint(name) {
                        msg.push_str(&format!(" ({h})"));
                    }
                    errors.push(GroupError::UnknownMember { group: g, member: m, msg });
                }
            }
        }
        // Expand with a depth-first walk; a member already on the path closes a cycle.
        let mut done: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
        for g in 0..defs.len() {
            let mut stack = Vec::new();
            expand(g, defs, &by_name, &mut stack, &mut done, &mut errors, &mut reported);
        }
        let groups = done.into_iter().map(|(g, set)| (defs[g].name.clone(), set)).collect();
        (Jurisdictions { groups }, errors)
    }

    /// Whether `name` (upper case) is a country code, a group or `*`.
    pub fn is_known(&self, name: &str) -> bool {
        name == EVERYWHERE || is_country_code(name) || self.groups.contains_key(name)
    }

    /// Whether `name` (upper case) is a group.
    pub fn is_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    /// The countries of a group, or the name itself for anything else.
    fn countries(&self, name: &str) -> BTreeSet<String> {
        match self.groups.get(name) {
            Some(set) => set.clone(),
            None => BTreeSet::from([name.to_string()]),
        }
    }

    /// Whether the request jurisdiction lies within the listed one (both in any case).
    pub fn within(&self, request: &str, item: &str) -> bool {
        let (request, item) = (normalize(request), normalize(item));
        if item == EVERYWHERE || request == item {
            return true;
        }
        let req = self.countries(&request);
        !req.is_empty() && req.is_subset(&self.countries(&item))
    }

    /// The first item of `list` the request lies within; an empty list is everywhere.
    pub fn find_within<'a>(&self, request: &str, list: &'a [String]) -> Option<&'a str> {
        if list.is_empty() {
            return Some(EVERYWHERE);
        }
        list.iter().find(|item| self.within(request, item)).map(|s| s.as_str())
    }
}

fn expand(
    g: usize,
    defs: &[GroupDef],
    by_name: &BTreeMap<&str, usize>,
    stack: &mut Vec<usize>,
    done: &mut BTreeMap<usize, BTreeSet<String>>,
    errors: &mut Vec<GroupError>,
    reported: &mut BTreeSet<Vec<String>>,
) -> BTreeSet<String> {
    if let Some(set) = done.get(&g) {
        return set.clone();
    }
    stack.push(g);
    let mut set = BTreeSet::new();
    for (m, name) in defs[g].members.iter().enumerate() {
        match by_name.get(name.as_str()) {
            Some(&sub) if stack.contains(&sub) => {
                let from = stack.iter().position(|&x| x == sub).unwrap_or(0);
                let mut path: Vec<String> = stack[from..].iter().map(|&i| defs[i].name.clone()).collect();
                path.push(defs[sub].name.clone());
                // Report each cycle once, whichever group the walk entered it by.
                let mut key = path[..path.len() - 1].to_vec();
                key.sort();
                if reported.insert(key) {
                    errors.push(GroupError::Cycle { group: g, member: m, path });
                }
            }
            Some(&sub) => set.extend(expand(sub, defs, by_name, stack, done, errors, reported)),
            None if is_country_code(name) => {
                set.insert(name.clone());
            }
            None => {}
        }
    }
    stack.pop();
    done.insert(g, set.clone());
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, members: &[&str]) -> GroupDef {
        GroupDef { name: name.into(), members: members.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn country_codes_are_sorted_and_complete() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]), "binary search needs sorted codes");
        assert_eq!(COUNTRY_CODES.len(), 250);
        for c in ["DE", "GB", "US", "FR", "XK", "AX"] {
            assert!(is_country_code(c), "{c}");
        }
        for c in ["UK", "EU", "de", "D", "DEU", ""] {
            assert!(!is_country_code(c), "{c}");
        }
    }

    #[test]
    fn nested_groups_expand_to_countries() {
        let (j, errs) = Jurisdictions::build(&[
            def("EEA", &["EU", "IS", "LI", "NO"]),
            def("EU", &["DE", "FR", "AT"]),
            def("DACH", &["DE", "AT", "CH"]),
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        assert!(j.within("DE", "EU"));
        assert!(j.within("de", "eea"));
        assert!(j.within("NO", "EEA"));
        assert!(!j.within("NO", "EU"));
        assert!(j.within("EU", "EEA"), "a group request lies within a larger group");
        assert!(!j.within("EEA", "EU"));
        assert!(!j.within("EU", "DE"));
        assert!(!j.within("DACH", "EU"), "CH is not in the EU");
        assert!(j.within("US", "*"));
        assert!(!j.within("US", "EEA"));
        // Unknown request codes are just themselves.
        assert!(j.within("UK", "uk"));
        assert!(!j.within("UK", "EEA"));
        let list = vec!["US".to_string(), "EEA".to_string()];
        assert_eq!(j.find_within("AT", &list), Some("EEA"));
        assert_eq!(j.find_within("JP", &list), None);
        assert_eq!(j.find_within("JP", &[]), Some("*"));
    }

    #[test]
    fn cycles_are_found_and_reported_once() {
        let (_, errs) =
            Jurisdictions::build(&[def("A", &["DE", "B"]), def("B", &["C"]), def("C", &["FR", "A"])]);
        assert_eq!(
            errs,
            vec![GroupError::Cycle {
                group: 2,
                member: 1,
                path: vec!["A".into(), "B".into(), "C".into(), "A".into()]
            }]
        );
        let (_, errs) = Jurisdictions::build(&[def("SELF", &["SELF"])]);
        assert_eq!(
            errs,
            vec![GroupError::Cycle { group: 0, member: 0, path: vec!["SELF".into(), "SELF".into()] }]
        );
    }

    #[test]
    fn bad_groups_are_errors_with_their_member() {
        let (_, errs) =
            Jurisdictions::build(&[def("EU", &["DE", "UK", "*"]), def("DE", &["AT"]), def("X", &[])]);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            matches!(&errs[0], GroupError::UnknownMember { group: 0, member: 1, msg } if msg.contains("GB"))
        );
        assert!(matches!(&errs[1], GroupError::UnknownMember { group: 0, member: 2, .. }));
        assert!(matches!(&errs[2], GroupError::BadName { group: 1, .. }));
        assert_eq!(errs[3], GroupError::Empty { group: 2 });
    }
}
