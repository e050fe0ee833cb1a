//! # recital-rights
//!
//! Reads the rights signals that rightsholders and projects publish, so that
//! nobody has to type them into a rights sidecar by hand:
//!
//! | signal | read from | says |
//! |---|---|---|
//! | TDMRep `tdmrep.json`, `tdm-reservation`/`tdm-policy` headers, HTML `<meta>` | a crawl: WARC file or saved responses | TDM rights reserved or not (CDSM Art. 4(3)), licensing terms |
//! | robots.txt groups for AI crawlers ([`AI_AGENTS`]) | the crawl | an AI crawler shut out of the page |
//! | ai.txt (Spawning) | the crawl | AI use of the page's file type or path disallowed |
//! | REUSE (`REUSE.toml`, `.reuse/dep5`), SPDX headers (`SPDX-License-Identifier`, `SPDX-FileCopyrightText`) | a code project | licence and copyright holder per file |
//! | Debian DEP-5 `copyright` | a project's `debian/copyright`, or any such file | licence and holder per `Files` glob |
//! | ScanCode toolkit JSON | its `files` | detected licence and holder per file |
//! | ISCC Text-Code (ISO 24138, `iscc-lib`) | each text file of a code project | a work identifier that survives copies |
//! | C2PA `c2pa.training-mining` / `cawg.training-mining` assertion ([`C2paManifest`]) | a JPEG or PNG's manifest store, a sidecar `.c2pa` | TDM rights reserved (`notAllowed`, `constrained`) or not, the terms of a `constrained` use |
//!
//! Each becomes a [`RightsRecord`]: the fields of a rights sidecar
//! (`crates/recital-index/src/rights.rs`) plus `provenance`, every
//! statement of every signal about the document (which signal, which
//! field, what value, from which URL or file, observed when), the one that
//! decided each field marked `applied`. Written as JSONL
//! ([`Import::to_jsonl`]) the records *are* a sidecar: `recital index build
//! --rights` reads them, `--rights-from` imports and applies them in one go,
//! and the provenance travels into the index, the scan report's sources and
//! the policy's statement of reasons ("TDM reservation via tdmrep.json of
//! example.org, 2026-03-01").
//!
//! ## Conflicts
//!
//! Per field, the signal of highest [`Signal::precedence`] decides and the
//! others are kept with `applied: false`: the more specific statement wins
//! (a page's own declarations over its site's, a file's header over its
//! project's files), and a statement about text and data mining outranks
//! one about crawling. The [`signal`](Signal) documentation gives the
//! order and the reasons; `README.md` has the table.
//!
//! ## Use
//!
//! ```no_run
//! let import = recital_rights::import(std::path::Path::new("crawl.warc.gz"), recital_rights::Kind::Auto)?;
//! for w in &import.warnings {
//!     eprintln!("warning: {w}");
//! }
//! print!("{}", import.to_jsonl());
//! # Ok::<(), recital_rights::RightsError>(())
//! ```
//!
//! ## One signal at a time, and ISCC codes
//!
//! [`WebSignals`] takes saved responses one by one and answers what they say
//! about a page (the service's `POST /v1/signals` applies them to scans as
//! they arrive). [`TextCode`] reads, computes and compares ISCC Text-Codes:
//! two codes within [`NEAR_BITS`] of 64 name the same work or a near copy.
//!
//! Nothing here fetches from the network: web signals come from what a
//! crawler saved.
//!
//! ## C2PA without the `c2pa` crate
//!
//! [`C2paManifest::read`] finds the manifest store (JPEG APP11 segments, PNG
//! `caBX`, a bare `.c2pa` store), walks its JUMBF boxes and decodes the
//! assertion's CBOR with `ciborium`; every length is checked, so broken
//! input is an error naming the byte, never a panic (fuzz target
//! `c2pa_manifest`). It does not validate the claim signature or the hash
//! binding, and says so in the provenance (`signature present, not
//! validated`). The `c2pa` crate would, but measured in a scratch crate
//! with `default-features = false, features = ["rust_native_crypto"]` (no
//! OpenSSL; one of the two crypto features is required) it is 281 crates,
//! 138 of them new to this workspace; a cold debug build took 292
//! CPU-seconds (9 min 48 s of wall time on the shared two-core machine)
//! and a release build, which the fuzz targets of `scripts/test.sh` need,
//! 537 more; clippy would check it once again. About 14 CPU-minutes, or
//! over 7 minutes on two idle cores, is out of proportion for reading one
//! assertion.
#![deny(missing_docs)]

mod c2pa;
mod code;
mod error;
mod import;
mod record;
mod signal;
mod web;

pub use c2pa::{C2paManifest, TdmEntry, TrainingMining, Usage};
pub use code::iscc::{TextCode, NEAR_BITS};
pub use error::{Result, RightsError};
pub use import::{import, Import, Kind};
pub use recital_index::Provenance;
pub use record::{RightsRecord, Selector};
pub use signal::Signal;
pub use web::{WebSignals, AI_AGENTS};
