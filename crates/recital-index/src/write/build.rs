//! Building shards: documents in, an immutable shard directory out.
//!
//! Memory: while documents are added a shard holds its token ids (4 bytes per
//! token, per stream) and its vocabulary; document text streams straight into the
//! compressed store. `finish` adds the suffix array (4 bytes per token), so the
//! peak is ≈ 8 bytes per token of the largest stream plus the vocabulary. The
//! caller cuts shards at a token budget ([`DEFAULT_SHARD_TOKENS`]), which bounds
//! the peak whatever the corpus size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use recital_text::Scratch;
use serde::{Deserialize, Serialize};

use crate::docstore::DocStoreWriter;
use crate::doctable::{DocMode, DocTableBuilder};
use crate::error::{IndexError, Result};
use crate::rights::Rights;
use crate::shard::Shard;
use crate::stream::{self, Stream};
use crate::tokenized::Tokenized;
use crate::vocab::{Vocab, VocabBuilder};

/// Default token budget per shard: ~4 GB of build memory, far below the 2^31
/// limit of 32-bit suffix arrays.
pub const DEFAULT_SHARD_TOKENS: u64 = 500_000_000;

/// A document to index.
#[derive(Debug, Clone)]
pub struct DocInput<'a> {
    /// External id (unique within the index is the caller's business; `remove` acts on every match).
    pub id: &'a str,
    /// Path relative to the input root, or a title.
    pub path: Option<&'a str>,
    /// The original text.
    pub text: &'a str,
    /// Text or code.
    pub mode: DocMode,
    /// Rights metadata.
    pub rights: Rights,
}

/// What a finished shard holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShardSummary {
    /// Directory name.
    pub name: String,
    /// Documents.
    pub docs: u64,
    /// Text-stream tokens.
    pub text_tokens: u64,
    /// Canonical-stream tokens.
    pub canon_tokens: u64,
    /// Bytes of original text.
    pub source_bytes: u64,
}

#[derive(Default)]
struct StreamAcc {
    vocab: VocabBuilder,
    ids: Vec<i32>,
    doc_first: Vec<u64>,
    /// Source byte offset (within its document) of every 64th token.
    srcpos: Vec<u32>,
}

impl StreamAcc {
    fn begin_doc(&mut self) {
        self.doc_first.push(self.ids.len() as u64);
    }
    fn end_doc(&mut self) {
        if self.ids.len().is_multiple_of(stream::CKPT_EVERY) {
            self.srcpos.push(0);
        }
        self.vocab.separator();
        self.ids.push(0);
    }
    fn write(self, dir: &Path, stream: Stream) -> Result<u64> {
        let StreamAcc { vocab, mut ids, doc_first, srcpos } = self;
        stream::write_srcpos(dir, stream, &srcpos)?;
        drop(srcpos);
        let (remap, body) = vocab.finish();
        let alphabet = remap.len() as u32;
        for id in ids.iter_mut() {
            *id = remap[*id as usize] as i32;
        }
        drop(remap);
        Vocab::write(&dir.join(format!("{}.vocab", stream.name())), &body)?;
        drop(body);
        let stats = stream::write_stream(dir, stream, ids, &doc_first, alphabet)?;
        Ok(stats.tokens)
    }
}

/// Accumulates documents and writes one shard.
pub struct ShardBuilder {
    dir: PathBuf,
    text: StreamAcc,
    canon: StreamAcc,
    has_code: bool,
    store: DocStoreWriter,
    table: DocTableBuilder,
    rights: Vec<Rights>,
    rights_ix: HashMap<Rights, u32>,
    scratch: Scratch,
    source_bytes: u64,
}

impl ShardBuilder {
    /// Starts a shard in `dir`, which must not exist yet.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir(dir).map_err(|e| IndexError::io(dir, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            text: StreamAcc::default(),
            canon: StreamAcc::default(),
            has_code: false,
            store: DocStoreWriter::create(&dir.join("docs.zst"))?,
            table: DocTableBuilder::default(),
            rights: Vec::new(),
            rights_ix: HashMap::new(),
            scratch: Scratch::default(),
            source_bytes: 0,
        })
    }

    /// Adds a document, tokenising it here.
    pub fn add(&mut self, doc: &DocInput<'_>) -> Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let t = crate::tokenized::tokenize_doc(crate::tokenized::OwnedDoc::from_input(doc), &mut scratch);
        self.scratch = scratch;
        self.add_tokenized(&t)
    }

    /// Adds a document tokenised elsewhere (the build pipeline's workers).
    pub fn add_tokenized(&mut self, t: &Tokenized) -> Result<()> {
        let doc = &t.doc;
        let loc = self.store.add(doc.text.as_bytes())?;
        let rights = match self.rights_ix.get(&doc.rights) {
            Some(&i) => i,
            None => {
                let i = self.rights.len() as u32;
                self.rights.push(doc.rights.clone());
                self.rights_ix.insert(doc.rights.clone(), i);
                i
            }
        };
        self.table.add(&doc.id, doc.path.as_deref(), loc, rights, doc.mode);
        self.source_bytes += doc.text.len() as u64;

        let text = &mut self.text;
        text.begin_doc();
        for (i, tok) in t.text.iter().enumerate() {
            if text.ids.len().is_multiple_of(stream::CKPT_EVERY) {
                text.srcpos.push(t.text.src(i));
            }
            let id = text.vocab.intern(tok);
            text.ids.push(id as i32);
        }
        text.end_doc();

        let canon = &mut self.canon;
        canon.begin_doc();
        if let Some(c) = &t.canon {
            self.has_code = true;
            for (i, tok) in c.iter().enumerate() {
                if canon.ids.len().is_multiple_of(stream::CKPT_EVERY) {
                    canon.srcpos.push(c.src(i));
                }
                let id = canon.vocab.intern(tok);
                canon.ids.push(id as i32);
            }
        }
        canon.end_doc();
        if self.text.ids.len() >= i32::MAX as usize / 2 || self.canon.ids.len() >= i32::MAX as usize / 2 {
            return Err(IndexError::Input("shard token budget exceeded: lower --shard-tokens".into()));
        }
        Ok(())
    }

    /// Tokens held so far (both streams).
    pub fn tokens(&self) -> u64 {
        (self.text.ids.len() + if self.has_code { self.canon.ids.len() } else { 0 }) as u64
    }

    /// Sorts, writes and syncs every file of the shard; returns its summary.
    pub fn finish(self) -> Result<ShardSummary> {
        let ShardBuilder { dir, text, canon, has_code, store, table, rights, source_bytes, .. } = self;
        store.finish()?;
        table.write(&dir.join("docs.tab"))?;
        Shard::write_rights(&dir, &rights)?;
        let docs = table.len();
        drop(table);
        let text_tokens = text.write(&dir, Stream::Text)?;
        let canon_tokens = if has_code { canon.write(&dir, Stream::Canon)? } else { 0 };
        sync_dir(&dir)?;
        Ok(ShardSummary {
            name: dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            docs,
            text_tokens,
            canon_tokens,
            source_bytes,
        })
    }
}

/// fsyncs a directory so that renames and new entries in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let f = std::fs::File::open(dir).map_err(|e| IndexError::io(dir, e))?;
        f.sync_all().map_err(|e| IndexError::io(dir, e))?;
    }
    Ok(())
}
