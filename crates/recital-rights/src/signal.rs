//! The signals, and the precedence that settles their conflicts.
//!
//! Each field of a rights record is decided by the statement of the signal
//! with the highest precedence that speaks to it; the others stay in the
//! provenance with `applied: false`. Two rules order the signals:
//!
//! 1. **The more specific statement wins.** A declaration attached to the
//!    work itself outranks one about its whole site or project. A C2PA
//!    manifest travels in (or beside) the file's own bytes, so its
//!    training-and-mining assertion ranks first. This is TDMRep's own order (HTML metadata of a page overrides the page's HTTP
//!    header, which overrides the site's `tdmrep.json`), and REUSE's
//!    (a file's own header outranks `REUSE.toml`, unless an annotation says
//!    `precedence = "override"`, then `.reuse/dep5`).
//! 2. **A statement about text and data mining outranks a statement about
//!    crawling.** TDMRep says whether TDM rights are reserved; robots.txt
//!    and ai.txt say which agents may fetch what. They are read as a
//!    reservation (an AI crawler shut out of a page) only where no TDMRep
//!    declaration covers the page. A licence someone wrote down (REUSE,
//!    DEP-5) outranks one a scanner guessed (ScanCode).
//!
//! At equal precedence the first statement read wins, except that for
//! `tdm_opt_out` a reservation wins over its absence.

/// A kind of rights signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Signal {
    /// A training-and-mining assertion in a file's C2PA manifest (embedded,
    /// or a sidecar `.c2pa` beside it).
    C2pa,
    /// `<meta name="tdm-reservation">` in an HTML page (TDMRep).
    HtmlMeta,
    /// `tdm-reservation` / `tdm-policy` HTTP response headers (TDMRep).
    TdmHeader,
    /// `/.well-known/tdmrep.json` of the site (TDMRep).
    TdmrepJson,
    /// robots.txt rules for AI crawlers.
    RobotsTxt,
    /// ai.txt (Spawning).
    AiTxt,
    /// The crawl itself: the URL a page was fetched from.
    Crawl,
    /// A `REUSE.toml` annotation with `precedence = "override"`.
    ReuseOverride,
    /// `SPDX-License-Identifier` / `SPDX-FileCopyrightText` in a file's head.
    SpdxHeader,
    /// A `REUSE.toml` annotation.
    ReuseToml,
    /// `.reuse/dep5`.
    ReuseDep5,
    /// A Debian `copyright` file (DEP-5).
    DebianCopyright,
    /// ScanCode toolkit JSON output.
    ScanCode,
    /// The ISCC Text-Code computed from a file's text (ISO 24138).
    IsccText,
}

impl Signal {
    /// How the signal is named in provenance and reasons.
    pub fn name(self) -> &'static str {
        match self {
            Signal::C2pa => "C2PA manifest",
            Signal::HtmlMeta => "html meta",
            Signal::TdmHeader => "tdm-reservation header",
            Signal::TdmrepJson => "tdmrep.json",
            Signal::RobotsTxt => "robots.txt",
            Signal::AiTxt => "ai.txt",
            Signal::Crawl => "crawl",
            Signal::ReuseOverride | Signal::ReuseToml => "REUSE.toml",
            Signal::SpdxHeader => "SPDX header",
            Signal::ReuseDep5 => ".reuse/dep5",
            Signal::DebianCopyright => "debian/copyright",
            Signal::ScanCode => "ScanCode",
            Signal::IsccText => "ISCC Text-Code",
        }
    }

    /// Precedence: higher wins (see the module documentation).
    pub fn precedence(self) -> u8 {
        match self {
            Signal::C2pa => 92,
            Signal::HtmlMeta => 90,
            Signal::TdmHeader => 80,
            Signal::TdmrepJson => 70,
            Signal::RobotsTxt => 40,
            Signal::AiTxt => 30,
            Signal::Crawl => 10,
            Signal::ReuseOverride => 95,
            Signal::SpdxHeader => 85,
            Signal::ReuseToml => 75,
            Signal::ReuseDep5 => 65,
            Signal::DebianCopyright => 55,
            Signal::ScanCode => 20,
            Signal::IsccText => 5,
        }
    }

    /// Every signal, highest precedence first within TDM and code signals (for the
    /// documentation table and its test).
    pub const ALL: [Signal; 14] = [
        Signal::C2pa,
        Signal::HtmlMeta,
        Signal::TdmHeader,
        Signal::TdmrepJson,
        Signal::RobotsTxt,
        Signal::AiTxt,
        Signal::Crawl,
        Signal::ReuseOverride,
        Signal::SpdxHeader,
        Signal::ReuseToml,
        Signal::ReuseDep5,
        Signal::DebianCopyright,
        Signal::ScanCode,
        Signal::IsccText,
    ];
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_order_holds() {
        let tdm = &Signal::ALL[..7];
        let code = &Signal::ALL[7..];
        for list in [tdm, code] {
            assert!(list.windows(2).all(|w| w[0].precedence() > w[1].precedence()), "{list:?}");
        }
    }
}
