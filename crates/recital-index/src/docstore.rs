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

/// Decompressed blocks kept per store: the sources of a scan cluster in few
/// documents, and popular documents recur across requests.
const CACHED_BLOCKS: usize = 32;

/// A mapped document store.
pub struct DocStore {
    file: MappedFile,
    nblocks: usize,
    /// Most recently used decompressed blocks, newest last.
    cache: std::sync::Mutex<Vec<(u32, std::sync::Arc<Vec<u8>>)>>,
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
        let s = Self { file, nblocks, cache: std::sync::Mutex::new(Vec::with_capacity(CACHED_BLOCKS)) };
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

    /// One decompressed block, from the cache when it is there.
    pub fn cached_block(&self, i: u32) -> Result<std::sync::Arc<Vec<u8>>> {
        if let Ok(mut c) = self.cache.lock() {
            if let Some(pos) = c.iter().position(|(b, _)| *b == i) {
                let e = c.remove(pos);
                let data = e.1.clone();
                c.push(e);
                return Ok(data);
            }
        }
        let data = std::sync::Arc::new(self.block(i)?);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHED_BLOCKS {
                c.remove(0);
            }
            c.push((i, data.clone()));
        }
        Ok(data)
    }

    /// Decompresses one block.
    pub fn block(&self, i: u32) -> Result<Vec<u8>> {
        let bad = |why: String| IndexError::Corrupt { path: self.file.path().to_owned(), why };
        let i = i as usize;
        if i >= self.nblocks {
            return Err(bad(format!("block {i} out of range ({} blocks)", self.nblocks)));
        }
        let (a, b) =
            (self.block_offset(i).unwrap_or(0) as usize, self.block_offset(i + 1).unwrap_or(0) as usize);
        let data = self.file.body().get(a..b).ok_or_else(|| bad(format!("block {i} out of bounds")))?;
        zstd::stream::decode_all(data).map_err(|e| bad(format!("block {i}: {e}")))
    }

    /// The first `upto` bytes of a document (all of it if shorter), decoding its
    /// block only as far as needed unless the block is cached: a snippet near
    /// the start of a long document does not pay for the rest of it.
    pub fn text_prefix(&self, loc: DocLoc, upto: usize) -> Result<String> {
        if upto >= loc.len as usize {
            return self.text(loc);
        }
        if let Ok(c) = self.cache.lock() {
            if let Some((_, block)) = c.iter().find(|(b, _)| *b == loc.block) {
                let a = loc.offset as usize;
                let bytes = block.get(a..a + upto).unwrap_or(&[]);
                return Ok(String::from_utf8_lossy(bytes).into_owned());
            }
        }
        let bad = |why: String| IndexError::Corrupt { path: self.file.path().to_owned(), why };
        let i = loc.block as usize;
        if i >= self.nblocks {
            return Err(bad(format!("block {i} out of range ({} blocks)", self.nblocks)));
        }
        let (a, b) =
            (self.block_offset(i).unwrap_or(0) as usize, self.block_offset(i + 1).unwrap_or(0) as usize);
        let data = self.file.body().get(a..b).ok_or_else(|| bad(format!("block {i} out of bounds")))?;
        let want = loc.offset as usize + upto;
        let mut out = Vec::with_capacity(want);
        let dec =
            zstd::stream::read::Decoder::with_buffer(data).map_err(|e| bad(format!("block {i}: {e}")))?;
        std::io::Read::read_to_end(&mut std::io::Read::take(dec, want as u64), &mut out)
            .map_err(|e| bad(format!("block {i}: {e}")))?;
        let bytes = out.get(loc.offset as usize..).unwrap_or(&[]);
        // A cut inside a character decodes lossily at the very end only.
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The text of a document.
    pub fn text(&self, loc: DocLoc) -> Result<String> {
        if loc.len == 0 {
            // Empty documents may point at a block that was never written.
            return Ok(String::new());
        }
        let block = self.cached_block(loc.block)?;
        let bytes =
            block.get(loc.offset as usize..(loc.offset as usize + loc.len as usize)).ok_or_else(|| {
                IndexError::Corrupt {
                    path: self.file.path().to_owned(),
                    why: "document outside its block".into(),
                }
            })?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
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
}
