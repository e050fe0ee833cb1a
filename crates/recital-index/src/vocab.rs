//! Per-shard vocabularies: token string ↔ u32 id.
//!
//! Ids are assigned by descending frequency in the shard (id 0 is the document
//! separator, which no query can contain), so that the [`varint`](crate::varint)
//! stream spends one byte on the ~127 most frequent tokens. Each shard has its own
//! vocabulary: shards are built independently and in parallel, and a query token
//! unknown to a shard simply cannot occur in it.
//!
//! File body (`*.vocab`, kind `VOCAB`):
//! ```text
//! n u32 | sorted [u32; n] (ids in byte order of their strings) | offsets [u32; n+1] (by id) | string bytes
//! ```

use std::collections::HashMap;
use std::path::Path;

use crate::error::{IndexError, Result};
use crate::file::{self, MappedFile};

/// File kind tag of vocabulary files.
pub const KIND: &[u8; 8] = b"VOCAB\0\0\0";

/// The id of the document separator.
pub const SEPARATOR: u32 = 0;

/// Interns tokens while a shard is being built (temporary ids in order of first
/// appearance), then renumbers them by frequency.
pub struct VocabBuilder {
    map: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    strings: Vec<Box<str>>,
    counts: Vec<u64>,
}

impl Default for VocabBuilder {
    fn default() -> Self {
        Self { map: HashMap::default(), strings: vec!["".into()], counts: vec![0] }
    }
}

impl VocabBuilder {
    /// Temporary id of `tok`, interning it on first sight.
    #[inline]
    pub fn intern(&mut self, tok: &str) -> u32 {
        let id = match self.map.get(tok) {
            Some(&id) => id,
            None => {
                let id = self.strings.len() as u32;
                self.map.insert(tok.into(), id);
                self.strings.push(tok.into());
                self.counts.push(0);
                id
            }
        };
        self.counts[id as usize] += 1;
        id
    }

    /// Counts one separator.
    pub fn separator(&mut self) -> u32 {
        self.counts[0] += 1;
        SEPARATOR
    }

    /// Number of distinct entries so far, separator included.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when nothing but the separator is known.
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }

    /// Approximate heap bytes in use (for the shard-size budget).
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() * 2 + 48).sum::<usize>() + self.counts.len() * 8
    }

    /// Final ids by frequency: returns `(remap, body)` where `remap[temp] = final`
    /// and `body` is the vocabulary file body.
    pub fn finish(self) -> (Vec<u32>, Vec<u8>) {
        let n = self.strings.len();
        let mut order: Vec<u32> = (1..n as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            self.counts[b as usize]
                .cmp(&self.counts[a as usize])
                .then_with(|| self.strings[a as usize].cmp(&self.strings[b as usize]))
        });
        let mut remap = vec![0u32; n];
        let mut by_final: Vec<&str> = Vec::with_capacity(n);
        by_final.push("");
        for (rank, &temp) in order.iter().enumerate() {
            remap[temp as usize] = rank as u32 + 1;
            by_final.push(&self.strings[temp as usize]);
        }
        let body = encode_body(&by_final);
        (remap, body)
    }
}

/// Serialises a vocabulary given its strings in id order (id 0 = separator = "").
pub fn encode_body(by_id: &[&str]) -> Vec<u8> {
    let n = by_id.len();
    let mut sorted: Vec<u32> = (0..n as u32).collect();
    sorted.sort_unstable_by(|&a, &b| by_id[a as usize].as_bytes().cmp(by_id[b as usize].as_bytes()));
    let blob_len: usize = by_id.iter().map(|s| s.len()).sum();
    let mut body = Vec::with_capacity(4 + 8 * n + 4 + blob_len);
    body.extend_from_slice(&(n as u32).to_le_bytes());
    for id in &sorted {
        body.extend_from_slice(&id.to_le_bytes());
    }
    let mut off = 0u32;
    for s in by_id {
        body.extend_from_slice(&off.to_le_bytes());
        off += s.len() as u32;
    }
    body.extend_from_slice(&off.to_le_bytes());
    for s in by_id {
        body.extend_from_slice(s.as_bytes());
    }
    body
}

/// A memory-mapped vocabulary.
pub struct Vocab {
    file: MappedFile,
    n: usize,
}

impl Vocab {
    /// Writes a vocabulary file.
    pub fn write(path: &Path, body: &[u8]) -> Result<()> {
        file::write_file(path, KIND, body)
    }

    /// Maps and validates a vocabulary file.
    pub fn open(path: &Path) -> Result<Self> {
        let file = MappedFile::open(path, KIND)?;
        let body = file.body();
        let bad = |why: &str| IndexError::Corrupt { path: path.to_owned(), why: why.into() };
        let n = read_u32(body, 0).ok_or_else(|| bad("vocabulary header missing"))? as usize;
        let fixed = 4 + 4 * n + 4 * (n + 1);
        if body.len() < fixed {
            return Err(bad("vocabulary tables truncated"));
        }
        let blob = read_u32(body, 4 + 4 * n + 4 * n).unwrap_or(u32::MAX) as usize;
        if body.len() != fixed + blob {
            return Err(bad("vocabulary string table length mismatch"));
        }
        Ok(Self { file, n })
    }

    /// Number of entries, separator included.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the vocabulary holds only the separator.
    pub fn is_empty(&self) -> bool {
        self.n <= 1
    }

    fn sorted_id(&self, i: usize) -> u32 {
        read_u32(self.file.body(), 4 + 4 * i).unwrap_or(0)
    }

    /// The string of id `id` (empty for the separator or an out-of-range id).
    pub fn string(&self, id: u32) -> &str {
        let body = self.file.body();
        let id = id as usize;
        if id >= self.n {
            return "";
        }
        let base = 4 + 4 * self.n;
        let (Some(a), Some(b)) = (read_u32(body, base + 4 * id), read_u32(body, base + 4 * id + 4)) else {
            return "";
        };
        let blob = base + 4 * (self.n + 1);
        body.get(blob + a as usize..blob + b as usize).and_then(|s| std::str::from_utf8(s).ok()).unwrap_or("")
    }

    /// The id of `tok`, if the shard has it.
    pub fn id(&self, tok: &str) -> Option<u32> {
        if tok.is_empty() {
            return None;
        }
        let (mut lo, mut hi) = (0usize, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let id = self.sorted_id(mid);
            match self.string(id).as_bytes().cmp(tok.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(id),
            }
        }
        None
    }

    /// The mapped file (for verification and sizes).
    pub fn file(&self) -> &MappedFile {
        &self.file
    }
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_order_and_lookup() {
        let mut b = VocabBuilder::default();
        let toks = ["b", "a", "the", "the", "the", ".", "."];
        let temp: Vec<u32> = toks.iter().map(|t| b.intern(t)).collect();
        b.separator();
        let (remap, body) = b.finish();
        let fin: Vec<u32> = temp.iter().map(|&t| remap[t as usize]).collect();
        assert_eq!(fin, vec![4, 3, 1, 1, 1, 2, 2]);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("v.vocab");
        Vocab::write(&p, &body).unwrap();
        let v = Vocab::open(&p).unwrap();
        assert_eq!(v.len(), 5);
        for (t, id) in toks.iter().zip(&fin) {
            assert_eq!(v.id(t), Some(*id));
            assert_eq!(v.string(*id), *t);
        }
        assert_eq!(v.id("zzz"), None);
        assert_eq!(v.id(""), None);
    }
}
