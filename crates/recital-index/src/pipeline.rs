//! The build pipeline: reading, tokenising and indexing on separate threads.
//!
//! Why: on one thread, normalisation and tokenisation take most of a build
//! (libsais itself is 4–6× faster than tokenising the same text), and they are
//! independent per document. So one thread reads documents in batches, worker
//! threads tokenise batches, and the calling thread interns tokens and writes
//! the shard in document order (batches carry sequence numbers and are put back
//! in order). Channels are bounded, so memory in flight stays a few batches.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use recital_text::Scratch;

use crate::build::DocInput;
use crate::doctable::DocMode;
use crate::error::{IndexError, Result};
use crate::ingest::{ingest, IngestOptions, IngestReport};
use crate::rights::Rights;

/// A numbered batch of documents.
type Batch = (u64, Vec<OwnedDoc>);

/// Bytes of document text per batch.
const BATCH_BYTES: usize = 2 << 20;

/// A document that owns its fields (it crosses threads).
#[derive(Debug, Clone)]
pub struct OwnedDoc {
    /// External id.
    pub id: String,
    /// Path or title.
    pub path: Option<String>,
    /// Original text.
    pub text: String,
    /// Text or code.
    pub mode: DocMode,
    /// Rights.
    pub rights: Rights,
}

impl OwnedDoc {
    /// Copies a borrowed document.
    pub fn from_input(d: &DocInput<'_>) -> Self {
        Self {
            id: d.id.to_string(),
            path: d.path.map(str::to_string),
            text: d.text.to_string(),
            mode: d.mode,
            rights: d.rights.clone(),
        }
    }

    /// Borrows it back.
    pub fn as_input(&self) -> DocInput<'_> {
        DocInput {
            id: &self.id,
            path: self.path.as_deref(),
            text: &self.text,
            mode: self.mode,
            rights: self.rights.clone(),
        }
    }
}

/// Normalised token strings of one document, packed in one buffer.
#[derive(Debug, Clone, Default)]
pub struct TokenBuf {
    buf: String,
    ends: Vec<u32>,
    /// Byte offset of each token in its document.
    srcs: Vec<u32>,
}

impl TokenBuf {
    fn push(&mut self, t: &str) {
        self.buf.push_str(t);
        self.ends.push(self.buf.len() as u32);
    }

    /// Byte offset in its document of token `i` (0 when not recorded).
    pub fn src(&self, i: usize) -> u32 {
        self.srcs.get(i).copied().unwrap_or(0)
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&e| {
            let s = &self.buf[start..e as usize];
            start = e as usize;
            s
        })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// A document with its token streams.
#[derive(Debug, Clone)]
pub struct Tokenized {
    /// The document.
    pub doc: OwnedDoc,
    /// Text-stream tokens.
    pub text: TokenBuf,
    /// Canonical code tokens (code documents only).
    pub canon: Option<TokenBuf>,
}

/// Tokenises one document (both streams).
pub fn tokenize_doc(doc: OwnedDoc, scratch: &mut Scratch) -> Tokenized {
    // The text stream keeps each token's offset (the index samples every 64th,
    // so that hits find their place in long documents without re-tokenising
    // them). Workers have spare time: the build is bound by interning.
    let ts = recital_text::tokenize(&doc.text);
    let mut text = TokenBuf { srcs: Vec::with_capacity(ts.len()), ..Default::default() };
    for (i, t) in ts.tokens.iter().enumerate() {
        text.push(ts.text(i));
        text.srcs.push(t.src.start as u32);
    }
    // The canonical stream keeps offsets too: a code hit is then located by
    // lexing a window from the nearest sampled lexeme, not the whole file.
    let canon = doc.mode.lang().map(|lang| {
        let mut c = TokenBuf::default();
        recital_text::code::for_each_canonical_at(&doc.text, lang, scratch, |t, at| {
            c.push(t);
            c.srcs.push(at as u32);
        });
        c
    });
    Tokenized { doc, text, canon }
}

/// Reads `inputs`, tokenises on `workers` threads, and calls `consume` for every
/// document in input order on the calling thread.
pub fn run(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    workers: usize,
    mut consume: impl FnMut(Tokenized) -> Result<()>,
) -> Result<IngestReport> {
    let workers = workers.max(1);
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = sync_channel::<Batch>(workers * 2);
        let (done_tx, done_rx) = sync_channel::<(u64, Vec<Tokenized>)>(workers * 2);
        let reader = scope.spawn(move || -> Result<IngestReport> {
            let mut seq = 0u64;
            let mut batch = Vec::new();
            let mut bytes = 0usize;
            let report = ingest(inputs, opts, |d| {
                bytes += d.text.len();
                batch.push(OwnedDoc::from_input(d));
                if bytes >= BATCH_BYTES {
                    batch_tx
                        .send((seq, std::mem::take(&mut batch)))
                        .map_err(|_| IndexError::Input("build cancelled".into()))?;
                    seq += 1;
                    bytes = 0;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                batch_tx.send((seq, batch)).map_err(|_| IndexError::Input("build cancelled".into()))?;
            }
            Ok(report)
        });
        let shared: Arc<Mutex<Receiver<Batch>>> = Arc::new(Mutex::new(batch_rx));
        for _ in 0..workers {
            let rx = Arc::clone(&shared);
            let tx = done_tx.clone();
            scope.spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, docs)) = next else { return };
                    let out: Vec<Tokenized> =
                        docs.into_iter().map(|d| tokenize_doc(d, &mut scratch)).collect();
                    if tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, Vec<Tokenized>> = BTreeMap::new();
        let mut next = 0u64;
        let mut consumed: Result<()> = Ok(());
        for (seq, docs) in done_rx.iter() {
            pending.insert(seq, docs);
            while let Some(docs) = pending.remove(&next) {
                next += 1;
                for d in docs {
                    if consumed.is_ok() {
                        consumed = consume(d);
                    }
                }
            }
            if consumed.is_err() {
                break;
            }
        }
        // On a consumer error, dropping the receivers makes the other threads stop.
        drop(done_rx);
        let read = reader.join().map_err(|_| IndexError::Input("reader thread panicked".into()))?;
        consumed?;
        read
    })
}
