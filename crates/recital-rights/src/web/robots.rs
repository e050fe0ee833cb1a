//! robots.txt rules for AI crawlers, read with `texting_robots` (the
//! parser Common Crawl's tooling uses, RFC 9309 semantics).
//!
//! A page counts as reserved when robots.txt names an AI crawler (one of
//! [`AI_AGENTS`]) in a `User-agent` line and that crawler may not fetch the
//! page. A `User-agent: *` group alone is general crawl control (staging
//! sites, load) and is not read as a statement about AI, so it yields no
//! claim. When robots.txt names AI crawlers and lets them all in, that is
//! recorded as "not reserved" (it loses to any TDMRep declaration).

use crate::record::{Claim, Field};
use crate::signal::Signal;

/// User agents of crawlers that collect training data for AI models, as
/// their operators document them.
pub const AI_AGENTS: &[&str] = &[
    "GPTBot",
    "ChatGPT-User",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "Claude-Web",
    "Applebot-Extended",
    "Bytespider",
    "meta-externalagent",
    "FacebookBot",
    "cohere-ai",
    "cohere-training-data-crawler",
    "PerplexityBot",
    "Amazonbot",
    "Diffbot",
    "Omgilibot",
    "AI2Bot",
    "ImagesiftBot",
    "Timpibot",
];

/// A site's robots.txt, with the AI crawlers it names.
pub(crate) struct RobotsTxt {
    text: Vec<u8>,
    named: Vec<&'static str>,
}

impl RobotsTxt {
    /// Reads a robots.txt body.
    pub fn parse(text: &[u8]) -> Self {
        let lower = String::from_utf8_lossy(text).to_ascii_lowercase();
        let agents: Vec<String> = lower
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter_map(|l| l.strip_prefix("user-agent"))
            .filter_map(|l| l.trim_start().strip_prefix(':'))
            .map(|a| a.trim().to_string())
            .collect();
        let named = AI_AGENTS
            .iter()
            .copied()
            .filter(|a| agents.iter().any(|n| *n == a.to_ascii_lowercase()))
            .collect();
        RobotsTxt { text: text.to_vec(), named }
    }

    /// The claim about `url` (absolute), if robots.txt names an AI crawler.
    pub fn claims(&self, url: &str, source: &str, observed: Option<&str>) -> Vec<Claim> {
        if self.named.is_empty() {
            return Vec::new();
        }
        let mut shut_out = Vec::new();
        for agent in &self.named {
            match texting_robots::Robot::new(agent, &self.text) {
                Ok(robot) if !robot.allowed(url) => shut_out.push(*agent),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("{source}: robots.txt not readable for {agent}: {e}");
                    return Vec::new();
                }
            }
        }
        let (value, detail) = if shut_out.is_empty() {
            ("false", format!("allows {}", self.named.join(", ")))
        } else {
            ("true", format!("disallows {}", shut_out.join(", ")))
        };
        vec![Claim::new(Signal::RobotsTxt, Field::TdmOptOut, value, source).observed(observed).detail(detail)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(robots: &str, url: &str) -> Option<(String, String)> {
        let c = RobotsTxt::parse(robots.as_bytes()).claims(url, "https://example.org/robots.txt", None);
        c.first().map(|c| (c.value.clone(), c.detail.clone().unwrap_or_default()))
    }

    #[test]
    fn ai_crawlers_shut_out_reserve_the_page() {
        // As OpenAI and Google document blocking their crawlers.
        let robots = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n";
        let (v, d) = said(robots, "https://example.org/private/a.html").unwrap();
        assert_eq!(v, "true");
        assert_eq!(d, "disallows GPTBot, Google-Extended");
        let (v, d) = said(robots, "https://example.org/public/a.html").unwrap();
        assert_eq!((v.as_str(), d.as_str()), ("true", "disallows GPTBot"));
    }

    #[test]
    fn general_rules_say_nothing_about_ai() {
        assert_eq!(said("User-agent: *\nDisallow: /\n", "https://example.org/a"), None);
        let (v, d) = said("User-agent: CCBot\nDisallow: /tmp/\n", "https://example.org/a").unwrap();
        assert_eq!((v.as_str(), d.as_str()), ("false", "allows CCBot"));
        // Agent names match in any case; comments are not agents.
        let (v, _) =
            said("user-agent: claudebot # Anthropic\ndisallow: /\n", "https://example.org/a").unwrap();
        assert_eq!(v, "true");
    }
}
