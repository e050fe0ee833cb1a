//! # recital-filter
//!
//! The filter that every door of recital goes through: `/v1/scan` and
//! `/v1/filter`, each proxy dialect (chat and legacy completions, the
//! Responses and Messages APIs), the CLI's `recital filter`, and the Python
//! package. It knows nothing of HTTP, SSE, SQLite or the registry: a
//! transport turns its wire format into **channels** and back.
//!
//! - A model output is a set of [`ChannelId`]s: the answer's text, its
//!   refusal, its reasoning, each tool call's name and arguments, a
//!   structured (JSON) answer, for each of `n` choices. Log-probabilities are
//!   not a channel of their own: they repeat the text token by token, so they
//!   are rebuilt from their channel's redactions ([`logprobs`]).
//! - A channel is read through a lens: plain text as it is (the scan itself
//!   reads through Markdown and HTML views), a JSON document as its decoded
//!   string values, with redactions written back inside the strings so the
//!   document stays valid.
//! - Whole outputs go through [`filter_output`]; streamed ones through a
//!   [`StreamFilter`], whose per-channel [`Guard`] holds back the policy's
//!   shortest trigger minus one token, so that no token of a flagged copy
//!   leaves before its decision, in any channel.
//! - Wire formats ([`dialect`]): where each channel lives in a model API's
//!   JSON (OpenAI chat and completions), and how a filtered answer is written
//!   back, for the proxy and for saved answers alike.
//! - What the filter is checked against is a [`Judge`]: a scanner over an
//!   index snapshot, plus the notices in force. The service implements it
//!   over its live corpus and registry; [`IndexJudge`] is the plain one.
//! - Many outputs at once ([`batch`]): JSONL in, one judged line out per
//!   output (`recital scan --jsonl`, the CI gate).
//!
//! ```no_run
//! use std::sync::Arc;
//! use recital_filter::{filter_output, ChannelId, ChannelKind, IndexJudge};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let index = Arc::new(recital_index::Index::open("corpus.idx".as_ref())?);
//! let policy = recital_policy::Policy::builtin_default();
//! let judge = IndexJudge::new(index, policy, recital_detect::ScanOptions::default());
//! let answer = ChannelId::new(0, ChannelKind::Text);
//! let args = ChannelId::tool(0, ChannelKind::ToolArguments, 0);
//! let out = filter_output(&judge, &[(answer, "Here is the file."), (args, r#"{"path":"a.c","content":"…"}"#)], None, "EU")?;
//! for c in out.flagged() {
//!     println!("{}: {}", c.channel, c.decision.statement);
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod batch;
mod channel;
pub mod dialect;
mod error;
mod guard;
mod judge;
mod lens;
pub mod logprobs;
pub mod report;
mod stream;
mod whole;

#[cfg(feature = "parquet")]
pub use batch::scan_parquet;
pub use batch::{scan_jsonl, BadLine, BatchLine, BatchOptions, BatchSummary};
pub use channel::{ChannelId, ChannelKind, Format};
pub use error::FilterError;
pub use guard::{Evaluator, Guard, Marker, Redaction, Step};
pub use judge::{decide, evaluate, jurisdiction, IndexJudge, Judge};
pub use report::FilterReport;
pub use stream::{ChannelDecision, StreamFilter, LOOKBACK_BYTES};
pub use whole::{filter_output, ChannelResult, FilteredOutput};
