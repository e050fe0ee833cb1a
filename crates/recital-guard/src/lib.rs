//! # recital-guard
//!
//! A decode-time guard: it stops a model from *writing* a protected copy,
//! where the filter ([`recital_filter`](../recital_filter/index.html))
//! removes one after it was written. The model then says something else in
//! the same answer, instead of the user getting a `[redacted]` hole or a
//! blocked stream.
//!
//! - [`Vocab`]: a tokenizer's ids with their normalised text, sorted, built
//!   once per tokenizer, so that capitals, full-width letters, look-alikes
//!   and pieces split mid-word (`QU` `EST` `ION`) are seen as the word they
//!   spell.
//! - [`DecodeGuard`]: an index snapshot, the policy, the vocabulary. The
//!   policy says, per document and jurisdiction, from which length a copy is
//!   redacted or blocked; that length is the guard's threshold for it.
//! - [`GuardSession`]: one generation. Feed it each emitted token
//!   ([`GuardSession::push`]); it follows the output along every protected
//!   document it copies, across the small edits near-verbatim detection
//!   forgives, and [`GuardSession::banned`] gives the token ids that would
//!   take a copy to its threshold. When those held nearly all the
//!   probability ([`GuardSession::advise`]), it takes a few tokens back and
//!   bans the one that led there, so the model rephrases instead of being
//!   forced into a word it did not want.
//!
//! ```no_run
//! use recital_guard::{Advice, DecodeGuard, GuardOptions, Vocab};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let index = recital_index::Index::open("corpus.idx".as_ref())?;
//! let vocab = Vocab::from_pieces(vec![b" the".to_vec(), b" king".to_vec()])?;
//! let guard = DecodeGuard::new(index, vocab, recital_policy::Policy::builtin_default(), GuardOptions::default())?;
//! let mut session = guard.session(None);
//! # let mut logits = vec![0.0f32; 2];
//! loop {
//!     for id in session.banned() {
//!         logits[id as usize] = f32::NEG_INFINITY;
//!     }
//!     match session.advise(0.0) {
//!         Advice::Sample => { session.push(0); break }
//!         Advice::Rollback { keep } => { /* rewind the model to `keep` tokens */ let _ = keep; }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Why tracks and not a Bloom filter of n-grams (MemFree): a Bloom filter
//! answers "was this n-gram seen" for one n, on raw text, so capitals or one
//! changed word pass it; the suffix array gives exact occurrences of any
//! length on normalised tokens, with their documents and so their rights.
#![deny(missing_docs)]

mod copies;
mod error;
mod guard;
mod protect;
mod session;
mod track;
mod vocab;

pub use error::GuardError;
pub use guard::{DecodeGuard, GuardOptions};
pub use session::{Advice, GuardSession};
pub use vocab::Vocab;
