//! Path patterns as robots.txt writes them (RFC 9309 §2.2.3), which
//! TDMRep's `location` and ai.txt reuse: `*` matches any run of characters,
//! a final `$` anchors the end, anything else matches itself from the start
//! of the path. The longest matching pattern is the most specific.

/// Whether `pattern` matches `path` (the URL's path and query).
pub(crate) fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = path.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last && anchored {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;
    use proptest::prelude::*;

    #[test]
    fn robots_examples() {
        // RFC 9309 §2.2.3 and Google's documented examples.
        assert!(matches("/", "/anything"));
        assert!(matches("/fish", "/fish.html"));
        assert!(matches("/fish", "/fishheads/yummy.html"));
        assert!(!matches("/fish", "/Fish.asp"));
        assert!(matches("/fish*.php", "/fishheads/catfish.php?parameters"));
        assert!(!matches("/fish*.php", "/Fish.PHP"));
        assert!(matches("/*.php$", "/folder/filename.php"));
        assert!(!matches("/*.php$", "/filename.php?parameters"));
        assert!(!matches("/*.php$", "/filename.php5"));
        assert!(matches("*.txt", "/a/b.txt"));
        assert!(matches("/$", "/"));
        assert!(!matches("/$", "/a"));
    }

    /// Brute force: the pattern as a regular expression.
    fn oracle(pattern: &str, path: &str) -> bool {
        let (p, anchored) = match pattern.strip_suffix('$') {
            Some(p) => (p, true),
            None => (pattern, false),
        };
        let re: String = p.split('*').map(regex_lite_escape).collect::<Vec<_>>().join(".*");
        let re = format!("^{re}{}", if anchored { "$" } else { "" });
        regex_match(&re, path)
    }

    fn regex_lite_escape(s: &str) -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '/' { c.to_string() } else { format!("\\{c}") })
            .collect()
    }

    /// A tiny backtracking matcher for `^lit(.*lit)*$?` expressions.
    fn regex_match(re: &str, s: &str) -> bool {
        let anchored = re.ends_with('$') && !re.ends_with("\\$");
        let body = re.trim_start_matches('^');
        let body = if anchored { &body[..body.len() - 1] } else { body };
        let lits: Vec<String> = body.split(".*").map(|l| l.replace('\\', "")).collect();
        fn go(lits: &[String], s: &str, first: bool, anchored: bool) -> bool {
            let Some((l, rest)) = lits.split_first() else { return !anchored || s.is_empty() };
            if first {
                return s.starts_with(l.as_str()) && go(rest, &s[l.len()..], false, anchored);
            }
            (0..=s.len())
                .filter(|&i| s.is_char_boundary(i))
                .any(|i| s[i..].starts_with(l.as_str()) && go(rest, &s[i + l.len()..], false, anchored))
        }
        go(&lits, s, true, anchored)
    }

    proptest! {
        #[test]
        fn agrees_with_brute_force(pattern in "[ab/*]{0,6}\\$?", path in "[ab/]{0,8}") {
            prop_assert_eq!(matches(&pattern, &path), oracle(&pattern, &path), "{} {}", pattern, path);
        }
    }
}
