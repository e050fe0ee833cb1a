//! # recital-policy
//!
//! Turns what [`recital_detect`] found — spans of a model output that copy
//! indexed works, with each source's licence and rights — into a decision:
//! **allow**, **annotate** (show a citation with licence and URL), **redact**
//! (replace the span by a marker naming the source) or **block** (withhold the
//! whole response), with a statement of reasons naming the rule, the facts and
//! the sources.
//!
//! ## Why rules are data
//!
//! What may be shown depends on where the request comes from, under which
//! licence the source is published, whether its rightsholder has reserved
//! text and data mining (CDSM Art. 4(3)) or sent a notice, and how long the
//! copy is for its kind of material (65 lexemes of code, 11 words of lyrics…).
//! These are choices for a provider's counsel and trust-and-safety staff, not
//! for programmers, and they change without a release. So they live in a TOML
//! file that a lawyer can read and `recital policy check FILE` can verify
//! (every error, with its line). Presets ship in `policies/`; they are
//! **examples, not legal advice**.
//!
//! ## Use
//!
//! ```
//! use recital_policy::{Filtered, Policy, Request};
//!
//! /// What may be shown of `text`, which was scanned into `report`.
//! fn filter(text: &str, report: &recital_detect::ScanReport, jurisdiction: &str) -> Filtered {
//!     let policy = Policy::builtin_default();
//!     let decision = policy.decide(report, &Request::from_jurisdiction(jurisdiction));
//!     println!("{}", decision.statement);
//!     recital_policy::apply(text, report, &decision)
//! }
//! ```
//!
//! ## The policy file
//!
//! ```toml
//! # Example only, not legal advice.
//! name = "everywhere"
//! version = 1
//! default_jurisdiction = "EU"       # when the request names none
//! default_category = "prose"        # for sources without a known category
//! default_action = "allow"          # for spans over the threshold that no rule takes
//! redaction_marker = "[redacted: copies {source} ({license})]"
//!
//! [jurisdiction_groups]             # groups of ISO 3166-1 alpha-2 codes; may nest
//! EU  = ["AT", "BE", "DE", "FR"]    # (abridged)
//! EEA = ["EU", "IS", "LI", "NO"]
//!
//! [licenses]                        # SPDX id patterns per class (`*`, `?` wildcards)
//! public-domain = ["CC0-1.0", "LicenseRef-PublicDomain"]
//! permissive    = ["MIT", "BSD-*", "Apache-2.0"]
//! copyleft      = ["GPL-*", "LGPL-*", "AGPL-*", "MPL-2.0", "CC-BY-SA-*"]
//! proprietary   = ["LicenseRef-*", "NONE"]
//!
//! [categories]                      # from which length a copy counts
//! prose  = { min_tokens = 50 }
//! code   = { min_tokens = 65 }
//! lyrics = { min_tokens = 11 }
//! news   = { min_tokens = 40, min_chars = 200 }
//!
//! [[rules]]                         # tried in order; the first that matches decides
//! name = "notified-works"
//! notified = true
//! action = "block"
//!
//! [[rules]]
//! name = "copyleft-or-unknown"
//! license_class = ["copyleft", "proprietary", "noassertion", "unknown"]
//! action = "redact"
//! ```
//!
//! Top level: `name` and `version` (required; decisions cite them),
//! `default_jurisdiction` (required), `description`, `default_category`
//! (default `prose`), `default_action` (default `allow`), `redaction_marker`
//! (placeholders `{source}`, `{license}`, `{doc_id}`, `{path}`, `{url}`,
//! `{holder}`, `{rule}`). Top-level keys must come before the first `[table]`:
//! TOML puts every key after a header into that table.
//!
//! **Licence classes** ([`spdx`]): a source's licence is an SPDX expression.
//! Each identifier takes the first class whose patterns match it, in the fixed
//! order public-domain, permissive, copyleft, proprietary; none: `unknown`.
//! `NOASSERTION` or no licence: `noassertion`. For `A OR B` the least
//! restrictive class applies (the user may choose), for `A AND B` the most
//! restrictive, `A WITH exception` takes the class of `A`; an expression that
//! does not parse is `unknown`.
//!
//! **Categories**: a span is judged as its source's `category` when the policy
//! has it, else `code` for matches of the canonical code stream (when there is
//! a `code` category), else `default_category`. Rules consider a span only from
//! the category's `min_tokens` (tokens of the stream that matched: words and
//! punctuation, or code lexemes) and, if set, `min_chars` (characters);
//! shorter spans are allowed as "under the threshold". `boilerplate` spans are
//! always allowed.
//!
//! **Rules** (`[[rules]]`, tried in file order per span and source; the first
//! rule whose conditions all hold gives that source's action). `name` and
//! `action` are required; every condition is optional:
//!
//! | key | holds when |
//! |---|---|
//! | `jurisdictions` | the request jurisdiction lies within one listed (codes, groups, `"*"`) |
//! | `license_class` | the licence's class is listed (`public-domain`, `permissive`, `copyleft`, `proprietary`, `noassertion`, `unknown`) |
//! | `licenses` | any licence id of the expression matches a listed pattern |
//! | `tdm_opt_out` | the source's TDM reservation equals this |
//! | `notified` | the source is (or, with `false`, is not) under a rightsholder notice |
//! | `categories` | the span's category is listed |
//! | `kinds` | the span is one of `exact`, `near`, `code-canonical` |
//! | `min_tokens`, `min_chars` | the span is this long (replacing the category's threshold for this rule) |
//! | `min_coverage` | the source makes up at least this fraction (0–1) of the whole output |
//!
//! A source's own `jurisdictions` (where its rights apply; empty or `*` means
//! everywhere) must include the request jurisdiction for any rule to bite on
//! it; otherwise it is allowed. No rule matched: `default_action`. A span takes
//! its sources' most severe action, the response its spans' most severe.
//!
//! **Jurisdictions** ([`jurisdiction`]): the request's
//! (`X-Recital-Jurisdiction`, else the API key's default, else
//! `default_jurisdiction`), case-insensitive. A policy naming an unknown code
//! is an error; a *request* with one is judged as that bare code (within `"*"`
//! only), since a service must answer every request.
//!
//! `policies/README.md` in the repository documents the format at length.
#![deny(missing_docs)]

mod apply;
mod bounds;
mod config;
mod decide;
mod decision;
mod error;
#[cfg(test)]
mod fragments;
pub mod jurisdiction;
mod marker;
pub mod pattern;
mod policy;
#[cfg(test)]
mod properties;
mod reader;
mod reasons;
pub mod spdx;
#[cfg(test)]
mod testutil;

pub use apply::{apply, Annotation, Filtered};
pub use decision::{nothing_notified, Action, Citation, Decision, Request, SpanDecision};
pub use error::{PolicyError, Warning};
pub use policy::{check, Policy, BUILTIN_DEFAULT_TOML};
pub use spdx::{ClassCount, LicenseClass};
