//! The document store: original document text, zstd-compressed in blocks.
//!
//! Why blocks: snippets, redaction evidence and compaction need the caller's
//! original bytes (the token streams are normalised and lossy). Compressing each
//! small document alone wastes the ratio; blocks of ≥ [`BLOCK_BYTES`] give zstd
//! enough context while one snippet costs one block decompression.
//!
//! Body (`docs.zst`, kind `DOCSTORE`): compressed blocks back to back, then
//! `[u64; nblocks + 1]` block offsets, then `nblocks: u64`.

use std::path::Path;

use crate::error::{IndexError, Result};
use crate::file::{EnvelopeWriter, MappedFile};

/// File kind tag.
pub const KIND: &[u8; 8] = b"DOCSTORE";
/// Raw bytes gathered before a block is compressed.
pub const BLOCK_BYTES: usize = 64 * 1024;
const LEVEL: i32 = 3;

/// Where a document's text lives in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocLoc {
    /// Block number.
    pub block: u32,
    /// Offset inside the decompressed block.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Streams documents into a store file.
pub struct DocStoreWriter {
    out: EnvelopeWriter,
    buf: Vec<u8>,
    offsets: Vec<u64>,
    written: u64,
    compressor: zstd::bulk::Compressor<'static>,
}

impl DocStoreWriter {
    /// Creates the store file.
    pub fn create(path: &Path) -> Result<Self> {
        let compressor = zstd::bulk::Compressor::new(LEVEL).map_err(|e| IndexError::io(path, e))?;
        Ok(Self {
            out: EnvelopeWriter::create(path, KIND)?,
            buf: Vec::with_capacity(BLOCK_BYTES * 2),
            offsets: vec![0],
            written: 0,
            compressor,
        })
    }

    /// Appends one document.
    pub fn add(&mut self, text: &[u8]) -> Result<DocLoc> {
        if !self.buf.is_empty() && self.buf.len() + text.len() > BLOCK_BYTES * 4 {
            self.flush_block()?;
        }
        if text.len() as u64 > u32::MAX as u64 {
            return Err(IndexError::Input(format!(
                "document of {} bytes exceeds the 4 GiB limit",
                text.len()
            )));
        }
        let loc = DocLoc {
            block: (self.offsets.len() - 1) as u32,
            offset: self.buf.len() as u32,
            len: text.len() as u32,
        };
        self.buf.extend_from_slice(text);
        if self.buf.len() >= BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(loc)
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let c = self.compressor.compress(&self.buf).map_err(|e| IndexError::Input(format!("zstd: {e}")))?;
        self.out.write(&c)?;
        self.written += c.len() as u64;
        self.offsets.push(self.written);
        self.buf.clear();
        Ok(())
    }

    /// Writes the block table and footer.
    pub fn finish(mut self) -> Result<()> {
        self.flush_block()?;
        let mut tail = Vec::with_capacity(self.offsets.len() * 8 + 8);
        for o in &self.offsets {
            tail.extend_from_slice(&o.to_le_bytes());
        }
        tail.extend_from_slice(&((self.offsets.len() - 1) as u64).to_le_bytes());
        self.out.write(&tail)?;
        self.out.finish()
    }
}

/// Decompressed bytes kept per store: the sources of a scan cluster in few
/// documents, and popular documents recur across requests. Blocks are 64–256
/// KiB, so this holds a few hundred of them; least recently used go first.
pub const CACHE_BYTES: usize = 64 << 20;
/// Blocks larger than this (one very long document) are never decoded whole
/// for a snippet, nor cached: [`DocStore::text_prefix`] decodes only as far as
/// it needs.
const MAX_CACHED_BLOCK: usize = 4 << 20;

/// A decompressed block: checked as UTF-8 once when decoded (documents are
/// stored whole, so a valid block slices into valid documents, and a hit need
/// not validate its document again).
pub enum Block {
    /// Valid UTF-8 (always, unless the store is corrupt).
    Utf8(String),
    /// Anything else, decoded lossily per document.
    Raw(Vec<u8>),
}

impl Block {
    fn new(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(s) => Block::Utf8(s),
            Err(e) => Block::Raw(e.into_bytes()),
        }
    }

    /// The decompressed bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Block::Utf8(s) => s.as_bytes(),
            Block::Raw(b) => b,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }
}

/// Decompressed blocks, least recently used evicted once over `budget` bytes.
struct BlockCache {
    blocks: std::collections::HashMap<u32, (std::sync::Arc<Block>, u64)>,
    bytes: usize,
    budget: usize,
    tick: u64,
}

impl BlockCache {
    fn new(budget: usize) -> Self {
        Self { blocks: Default::default(), bytes: 0, budget, tick: 0 }
    }

    fn get(&mut self, i: u32) -> Option<std::sync::Arc<Block>> {
        self.tick += 1;
        let tick = self.tick;
        self.blocks.get_mut(&i).map(|e| {
            e.1 = tick;
            e.0.clone()
        })
    }

    fn insert(&mut self, i: u32, data: std::sync::Arc<Block>) {
        self.tick += 1;
        self.bytes += data.len();
        if let Some(old) = self.blocks.insert(i, (data, self.tick)) {
            self.bytes -= old.0.len();
        }
        while self.bytes > self.budget && self.blocks.len() > 1 {
            // O(blocks) per eviction: a few hundred entries, once per miss.
            let Some((&victim, _)) = self.blocks.iter().filter(|(&b, _)| b != i).min_by_key(|(_, e)| e.1)
            else {
                break;
            };
            if let Some(e) = self.blocks.remove(&victim) {
                self.bytes -= e.0.len();
            }
        }
    }
}

thread_local! {
    /// One zstd decompression context per thread, reused for every block
    /// (creating one costs as much as decoding a small block).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    /// The same for the streaming (prefix) path.
    static DCTX: std::cell::RefCell<Option<zstd::zstd_safe::DCtx<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A document's text inside a shared decompressed block (no copy).
#[derive(Clone)]
pub struct DocText {
    block: std::sync::Arc<Block>,
    range: std::ops::Range<usize>,
}

impl DocText {
    /// The document's bytes (UTF-8 unless the store is corrupt).
    pub fn bytes(&self) -> &[u8] {
        &self.block.bytes()[self.range.clone()]
    }

    /// The text (borrowed; decoded lossily only from a corrupt store).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &*self.block {
            Block::Utf8(s) => match s.get(self.range.clone()) {
                Some(t) => std::borrow::Cow::Borrowed(t),
                None => String::from_utf8_lossy(self.bytes()),
            },
            Block::Raw(_) => String::from_utf8_lossy(self.bytes()),
        }
    }
}

/// A mapped document store.
pub struct DocStore {
    file: MappedFile,
    nblocks: usize,
    cache: std::sync::Mutex<BlockCache>,
}

impl DocStore {
    /// Maps and validates the store.
    pub fn open(path: &Path) -> Result<Self> {
        let file = MappedFile::open(path, KIND)?;
        let body = file.body();
        let bad = |why: String| IndexError::Corrupt { path: path.to_owned(), why };
        if body.len() < 16 {
            return Err(bad("document store block table missing".into()));
        }
        let nblocks = u64::from_le_bytes(body[body.len() - 8..].try_into().unwrap()) as usize;
        let table_len = nblocks.checked_add(1).and_then(|n| n.checked_mul(8)).unwrap_or(usize::MAX);
        if table_len.saturating_add(8) > body.len() {
            return Err(bad(format!("document store claims {nblocks} blocks, too many for its size")));
        }
        let data_len = (body.len() - 8 - table_len) as u64;
        let s = Self { file, nblocks, cache: std::sync::Mutex::new(BlockCache::new(CACHE_BYTES)) };
        if s.block_offset(nblocks) != Some(data_len) {
            return Err(bad("document store block table does not match its data".into()));
        }
        Ok(s)
    }

    fn block_offset(&self, i: usize) -> Option<u64> {
        let body = self.file.body();
        let table = body.len() - 8 - (self.nblocks + 1) * 8;
        body.get(table + i * 8..table + i * 8 + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }

    fn bad(&self, why: String) -> IndexError {
        IndexError::Corrupt { path: self.file.path().to_owned(), why }
    }

    /// The compressed bytes of block `i`.
    fn compressed(&self, i: u32) -> Result<&[u8]> {
        let i = i as usize;
        if i >= self.nblocks {
            return Err(self.bad(format!("block {i} out of range ({} blocks)", self.nblocks)));
        }
        let (a, b) =
            (self.block_offset(i).unwrap_or(0) as usize, self.block_offset(i + 1).unwrap_or(0) as usize);
        self.file.body().get(a..b).ok_or_else(|| self.bad(format!("block {i} out of bounds")))
    }

    fn lookup(&self, i: u32) -> Option<std::sync::Arc<Block>> {
        self.cache.lock().ok().and_then(|mut c| c.get(i))
    }

    /// One decompressed block, from the cache when it is there.
    pub fn cached_block(&self, i: u32) -> Result<std::sync::Arc<Block>> {
        if let Some(b) = self.lookup(i) {
            return Ok(b);
        }
        let data = std::sync::Arc::new(Block::new(self.block(i)?));
        if data.len() <= MAX_CACHED_BLOCK {
            if let Ok(mut c) = self.cache.lock() {
                c.insert(i, data.clone());
            }
        }
        Ok(data)
    }

    /// Decompresses one block (with this thread's reused context).
    pub fn block(&self, i: u32) -> Result<Vec<u8>> {
        let data = self.compressed(i)?;
        let bad = |e: std::io::Error| self.bad(format!("block {i}: {e}"));
        // Blocks are written whole by `Compressor::compress`, which records
        // the decompressed size; fall back to streaming if one does not.
        let Some(size) = zstd::bulk::Decompressor::upper_bound(data) else {
            return zstd::stream::decode_all(data).map_err(bad);
        };
        DECOMPRESSOR.with(|d| {
            let mut d = d.borrow_mut();
            if d.is_none() {
                *d = Some(zstd::bulk::Decompressor::new().map_err(bad)?);
            }
            let d = d.as_mut().expect("just created");
            d.decompress(data, size).map_err(bad)
        })
    }

    /// Decompressed size of block `i` as its frame records it.
    fn block_size(&self, i: u32) -> Result<Option<usize>> {
        Ok(zstd::bulk::Decompressor::upper_bound(self.compressed(i)?))
    }

    /// A document's text, borrowed from its (cached) block. A document in a
    /// block too large to cache is decoded alone.
    pub fn doc_text(&self, loc: DocLoc) -> Result<DocText> {
        if loc.len == 0 {
            // Empty documents may point at a block that was never written.
            return Ok(DocText { block: std::sync::Arc::new(Block::Raw(Vec::new())), range: 0..0 });
        }
        let block = self.cached_block(loc.block)?;
        let range = loc.offset as usize..loc.offset as usize + loc.len as usize;
        if block.bytes().get(range.clone()).is_none() {
            return Err(self.bad("document outside its block".into()));
        }
        Ok(DocText { block, range })
    }

    /// A document's text if its block is cached or small enough to be: `None`
    /// for a document in a block too large to cache (use [`Self::text_prefix`]).
    pub fn cached_doc_text(&self, loc: DocLoc) -> Result<Option<DocText>> {
        if loc.len == 0 || self.lookup(loc.block).is_some() {
            return self.doc_text(loc).map(Some);
        }
        if self.block_size(loc.block)?.is_some_and(|n| n <= MAX_CACHED_BLOCK) {
            return self.doc_text(loc).map(Some);
        }
        Ok(None)
    }

    /// The first `upto` bytes of a document (all of it if shorter). A block
    /// small enough to cache is decoded whole and cached (the next snippet from
    /// it is free); a larger one is decoded only as far as needed, so a
    /// snippet near the start of a very long document does not pay for the
    /// rest of it.
    pub fn text_prefix(&self, loc: DocLoc, upto: usize) -> Result<String> {
        if upto >= loc.len as usize {
            return self.text(loc);
        }
        let cut = |block: &[u8]| {
            let a = loc.offset as usize;
            // A cut inside a character decodes lossily at the very end only.
            String::from_utf8_lossy(block.get(a..a + upto).unwrap_or(&[])).into_owned()
        };
        if let Some(block) = self.lookup(loc.block) {
            return Ok(cut(block.bytes()));
        }
        if self.block_size(loc.block)?.is_some_and(|n| n <= MAX_CACHED_BLOCK) {
            return Ok(cut(self.cached_block(loc.block)?.bytes()));
        }
        let i = loc.block;
        let data = self.compressed(i)?;
        let bad = |e: String| self.bad(format!("block {i}: {e}"));
        let want = loc.offset as usize + upto;
        let mut out: Vec<u8> = Vec::with_capacity(want);
        DCTX.with(|c| -> Result<()> {
            let mut c = c.borrow_mut();
            let dctx = c.get_or_insert_with(zstd::zstd_safe::DCtx::create);
            dctx.reset(zstd::zstd_safe::ResetDirective::SessionOnly)
                .map_err(|e| bad(zstd::zstd_safe::get_error_name(e).to_string()))?;
            let mut input = zstd::zstd_safe::InBuffer::around(data);
            // `out` never grows past its capacity `want`: the stream stops there.
            while out.len() < want {
                let before = out.len();
                let mut output = zstd::zstd_safe::OutBuffer::around_pos(&mut out, before);
                let hint = dctx
                    .decompress_stream(&mut output, &mut input)
                    .map_err(|e| bad(zstd::zstd_safe::get_error_name(e).to_string()))?;
                let stalled = output.pos() == before && input.pos() == data.len();
                if hint == 0 || stalled {
                    break;
                }
            }
            Ok(())
        })?;
        out.truncate(want);
        let bytes = out.get(loc.offset as usize..).unwrap_or(&[]);
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The text of a document.
    pub fn text(&self, loc: DocLoc) -> Result<String> {
        Ok(self.doc_text(loc)?.text().into_owned())
    }

    /// The mapped file.
    pub fn file(&self) -> &MappedFile {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_across_blocks_and_empty_documents() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("docs.zst");
        let mut w = DocStoreWriter::create(&p).unwrap();
        let docs: Vec<String> = (0..300)
            .map(|i| if i % 7 == 0 { String::new() } else { format!("doc {i} ").repeat(i * 13) })
            .collect();
        let locs: Vec<DocLoc> = docs.iter().map(|t| w.add(t.as_bytes()).unwrap()).collect();
        w.finish().unwrap();
        let s = DocStore::open(&p).unwrap();
        for (t, l) in docs.iter().zip(&locs) {
            assert_eq!(&s.text(*l).unwrap(), t);
        }
        assert!(locs.last().unwrap().block > 1, "several blocks");
        for (t, l) in docs.iter().zip(&locs).step_by(17) {
            let k = t.len() / 3;
            let got = s.text_prefix(*l, k).unwrap();
            assert_eq!(got.as_bytes(), &t.as_bytes()[..k], "prefix of a document");
        }
        // A store holding only empty documents has no blocks at all.
        let p2 = d.path().join("empty.zst");
        let mut w = DocStoreWriter::create(&p2).unwrap();
        let l = w.add(b"").unwrap();
        w.finish().unwrap();
        assert_eq!(DocStore::open(&p2).unwrap().text(l).unwrap(), "");
    }

    #[test]
    fn a_block_too_large_to_cache_is_decoded_as_far_as_needed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("docs.zst");
        let mut w = DocStoreWriter::create(&p).unwrap();
        let small = "a small document before the large one ".repeat(10);
        let large: String = (0..(MAX_CACHED_BLOCK / 8)).map(|i| format!("w{:06}é ", i % 999_983)).collect();
        assert!(large.len() > MAX_CACHED_BLOCK);
        let ls = w.add(small.as_bytes()).unwrap();
        let ll = w.add(large.as_bytes()).unwrap();
        w.finish().unwrap();
        let s = DocStore::open(&p).unwrap();
        for upto in [0, 1, 9, 1000, 70_000, large.len() - 1] {
            let got = s.text_prefix(ll, upto).unwrap();
            assert_eq!(got, String::from_utf8_lossy(&large.as_bytes()[..upto]), "prefix of {upto} bytes");
        }
        assert_eq!(s.text(ll).unwrap(), large);
        assert_eq!(s.text_prefix(ls, 5).unwrap(), &small[..5]);
        assert_eq!(&*s.doc_text(ls).unwrap().text(), small);
    }

    #[test]
    fn the_block_cache_evicts_the_least_recently_used() {
        let mut c = BlockCache::new(300);
        let b = |n: usize| std::sync::Arc::new(Block::new(vec![b'x'; n]));
        c.insert(1, b(100));
        c.insert(2, b(100));
        c.insert(3, b(100));
        assert!(c.get(1).is_some(), "1 used last");
        c.insert(4, b(100));
        assert!(c.get(2).is_none(), "2 was least recently used");
        assert!(c.get(1).is_some() && c.get(3).is_some() && c.get(4).is_some());
        assert_eq!(c.bytes, 300);
        // One block larger than the budget stays (the one just inserted).
        c.insert(5, b(1000));
        assert!(c.get(5).is_some());
        assert_eq!(c.blocks.len(), 1);
    }
}
