//! A shard: an immutable directory holding the streams, vocabularies, document
//! table, document store and rights table of a set of documents.
//!
//! ```text
//! shard-000001/
//!   text.tok text.sa text.starts text.vocab     word/punctuation stream
//!   canon.tok canon.sa canon.starts canon.vocab canonical code stream (if any code)
//!   docs.tab docs.zst rights.json
//! ```
//! Like a tantivy segment, a shard is written once into a temporary directory,
//! fsynced and renamed into place; it is never modified afterwards. Additions are
//! new (delta) shards; removals are tombstones kept beside it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::docstore::DocStore;
use crate::doctable::{DocInfo, DocTable};
use crate::error::{IndexError, Result};
use crate::file::{self, MappedFile};
use crate::rights::Rights;
use crate::stream::{Stream, StreamFiles};
use crate::varint;
use crate::vocab::Vocab;

/// Kind tag of the rights table file.
pub const RIGHTS_KIND: &[u8; 8] = b"RIGHTS\0\0";

/// A stream with its vocabulary.
pub struct StreamIndex {
    /// Token, suffix-array and start files.
    pub files: StreamFiles,
    /// The stream's vocabulary.
    pub vocab: Vocab,
}

impl StreamIndex {
    fn open(dir: &Path, stream: Stream) -> Result<Self> {
        Ok(Self {
            files: StreamFiles::open(dir, stream)?,
            vocab: Vocab::open(&dir.join(format!("{}.vocab", stream.name())))?,
        })
    }

    /// Encodes a token sequence in this shard's ids; `None` if a token is unknown
    /// here (the sequence then cannot occur in this shard).
    pub fn encode<S: AsRef<str>>(&self, toks: &[S]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(toks.len() * 2);
        for t in toks {
            varint::encode(self.vocab.id(t.as_ref())?, &mut out);
        }
        Some(out)
    }

    /// Token strings `from..to` of document `doc`, straight from the index (no
    /// document text is fetched or tokenised).
    pub fn doc_tokens(&self, doc: usize, from: usize, to: usize) -> Vec<&[u8]> {
        self.files.doc_token_ids(doc, from, to).into_iter().map(|id| self.vocab.bytes(id)).collect()
    }

    /// Encodes the longest prefix of `toks` whose tokens are all known here.
    pub fn encode_prefix<S: AsRef<str>>(&self, toks: &[S]) -> Vec<u8> {
        let mut out = Vec::with_capacity(toks.len() * 2);
        for t in toks {
            match self.vocab.id(t.as_ref()) {
                Some(id) => varint::encode(id, &mut out),
                None => break,
            }
        }
        out
    }
}

/// An opened shard.
pub struct Shard {
    name: String,
    dir: PathBuf,
    /// The document table.
    pub docs: DocTable,
    /// The document store.
    pub store: DocStore,
    /// Rights records, indexed by [`DocInfo::rights`].
    pub rights: Vec<Rights>,
    /// The text stream.
    pub text: StreamIndex,
    /// The canonical code stream, if the shard has code.
    pub canon: Option<StreamIndex>,
    /// The full checksum, done once, on first use ([`Shard::verify_once`]).
    checked: OnceLock<std::result::Result<(), String>>,
    /// Documents by the hash of their id, built on the first lookup
    /// ([`Shard::docs_with_id`]).
    by_id: OnceLock<Result<IdTable>>,
}

/// Document numbers by the 64-bit hash of their id; a hit is confirmed
/// against the table (a hash is not an id).
type IdTable = hashbrown::HashMap<u64, Vec<u32>, foldhash::fast::FixedState>;

impl Shard {
    /// Opens the shard directory `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let name = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let docs = DocTable::open(&dir.join("docs.tab"))?;
        let store = DocStore::open(&dir.join("docs.zst"))?;
        let rights_file = MappedFile::open(&dir.join("rights.json"), RIGHTS_KIND)?;
        let rights: Vec<Rights> = serde_json::from_slice(rights_file.body()).map_err(|e| {
            IndexError::Corrupt { path: rights_file.path().to_owned(), why: format!("rights table: {e}") }
        })?;
        let text = StreamIndex::open(dir, Stream::Text)?;
        let canon =
            if dir.join("canon.tok").exists() { Some(StreamIndex::open(dir, Stream::Canon)?) } else { None };
        let check = |s: &StreamIndex| {
            if s.files.docs() != docs.len() {
                return Err(IndexError::Corrupt {
                    path: dir.to_owned(),
                    why: format!("stream has {} documents, table has {}", s.files.docs(), docs.len()),
                });
            }
            Ok(())
        };
        check(&text)?;
        if let Some(c) = &canon {
            check(c)?;
        }
        Ok(Self {
            name,
            dir: dir.to_owned(),
            docs,
            store,
            rights,
            text,
            canon,
            checked: OnceLock::new(),
            by_id: OnceLock::new(),
        })
    }

    /// Writes the rights table of a shard being built.
    pub fn write_rights(dir: &Path, rights: &[Rights]) -> Result<()> {
        let body = serde_json::to_vec(rights).map_err(|e| IndexError::Input(e.to_string()))?;
        file::write_file(&dir.join("rights.json"), RIGHTS_KIND, &body)
    }

    /// The shard's directory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shard's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A stream, if present.
    pub fn stream(&self, s: Stream) -> Option<&StreamIndex> {
        match s {
            Stream::Text => Some(&self.text),
            Stream::Canon => self.canon.as_ref(),
        }
    }

    /// Document info with its rights record.
    pub fn doc(&self, doc: usize) -> Result<(DocInfo, Rights)> {
        let info = self.docs.get(doc)?;
        let rights = self.rights.get(info.rights as usize).cloned().unwrap_or_default();
        Ok((info, rights))
    }

    /// The documents of this shard whose id is `id`, live or not, in order.
    /// The first call reads every id once (O(documents)); later calls are a
    /// hash lookup. A shard is immutable, so the table never goes stale.
    pub fn docs_with_id(&self, id: &str) -> Result<Vec<u32>> {
        let table = self.by_id.get_or_init(|| {
            let mut t = IdTable::default();
            for d in 0..self.docs.len() {
                t.entry(xxhash_rust::xxh3::xxh3_64(self.docs.id(d)?.as_bytes())).or_default().push(d as u32);
            }
            Ok(t)
        });
        let table = table.as_ref().map_err(|e| IndexError::Corrupt {
            path: self.dir.join("docs.tab"),
            why: format!("reading document ids: {e}"),
        })?;
        let Some(docs) = table.get(&xxhash_rust::xxh3::xxh3_64(id.as_bytes())) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for &d in docs {
            if self.docs.id(d as usize)? == id {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// [`Shard::verify`], once per process: opening checks only the small
    /// files (a full read of a large one would dominate a cold query), so the
    /// first query checks the rest and a corrupted shard is refused, with its
    /// file named, instead of searched. Later calls repeat the first answer;
    /// concurrent first calls wait for the one that reads.
    pub fn verify_once(&self) -> Result<()> {
        match self.checked.get_or_init(|| self.verify().map_err(|e| e.to_string())) {
            Ok(()) => Ok(()),
            Err(why) => Err(IndexError::Input(format!(
                "{why} (run `recital index verify`; rebuild or restore the index)"
            ))),
        }
    }

    /// Verifies every checksum of the shard, its files side by side
    /// (`file::verify_all`).
    pub fn verify(&self) -> Result<()> {
        let mut files = vec![self.docs.file(), self.store.file()];
        for s in std::iter::once(&self.text).chain(&self.canon) {
            files.extend(s.files.files());
            files.push(s.vocab.file());
        }
        file::verify_all(&files)
    }

    /// Bytes on disk.
    pub fn disk_bytes(&self) -> u64 {
        let s = |x: &StreamIndex| x.files.disk_bytes() + x.vocab.file().file_len();
        self.docs.file().file_len()
            + self.store.file().file_len()
            + s(&self.text)
            + self.canon.as_ref().map(s).unwrap_or(0)
    }
}
