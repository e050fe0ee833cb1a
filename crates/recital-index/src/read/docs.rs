//! The documents of a snapshot, named by address: what a hit's document is,
//! its text and tokens, which documents are live, and which one has an id.

use crate::doctable::DocMode;
use crate::error::{IndexError, Result};
use crate::read::index::{Index, LiveShard, Occurrence};
use crate::rights::Rights;
use crate::shard::StreamIndex;
use crate::stream::Stream;

/// Where a document lives in one snapshot: its shard's position in the
/// manifest and its number in that shard. An address is valid for the
/// snapshot that gave it and for later snapshots that keep the shard
/// (compaction renumbers); ids are the stable names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocAddr {
    /// The shard's position in the snapshot.
    pub shard: u32,
    /// The document's number in the shard.
    pub doc: u32,
}

impl DocAddr {
    /// The address of shard `shard`'s document `doc`.
    pub fn new(shard: usize, doc: usize) -> Self {
        Self { shard: shard as u32, doc: doc as u32 }
    }
}

impl Occurrence {
    /// The document the occurrence is in.
    pub fn addr(&self) -> DocAddr {
        DocAddr::new(self.shard, self.doc)
    }
}

/// What the index knows of a document, besides its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Its address in the snapshot.
    pub addr: DocAddr,
    /// Its external id.
    pub id: String,
    /// Its path or title, if it had one.
    pub path: Option<String>,
    /// Text or code, and the language of code.
    pub mode: DocMode,
    /// Its rights record.
    pub rights: Rights,
}

/// One document's tokens in one stream: ids numbered by its shard's
/// vocabulary, and the normalised text of an id.
pub struct DocTokens<'a> {
    stream: &'a StreamIndex,
    doc: usize,
}

impl<'a> DocTokens<'a> {
    /// The ids of tokens `from..to` of the document (cut at its end).
    pub fn ids(&self, from: usize, to: usize) -> Vec<u32> {
        self.stream.files.doc_token_ids(self.doc, from, to)
    }

    /// The normalised text of token id `id` (empty for an unknown id).
    pub fn text(&self, id: u32) -> &'a [u8] {
        self.stream.vocab.bytes(id)
    }
}

impl Index {
    fn live_shard(&self, addr: DocAddr) -> Result<&LiveShard> {
        let s = self.live_shards().get(addr.shard as usize).ok_or_else(|| {
            IndexError::Input(format!("no shard {} in this snapshot of {}", addr.shard, self.dir().display()))
        })?;
        if addr.doc as usize >= s.shard.docs.len() {
            return Err(IndexError::Input(format!("no document {} in shard {}", addr.doc, s.shard.name())));
        }
        Ok(s)
    }

    /// The document at `addr` (live or removed: a hit is always live, and an
    /// address from [`Index::docs`] or [`Index::find_doc`] too).
    pub fn doc(&self, addr: DocAddr) -> Result<Doc> {
        let (info, rights) = self.live_shard(addr)?.shard.doc(addr.doc as usize)?;
        Ok(Doc { addr, id: info.id, path: info.path, mode: info.mode, rights })
    }

    /// The external id of the document at `addr` (cheaper than [`Index::doc`]).
    pub fn doc_id(&self, addr: DocAddr) -> Result<String> {
        self.live_shard(addr)?.shard.docs.id(addr.doc as usize)
    }

    /// The stored text of the document at `addr`.
    pub fn doc_text(&self, addr: DocAddr) -> Result<String> {
        let s = self.live_shard(addr)?;
        let info = s.shard.docs.get(addr.doc as usize)?;
        s.shard.store.text(info.loc)
    }

    /// The tokens of the document at `addr` in `stream`, if its shard has the
    /// stream (a shard without code has no canonical stream) and the address
    /// exists.
    pub fn doc_tokens(&self, stream: Stream, addr: DocAddr) -> Option<DocTokens<'_>> {
        let s = self.live_shard(addr).ok()?;
        Some(DocTokens { stream: s.shard.stream(stream)?, doc: addr.doc as usize })
    }

    /// True if the document at `addr` exists and is not removed.
    pub fn is_live(&self, addr: DocAddr) -> bool {
        self.live_shard(addr).is_ok_and(|s| s.is_live(addr.doc as usize))
    }

    /// Every live document, shard by shard in manifest order.
    pub fn docs(&self) -> impl Iterator<Item = DocAddr> + '_ {
        self.live_shards().iter().enumerate().flat_map(|(si, s)| {
            (0..s.shard.docs.len()).filter(move |&d| s.is_live(d)).map(move |d| DocAddr::new(si, d))
        })
    }

    /// The live documents whose id is `id`, newest shard first (an id added
    /// again after its removal lives in a later shard). A hash lookup per
    /// shard, after each shard's first.
    pub fn find_docs(&self, id: &str) -> Result<Vec<DocAddr>> {
        let mut out = Vec::new();
        for (si, s) in self.live_shards().iter().enumerate().rev() {
            for d in s.shard.docs_with_id(id)? {
                if s.is_live(d as usize) {
                    out.push(DocAddr::new(si, d as usize));
                }
            }
        }
        Ok(out)
    }

    /// The newest live document whose id is `id`, if any.
    pub fn find_doc(&self, id: &str) -> Result<Option<DocAddr>> {
        Ok(self.find_docs(id)?.into_iter().next())
    }
}
