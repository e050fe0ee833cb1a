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

use super::files::{ingest, IngestOptions, IngestReport};
use crate::error::{IndexError, Result};
use crate::tokenized::{tokenize_doc, OwnedDoc, Tokenized};

/// A numbered batch of documents.
type Batch = (u64, Vec<OwnedDoc>);

/// Bytes of document text per batch.
const BATCH_BYTES: usize = 2 << 20;

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
