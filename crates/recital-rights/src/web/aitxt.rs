//! ai.txt, Spawning's robots.txt-style file (`/ai.txt`) that tells AI
//! crawlers which files they may use: `User-Agent` groups of `Allow` and
//! `Disallow` lines whose patterns are paths or file types (`*.jpg`).
//!
//! The group for `*` or for a crawler of [`super::robots::AI_AGENTS`]
//! applies; the longest matching pattern decides (`Allow` on a tie), as in
//! robots.txt. A page no pattern matches is allowed.

use crate::record::{Claim, Field};
use crate::signal::Signal;

use super::pattern;
use super::robots::AI_AGENTS;

/// One `Allow` or `Disallow` line.
#[derive(Debug, Clone)]
struct Line {
    allow: bool,
    pattern: String,
    text: String,
}

/// The rules of an ai.txt that apply to AI crawlers.
#[derive(Debug, Clone, Default)]
pub(crate) struct AiTxt {
    lines: Vec<Line>,
}

impl AiTxt {
    /// Reads an ai.txt body.
    pub fn parse(text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text);
        let mut lines = Vec::new();
        let mut applies = false;
        let mut in_agents = false;
        for raw in text.lines() {
            let l = raw.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = l.split_once(':') else { continue };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    // Consecutive User-Agent lines open one group.
                    if !in_agents {
                        applies = false;
                    }
                    in_agents = true;
                    applies |= value == "*" || AI_AGENTS.iter().any(|a| a.eq_ignore_ascii_case(value));
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if applies && !value.is_empty() {
                        let pattern = if value.starts_with('/') || value.starts_with('*') {
                            value.to_string()
                        } else {
                            format!("*{value}")
                        };
                        lines.push(Line { allow: key == "allow", pattern, text: l.to_string() });
                    }
                }
                _ => in_agents = false,
            }
        }
        AiTxt { lines }
    }

    /// The claim about the page at `path`, if the file has rules for AI crawlers.
    pub fn claims(&self, path: &str, source: &str, observed: Option<&str>) -> Vec<Claim> {
        if self.lines.is_empty() {
            return Vec::new();
        }
        let mut best: Option<&Line> = None;
        for l in self.lines.iter().filter(|l| pattern::matches(&l.pattern, path)) {
            let better = match best {
                None => true,
                Some(b) => {
                    l.pattern.len() > b.pattern.len()
                        || (l.pattern.len() == b.pattern.len() && l.allow && !b.allow)
                }
            };
            if better {
                best = Some(l);
            }
        }
        let (reserved, detail) = match best {
            Some(l) => (!l.allow, l.text.clone()),
            None => (false, "no rule matches".to_string()),
        };
        vec![Claim::new(Signal::AiTxt, Field::TdmOptOut, reserved.to_string(), source)
            .observed(observed)
            .detail(detail)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Spawning's generator output: file types, then everything.
    const SPAWNING: &str = "# Spawning AI\n# Prevent datasets from using the following file types\n\nUser-Agent: *\nDisallow: *.txt\nDisallow: *.pdf\nDisallow: *.html\nAllow: /press/\n";

    fn said(txt: &str, path: &str) -> Option<(String, String)> {
        let c = AiTxt::parse(txt.as_bytes()).claims(path, "https://example.org/ai.txt", None);
        c.first().map(|c| (c.value.clone(), c.detail.clone().unwrap_or_default()))
    }

    #[test]
    fn file_types_and_paths() {
        assert_eq!(said(SPAWNING, "/books/a.html"), Some(("true".into(), "Disallow: *.html".into())));
        assert_eq!(said(SPAWNING, "/press/release.html"), Some(("false".into(), "Allow: /press/".into())));
        assert_eq!(said(SPAWNING, "/photo.jpg"), Some(("false".into(), "no rule matches".into())));
        assert_eq!(said("User-Agent: *\nDisallow: /\n", "/a"), Some(("true".into(), "Disallow: /".into())));
    }

    #[test]
    fn only_groups_for_ai_crawlers_apply() {
        let t =
            "User-Agent: Googlebot\nDisallow: /\n\nUser-Agent: SomeBot\nUser-Agent: GPTBot\nDisallow: /x/\n";
        assert_eq!(said(t, "/a"), Some(("false".into(), "no rule matches".into())));
        assert_eq!(said(t, "/x/a").unwrap().0, "true");
        assert_eq!(said("User-Agent: Googlebot\nDisallow: /\n", "/a"), None);
    }
}
