//! Per-shard vocabularies: token string ↔ u32 id.
//!
//! Ids are assigned by descending frequency in the shard (id 0 is the document
//! separator, which no query can contain), so that the [`varint`](crate::varint)
//! stream spends one byte on the ~127 most frequent tokens. Each shard has its own
//! vocabulary: shards are built independently, and a query token unknown to a
//! shard simply cannot occur in it.
//!
//! Lookups go through an open-addressing hash table stored in the file (xxh3 of
//! the string, linear probing, load ≤ ½): one or two cache misses per token,
//! where a binary search over millions of strings costs twenty — it dominated
//! the latency of long queries before (benchmarks in `bench/RESULTS.md`).
//!
//! File body (`*.vocab`, kind `VOCAB`):
//! ```text
//! n u32 | slots u32 | offsets [u32; n+1] (by id) | table [u32; slots] (id+1, 0 = empty) | string bytes
//! ```

use std::path::Path;

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{IndexError, Result};
use crate::file::{self, MappedFile};

/// File kind tag of vocabulary files.
pub const KIND: &[u8; 8] = b"VOCAB\0\0\0";

/// The id of the document separator.
pub const SEPARATOR: u32 = 0;

/// Interns tokens while a shard is being built (temporary ids in order of first
/// appearance), then renumbers them by frequency. Strings live once, in an
/// arena; the table holds only ids (memory is part of the build budget).
pub struct VocabBuilder {
    table: HashTable<u32>,
    arena: String,
    ends: Vec<u32>,
    counts: Vec<u64>,
}

impl Default for VocabBuilder {
    fn default() -> Self {
        Self { table: HashTable::new(), arena: String::new(), ends: vec![0], counts: vec![0] }
    }
}

impl VocabBuilder {
    fn get(&self, id: u32) -> &str {
        let id = id as usize;
        if id == 0 {
            return "";
        }
        &self.arena[self.ends[id - 1] as usize..self.ends[id] as usize]
    }

    /// Temporary id of `tok`, interning it on first sight.
    #[inline]
    pub fn intern(&mut self, tok: &str) -> u32 {
        let h = xxh3_64(tok.as_bytes());
        let Self { table, arena, ends, counts } = self;
        let str_of = |id: u32| {
            let id = id as usize;
            &arena[ends[id - 1] as usize..ends[id] as usize]
        };
        let id = match table.find(h, |&id| str_of(id) == tok) {
            Some(&id) => id,
            None => {
                let id = ends.len() as u32;
                arena.push_str(tok);
                ends.push(arena.len() as u32);
                counts.push(0);
                let (a, e) = (&*arena, &*ends);
                table.insert_unique(h, id, |&x| {
                    let x = x as usize;
                    xxh3_64(&a.as_bytes()[e[x - 1] as usize..e[x] as usize])
                });
                id
            }
        };
        counts[id as usize] += 1;
        id
    }

    /// Counts one separator.
    pub fn separator(&mut self) -> u32 {
        self.counts[0] += 1;
        SEPARATOR
    }

    /// Final ids by frequency: returns `(remap, body)` where `remap[temp] = final`
    /// and `body` is the vocabulary file body.
    pub fn finish(self) -> (Vec<u32>, Vec<u8>) {
        let n = self.ends.len();
        let mut order: Vec<u32> = (1..n as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            self.counts[b as usize].cmp(&self.counts[a as usize]).then_with(|| self.get(a).cmp(self.get(b)))
        });
        let mut remap = vec![0u32; n];
        let mut by_final: Vec<&str> = Vec::with_capacity(n);
        by_final.push("");
        for (rank, &temp) in order.iter().enumerate() {
            remap[temp as usize] = rank as u32 + 1;
            by_final.push(self.get(temp));
        }
        let body = encode_body(&by_final);
        (remap, body)
    }
}

/// Serialises a vocabulary given its strings in id order (id 0 = separator = "").
pub fn encode_body(by_id: &[&str]) -> Vec<u8> {
    let n = by_id.len();
    let slots = (2 * n).next_power_of_two().max(2);
    let mask = slots - 1;
    let mut table = vec![0u32; slots];
    for (id, s) in by_id.iter().enumerate().skip(1) {
        let mut i = xxh3_64(s.as_bytes()) as usize & mask;
        while table[i] != 0 {
            i = (i + 1) & mask;
        }
        table[i] = id as u32 + 1;
    }
    let blob_len: usize = by_id.iter().map(|s| s.len()).sum();
    let mut body = Vec::with_capacity(8 + 4 * (n + 1) + 4 * slots + blob_len);
    body.extend_from_slice(&(n as u32).to_le_bytes());
    body.extend_from_slice(&(slots as u32).to_le_bytes());
    let mut off = 0u32;
    for s in by_id {
        body.extend_from_slice(&off.to_le_bytes());
        off += s.len() as u32;
    }
    body.extend_from_slice(&off.to_le_bytes());
    for t in table {
        body.extend_from_slice(&t.to_le_bytes());
    }
    for s in by_id {
        body.extend_from_slice(s.as_bytes());
    }
    body
}

/// A memory-mapped vocabulary.
pub struct Vocab {
    file: MappedFile,
    n: usize,
    slots: usize,
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
        let slots = read_u32(body, 4).ok_or_else(|| bad("vocabulary header missing"))? as usize;
        if !slots.is_power_of_two() || slots < n {
            return Err(bad("vocabulary hash table has a bad size"));
        }
        let fixed = 8usize
            .saturating_add(n.saturating_add(1).saturating_mul(4))
            .saturating_add(slots.saturating_mul(4));
        if body.len() < fixed {
            return Err(bad("vocabulary tables truncated"));
        }
        let blob = read_u32(body, 8 + 4 * n).unwrap_or(u32::MAX) as usize;
        if body.len() != fixed + blob {
            return Err(bad("vocabulary string table length mismatch"));
        }
        Ok(Self { file, n, slots })
    }

    /// Number of entries, separator included.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the vocabulary holds only the separator.
    pub fn is_empty(&self) -> bool {
        self.n <= 1
    }

    /// The bytes of id `id` (empty for the separator or an out-of-range id).
    #[inline]
    pub fn bytes(&self, id: u32) -> &[u8] {
        let body = self.file.body();
        let id = id as usize;
        if id >= self.n {
            return &[];
        }
        let (Some(a), Some(b)) = (read_u32(body, 8 + 4 * id), read_u32(body, 12 + 4 * id)) else {
            return &[];
        };
        let blob = 8 + 4 * (self.n + 1) + 4 * self.slots;
        body.get(blob + a as usize..blob + b as usize).unwrap_or(&[])
    }

    /// The string of id `id` (empty for the separator or an out-of-range id).
    pub fn string(&self, id: u32) -> &str {
        let body = self.file.body();
        let id = id as usize;
        if id >= self.n {
            return "";
        }
        let (Some(a), Some(b)) = (read_u32(body, 8 + 4 * id), read_u32(body, 12 + 4 * id)) else {
            return "";
        };
        let blob = 8 + 4 * (self.n + 1) + 4 * self.slots;
        body.get(blob + a as usize..blob + b as usize).and_then(|s| std::str::from_utf8(s).ok()).unwrap_or("")
    }

    /// The id of `tok`, if the shard has it.
    #[inline]
    pub fn id(&self, tok: &str) -> Option<u32> {
        if tok.is_empty() {
            return None;
        }
        let body = self.file.body();
        let table = 8 + 4 * (self.n + 1);
        let mask = self.slots - 1;
        let mut i = xxh3_64(tok.as_bytes()) as usize & mask;
        for _ in 0..self.slots {
            let e = read_u32(body, table + 4 * i)?;
            if e == 0 {
                return None;
            }
            if self.bytes(e - 1) == tok.as_bytes() {
                return Some(e - 1);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The mapped file (for verification and sizes).
    pub fn file(&self) -> &MappedFile {
        &self.file
    }
}

#[inline]
fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn every_interned_string_is_found_and_nothing_else(words in prop::collection::vec("[a-cé]{1,4}", 1..200), probes in prop::collection::vec("[a-dé]{1,4}", 0..50)) {
            let mut b = VocabBuilder::default();
            for w in &words {
                b.intern(w);
            }
            let (_, body) = b.finish();
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("v.vocab");
            Vocab::write(&p, &body).unwrap();
            let v = Vocab::open(&p).unwrap();
            for w in &words {
                let id = v.id(w);
                prop_assert!(id.is_some());
                prop_assert_eq!(v.string(id.unwrap()), w.as_str());
            }
            for q in &probes {
                prop_assert_eq!(v.id(q).is_some(), words.contains(q));
            }
        }
    }
}
