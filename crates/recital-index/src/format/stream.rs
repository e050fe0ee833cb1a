//! One token stream of a shard and its suffix array: the structure that answers
//! "how often and where does this token sequence occur".
//!
//! Files, for a stream named `S` (`text` or `canon`):
//! - `S.tok` (kind `TOKENS`): the documents' token ids in [`varint`](mod@crate::varint)
//!   code, each document followed by the separator id 0.
//! - `S.sa` (kind `SUFFIXES`): `u32` byte offsets into `S.tok` of every token
//!   start except separators, in lexicographic order of the suffixes (the
//!   varint code is order-preserving, so this is the suffix order of the id
//!   sequence too).
//! - `S.starts` (kind `STARTS`): `u32` byte offset of each document's first
//!   token, plus the stream length: the map from a position to its document.
//! - `S.ckpt` (kind `CHECKPT`): `u32` byte offset of every 64th token, so that
//!   the token index of a position costs one binary search and at most 63
//!   decodes, however long its document (a hit's place in its document).
//! - `S.srcpos` (kind `SRCPOS`): for the same tokens, the byte offset in the
//!   original document, so that a hit is found in its document's text by
//!   tokenising (or lexing) a small window, not the whole document. Indexes
//!   built before the canonical stream had one still open; their code hits
//!   are located by lexing the document from its start.
//! - `S.top` (kind `SATOP`): the top level of the suffix array, a sample that
//!   fits in cache (see [`TOP_EVERY`]). Optional: indexes without it search
//!   the whole suffix array, with the same answers.
//!
//! The suffix array is built by libsais over the `i32` id sequence (one thread:
//! its OpenMP mode is 7× slower on 2 shared cores, see the research notes), then
//! its token indices are rewritten in place into byte offsets. Shards stay under
//! 2^31 tokens and 4 GiB of stream, so 32-bit entries suffice; the 64-bit path
//! (libsais64, `u64` entries, 9 bytes per token) is for shards beyond that and is
//! not needed while the builder cuts shards at [`crate::shard_build::DEFAULT_SHARD_TOKENS`].

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use libsais::suffix_array::AlphabetSize;
use libsais::SuffixArrayConstruction;

use crate::error::{IndexError, Result};
use crate::file::{EnvelopeWriter, MappedFile};
use crate::varint;

/// Kind tag of token files.
pub const TOK_KIND: &[u8; 8] = b"TOKENS\0\0";
/// Kind tag of suffix-array files.
pub const SA_KIND: &[u8; 8] = b"SUFFIXES";
/// Kind tag of document-start files.
pub const STARTS_KIND: &[u8; 8] = b"STARTS\0\0";
/// Kind tag of token-checkpoint files.
pub const CKPT_KIND: &[u8; 8] = b"CHECKPT\0";
/// Tokens between checkpoints.
pub const CKPT_EVERY: usize = 64;
/// Kind tag of source-position files.
pub const SRCPOS_KIND: &[u8; 8] = b"SRCPOS\0\0";
/// Kind tag of suffix-array top-level files.
pub const TOP_KIND: &[u8; 8] = b"SATOP\0\0\0";
/// Suffix-array ranks per sample of the top level.
///
/// Why a top level: on a large shard every binary-search probe below the
/// first ~16 levels is two dependent cache (and TLB) misses, one into the
/// suffix array and one into the token stream at a random place; that is
/// where a scan of the full linux-source index spent two thirds of its time.
/// The top level keeps the first 8 bytes of every 32nd suffix inline (8
/// bytes per 32 suffixes: 6 % of the suffix array), so the search first runs
/// over one array of keys (one load per probe, the upper levels cache-hot)
/// and then over at most 32 ranks of the suffix array.
pub const TOP_EVERY: usize = 32;

/// The first 8 bytes of `s`, zero-padded, as a big-endian integer: integer
/// order of two keys is the byte order of the 8-byte prefixes.
#[inline]
fn key8(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s[..n]);
    u64::from_be_bytes(b)
}

/// Mask of the first `len` (≤ 8) bytes of a [`key8`].
#[inline]
fn key_mask(len: usize) -> u64 {
    match len {
        0 => 0,
        l if l >= 8 => u64::MAX,
        l => u64::MAX << (64 - 8 * l),
    }
}

/// Writes the top level of a suffix array (`sa`: byte offsets into `toks`):
/// `every`, then the key of the suffix at every `every`-th rank.
fn write_top(dir: &Path, stream: Stream, sa: &[u32], toks: &[u8], every: usize) -> Result<()> {
    let mut w = EnvelopeWriter::create(&dir.join(format!("{}.top", stream.name())), TOP_KIND)?;
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(&(every as u64).to_le_bytes());
    for &off in sa.iter().step_by(every) {
        buf.extend_from_slice(&key8(toks.get(off as usize..).unwrap_or(&[])).to_le_bytes());
        if buf.len() >= 1 << 16 {
            w.write(&buf)?;
            buf.clear();
        }
    }
    w.write(&buf)?;
    w.finish()
}

/// One round of binary searches in lockstep: for every lane `j < k` still
/// open (`lo[j] < hi[j]`), probe its middle and go right when `right(j, mid)`.
/// False once every lane is closed. The probes' loads are independent, so
/// their cache misses overlap.
#[inline]
fn lockstep<const L: usize>(
    k: usize,
    lo: &mut [usize; L],
    hi: &mut [usize; L],
    mut right: impl FnMut(usize, usize) -> bool,
) -> bool {
    let mut active = false;
    for j in 0..k {
        if lo[j] < hi[j] {
            let mid = lo[j] + (hi[j] - lo[j]) / 2;
            if right(j, mid) {
                lo[j] = mid + 1;
            } else {
                hi[j] = mid;
            }
            active = true;
        }
    }
    active
}

/// A mapped top level ([`TOP_EVERY`]).
struct TopLevel {
    file: MappedFile,
    every: usize,
    /// Built on the first search (a pass over the keys; nothing on disk).
    radix: std::sync::OnceLock<Radix>,
}

/// Where the top level's samples with each value of their key's first
/// `bits` bits start, so that a search begins among the samples that share
/// the pattern's first bits instead of among all of them.
///
/// Why: the top level of a large index has millions of samples, and the
/// upper steps of a binary search over them are cache misses when a search
/// runs cold, as the streaming guard's do (one step every few tens of
/// milliseconds per stream, with the caches taken by everything else in
/// between). One table read replaces up to `bits` of those steps. The table
/// has one to two entries per sample (at most 2^16 + 1), so small shards get
/// small tables.
struct Radix {
    bits: u32,
    /// `starts[p]`: the first sample whose key's first `bits` bits are ≥ `p`.
    starts: Vec<u32>,
}

impl Radix {
    fn new(keys: &[u64]) -> Self {
        let bits = (usize::BITS - keys.len().leading_zeros()).clamp(1, 16);
        let mut starts = vec![0u32; (1usize << bits) + 1];
        for &k in keys {
            starts[(k >> (64 - bits)) as usize + 1] += 1;
        }
        for p in 1..starts.len() {
            starts[p] += starts[p - 1];
        }
        Self { bits, starts }
    }

    /// Samples `lo..hi` outside which every key, masked with `mask` (a
    /// prefix mask, [`key_mask`]), compares below (before `lo`) or above
    /// (from `hi`) `kp` (already masked): those whose first bits differ from
    /// `kp`'s where the mask keeps them.
    #[inline]
    fn range(&self, kp: u64, mask: u64) -> (usize, usize) {
        let shift = 64 - self.bits;
        let all = (1usize << self.bits) - 1;
        let keep = (mask >> shift) as usize;
        let lo = (kp >> shift) as usize & keep;
        let hi = lo | (all & !keep);
        (self.starts[lo] as usize, self.starts[hi + 1] as usize)
    }
}

impl TopLevel {
    /// Maps `path` and checks it against a suffix array of `n` entries.
    fn open(path: &Path, n: usize) -> Result<Self> {
        let file = MappedFile::open(path, TOP_KIND)?;
        let body = file.body_u64()?;
        let bad = |why: String| IndexError::Corrupt { path: path.to_owned(), why };
        let every = body.first().copied().unwrap_or(0);
        if every == 0 || every > u32::MAX as u64 {
            return Err(bad(format!("sample step {every} out of range")));
        }
        let every = every as usize;
        if body.len() - 1 != n.div_ceil(every) {
            return Err(bad(format!("{} samples for {n} suffixes at one in {every}", body.len() - 1)));
        }
        Ok(Self { file, every, radix: std::sync::OnceLock::new() })
    }

    /// The sampled keys (rank `i * every`'s at `i`).
    #[inline]
    fn keys(&self) -> &[u64] {
        self.file.body_u64().map(|b| &b[1..]).unwrap_or(&[])
    }

    #[inline]
    fn radix(&self) -> &Radix {
        self.radix.get_or_init(|| Radix::new(self.keys()))
    }

    /// SA ranks `lo..hi` that hold every suffix that starts with `pattern`
    /// (`cut`: compared on the pattern's length, as [`StreamFiles::range`]
    /// does) or equals it, and the rank where it would be inserted (whole
    /// suffixes compared, as [`StreamFiles::longest_prefix_len`] does).
    ///
    /// Why this is exact: a sample whose masked key is below (above) `kp`
    /// compares below (above) the pattern, whether suffixes are compared
    /// whole or cut to the pattern's length (the first differing byte lies in
    /// the key; a key padded with zeros past a suffix's end sorts that suffix
    /// first, as byte order does). So the lower bound lies after the last
    /// sample below, and both bounds at or before the first sample above.
    fn bounds_of(&self, n: usize, pattern: &[u8], cut: bool) -> (usize, usize) {
        let mask = if cut { key_mask(pattern.len()) } else { u64::MAX };
        let kp = key8(pattern) & mask;
        let keys = self.keys();
        let (s, e) = self.radix().range(kp, mask);
        let a = s + keys[s..e].partition_point(|&x| x & mask < kp);
        let b = a + keys[a..e].partition_point(|&x| x & mask <= kp);
        self.rank_bounds(n, a, b)
    }

    /// The SA ranks between the last sample below the pattern (`a` samples
    /// are) and the first above it (sample `b`).
    #[inline]
    fn rank_bounds(&self, n: usize, a: usize, b: usize) -> (usize, usize) {
        let lo = if a == 0 { 0 } else { ((a - 1) * self.every + 1).min(n) };
        (lo, b.saturating_mul(self.every).min(n))
    }
}

/// Writes the source positions of every [`CKPT_EVERY`]-th token.
pub fn write_srcpos(dir: &Path, stream: Stream, srcpos: &[u32]) -> Result<()> {
    let mut w = EnvelopeWriter::create(&dir.join(format!("{}.srcpos", stream.name())), SRCPOS_KIND)?;
    w.write_u32s(srcpos)?;
    w.finish()
}

/// The two streams a shard can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Normalised word and punctuation tokens of every document.
    Text,
    /// Canonical code lexemes (identifiers and literals abstracted) of code documents.
    Canon,
}

impl Stream {
    /// File-name stem.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Text => "text",
            Stream::Canon => "canon",
        }
    }
}

/// Sizes of a written stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamStats {
    /// Tokens, separators excluded.
    pub tokens: u64,
}

/// Writes the three files of a stream into `dir`. `ids` holds final ids (0 =
/// separator, ending every document); `doc_first_token[d]` is the token index
/// where document `d` starts. `alphabet` is one more than the largest id.
pub fn write_stream(
    dir: &Path,
    stream: Stream,
    ids: Vec<i32>,
    doc_first_token: &[u64],
    alphabet: u32,
) -> Result<StreamStats> {
    write_stream_sampled(dir, stream, ids, doc_first_token, alphabet, TOP_EVERY)
}

/// [`write_stream`] with a top level of one sample in `top_every` (≥ 1;
/// tests use small steps so that small corpora exercise it).
pub fn write_stream_sampled(
    dir: &Path,
    stream: Stream,
    mut ids: Vec<i32>,
    doc_first_token: &[u64],
    alphabet: u32,
    top_every: usize,
) -> Result<StreamStats> {
    let top_every = top_every.max(1);
    let name = stream.name();
    let n = ids.len();
    if n >= i32::MAX as usize {
        return Err(IndexError::Unsupported(format!(
            "a shard stream of {n} tokens needs the 64-bit path; cut smaller shards"
        )));
    }
    // Byte offsets: a checkpoint every 64 tokens, and each document start.
    let mut checkpoints = Vec::with_capacity(n / 64 + 1);
    let mut starts = Vec::with_capacity(doc_first_token.len() + 1);
    let mut next_doc = doc_first_token.iter().peekable();
    let mut off: u64 = 0;
    for (i, &id) in ids.iter().enumerate() {
        if i % CKPT_EVERY == 0 {
            checkpoints.push(off as u32);
        }
        while next_doc.peek().is_some_and(|&&d| d as usize == i) {
            starts.push(off as u32);
            next_doc.next();
        }
        off += varint::encoded_len(id as u32) as u64;
    }
    if off > u32::MAX as u64 {
        return Err(IndexError::Unsupported(format!(
            "a shard stream of {off} bytes exceeds 4 GiB; cut smaller shards"
        )));
    }
    for _ in next_doc {
        starts.push(off as u32);
    }
    starts.push(off as u32);

    let tok_path = dir.join(format!("{name}.tok"));
    let mut w = EnvelopeWriter::create(&tok_path, TOK_KIND)?;
    let mut buf = Vec::with_capacity(1 << 20);
    for chunk in ids.chunks(1 << 18) {
        buf.clear();
        for &id in chunk {
            varint::encode(id as u32, &mut buf);
        }
        w.write(&buf)?;
    }
    w.finish()?;

    let n_sep = ids.iter().filter(|&&x| x == 0).count();
    let sa = build_suffix_array(&mut ids, alphabet)?;
    // Suffixes starting with the separator (the smallest id) come first; no query
    // can contain it, so they are dropped.
    if sa[..n_sep].iter().any(|&p| ids[p as usize] != 0) {
        return Err(IndexError::Sais("separator suffixes not first".into()));
    }
    let mut sa = sa;
    sa.drain(..n_sep);
    let mut sa: Vec<u32> = sa.into_iter().map(|p| p as u32).collect();
    // Token index -> byte offset. The ids are not needed any more (the token file
    // is written), so they are overwritten in place by each token's byte offset
    // (bit-cast into i32; offsets fit in u32): one sequential pass, then one
    // lookup per suffix, and no memory beyond what the build already holds.
    let mut o = 0u32;
    for id in ids.iter_mut() {
        let w = varint::encoded_len(*id as u32) as u32;
        *id = o as i32;
        o += w;
    }
    for p in sa.iter_mut() {
        *p = ids[*p as usize] as u32;
    }
    let mut w = EnvelopeWriter::create(&dir.join(format!("{name}.sa")), SA_KIND)?;
    w.write_u32s(&sa)?;
    w.finish()?;
    let tok = MappedFile::open(&tok_path, TOK_KIND)?;
    write_top(dir, stream, &sa, tok.body(), top_every)?;
    let mut w = EnvelopeWriter::create(&dir.join(format!("{name}.starts")), STARTS_KIND)?;
    w.write_u32s(&starts)?;
    w.finish()?;
    let mut w = EnvelopeWriter::create(&dir.join(format!("{name}.ckpt")), CKPT_KIND)?;
    w.write_u32s(&checkpoints)?;
    w.finish()?;
    Ok(StreamStats { tokens: (n - n_sep) as u64 })
}

/// Suffix array of an id sequence with libsais, single-threaded.
pub fn build_suffix_array(ids: &mut [i32], alphabet: u32) -> Result<Vec<i32>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let k = alphabet.max(1) as i32;
    if ids.iter().any(|&x| x < 0 || x >= k) {
        return Err(IndexError::Sais("token id outside the alphabet".into()));
    }
    // SAFETY (of `with_alphabet_size`): every id was checked to lie in [0, k) above.
    let res = unsafe {
        SuffixArrayConstruction::for_text_mut(ids)
            .in_owned_buffer32()
            .single_threaded()
            .with_alphabet_size(AlphabetSize::new(k))
            .run()
    };
    res.map(|r| r.into_vec()).map_err(|e| IndexError::Sais(format!("{e:?}")))
}

/// A mapped stream with its suffix array.
pub struct StreamFiles {
    tok: MappedFile,
    sa: MappedFile,
    starts: MappedFile,
    ckpt: MappedFile,
    srcpos: Option<MappedFile>,
    top: Option<TopLevel>,
    /// Token index of each document's start (and the stream's end), filled
    /// on first use ([`DOC_TOKEN_UNKNOWN`] until then): a hit's place in its
    /// document then costs a search over that document's checkpoints only,
    /// not over all of the stream's (23 cache-missing probes on the full
    /// linux-source index, several times per located hit).
    doc_tokens: Vec<AtomicU32>,
}

/// Not yet computed, in [`StreamFiles`]'s document token cache.
const DOC_TOKEN_UNKNOWN: u32 = u32::MAX;

impl StreamFiles {
    /// Maps the three files of `stream` in `dir`.
    pub fn open(dir: &Path, stream: Stream) -> Result<Self> {
        let name = stream.name();
        let tok = MappedFile::open(&dir.join(format!("{name}.tok")), TOK_KIND)?;
        let sa = MappedFile::open(&dir.join(format!("{name}.sa")), SA_KIND)?;
        let starts = MappedFile::open(&dir.join(format!("{name}.starts")), STARTS_KIND)?;
        let ckpt = MappedFile::open(&dir.join(format!("{name}.ckpt")), CKPT_KIND)?;
        sa.body_u32()?;
        ckpt.body_u32()?;
        let st = starts.body_u32()?;
        let bad = |why: &str| IndexError::Corrupt { path: starts.path().to_owned(), why: why.into() };
        if st.last().copied() != Some(tok.body().len() as u32) {
            return Err(bad("document starts do not end at the token stream's end"));
        }
        if st.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad("document starts are not in order"));
        }
        let sp = dir.join(format!("{name}.srcpos"));
        let srcpos = if sp.exists() { Some(MappedFile::open(&sp, SRCPOS_KIND)?) } else { None };
        if let Some(f) = &srcpos {
            if f.body_u32()?.len() != ckpt.body_u32()?.len() {
                return Err(IndexError::Corrupt {
                    path: f.path().to_owned(),
                    why: "one position per checkpoint expected".into(),
                });
            }
        }
        let tp = dir.join(format!("{name}.top"));
        let top = if tp.exists() { Some(TopLevel::open(&tp, sa.body_u32()?.len())?) } else { None };
        sa.advise_random();
        let doc_tokens = (0..st.len()).map(|_| AtomicU32::new(DOC_TOKEN_UNKNOWN)).collect();
        Ok(Self { tok, sa, starts, ckpt, srcpos, top, doc_tokens })
    }

    /// The encoded token stream.
    #[inline]
    pub fn tokens(&self) -> &[u8] {
        self.tok.body()
    }

    /// The suffix array (byte offsets).
    #[inline]
    pub fn sa(&self) -> &[u32] {
        self.sa.body_u32().unwrap_or(&[])
    }

    /// Document start offsets, plus the end.
    #[inline]
    pub fn starts(&self) -> &[u32] {
        self.starts.body_u32().unwrap_or(&[])
    }

    /// Number of documents.
    pub fn docs(&self) -> usize {
        self.starts().len().saturating_sub(1)
    }

    /// Number of indexed suffixes (tokens).
    pub fn len(&self) -> usize {
        self.sa().len()
    }

    /// True when the stream has no tokens.
    pub fn is_empty(&self) -> bool {
        self.sa().is_empty()
    }

    /// The suffix at SA rank `i` (empty if the entry is out of range: corrupt).
    #[inline]
    pub fn suffix(&self, i: usize) -> &[u8] {
        let off = self.sa().get(i).copied().unwrap_or(u32::MAX) as usize;
        self.tokens().get(off..).unwrap_or(&[])
    }

    /// SA ranks of the suffixes that start with `pattern` (encoded, non-empty).
    ///
    /// One lower-bound search that also narrows where the upper bound can be
    /// (every probe above the pattern caps it), then an upper-bound search in
    /// what is left.
    pub fn range(&self, pattern: &[u8]) -> Range<usize> {
        let n = self.len();
        let trunc = |i: usize| {
            let s = self.suffix(i);
            &s[..s.len().min(pattern.len())]
        };
        let (mut lo, mut hi) = match &self.top {
            Some(t) => t.bounds_of(n, pattern, true),
            None => (0, n),
        };
        let mut upper_hi = hi;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match trunc(mid).cmp(pattern) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Equal => hi = mid,
                std::cmp::Ordering::Greater => {
                    hi = mid;
                    upper_hi = mid;
                }
            }
        }
        let start = lo;
        let mut hi = upper_hi;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if trunc(mid) <= pattern {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        start..lo
    }

    /// Length in whole tokens of the longest prefix of `pattern` that occurs:
    /// one binary search for the whole pattern, then the longest common prefix
    /// with the two neighbours of the insertion point (infini-gram's
    /// `compute_longest_prefix_len`).
    pub fn longest_prefix_len(&self, pattern: &[u8]) -> usize {
        let n = self.len();
        if n == 0 || pattern.is_empty() {
            return 0;
        }
        let (mut lo, mut hi) = match &self.top {
            Some(t) => t.bounds_of(n, pattern, false),
            None => (0, n),
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.suffix(mid) < pattern {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut best = 0;
        if lo < n {
            best = varint::common_prefix_tokens(self.suffix(lo), pattern);
        }
        if lo > 0 {
            best = best.max(varint::common_prefix_tokens(self.suffix(lo - 1), pattern));
        }
        best
    }

    /// [`Self::longest_prefix_len`] of many patterns at once: their binary
    /// searches run in lockstep, one probe of each per round, so that the
    /// cache misses of different searches (the suffix array entry, then the
    /// suffix's first bytes, both at random places) overlap instead of
    /// following one another. Same answers; `out[i]` for `patterns[i]`.
    pub fn longest_prefix_lens(&self, patterns: &[&[u8]], out: &mut [usize]) {
        const LANES: usize = 16;
        let n = self.len();
        let (sa, toks) = (self.sa(), self.tokens());
        for (chunk, res) in patterns.chunks(LANES).zip(out.chunks_mut(LANES)) {
            let k = chunk.len();
            let mut lo = [0usize; LANES];
            let mut hi = [n; LANES];
            if let Some(top) = &self.top {
                self.top_bounds_lanes(top, chunk, &mut lo, &mut hi);
            }
            let mut off = [0usize; LANES];
            let mut head = [None::<u8>; LANES];
            loop {
                let mut active = false;
                // Round part 1: every lane's probe position (independent loads).
                for j in 0..k {
                    if lo[j] < hi[j] && !chunk[j].is_empty() {
                        let mid = lo[j] + (hi[j] - lo[j]) / 2;
                        off[j] = sa.get(mid).copied().unwrap_or(u32::MAX) as usize;
                        active = true;
                    }
                }
                if !active {
                    break;
                }
                // Part 2: the first byte of every probed suffix (independent loads).
                for j in 0..k {
                    if lo[j] < hi[j] && !chunk[j].is_empty() {
                        head[j] = toks.get(off[j]).copied();
                    }
                }
                // Part 3: compare, now from cache.
                for j in 0..k {
                    if lo[j] < hi[j] && !chunk[j].is_empty() {
                        let mid = lo[j] + (hi[j] - lo[j]) / 2;
                        let p = chunk[j];
                        let less = match head[j] {
                            None => true, // past the end (corrupt entry): an empty suffix
                            Some(h) if h != p[0] => h < p[0],
                            Some(_) => &toks[off[j]..] < p,
                        };
                        if less {
                            lo[j] = mid + 1;
                        } else {
                            hi[j] = mid;
                        }
                    }
                }
            }
            for j in 0..k {
                let p = chunk[j];
                let mut best = 0;
                if n > 0 && !p.is_empty() {
                    if lo[j] < n {
                        best = varint::common_prefix_tokens(self.suffix(lo[j]), p);
                    }
                    if lo[j] > 0 {
                        best = best.max(varint::common_prefix_tokens(self.suffix(lo[j] - 1), p));
                    }
                }
                res[j] = best;
            }
        }
    }

    /// The top level's bounds for every lane of [`Self::longest_prefix_lens`]:
    /// the searches over the sampled keys run in lockstep too (one load per
    /// probe, independent across lanes).
    fn top_bounds_lanes<const L: usize>(
        &self,
        top: &TopLevel,
        chunk: &[&[u8]],
        lo: &mut [usize; L],
        hi: &mut [usize; L],
    ) {
        let n = self.len();
        let keys = top.keys();
        let k = chunk.len();
        let mut kp = [0u64; L];
        let mut tlo = [0usize; L];
        let mut thi = [keys.len(); L];
        // The first sample seen above the key: where the samples equal to it end
        // at the latest (as in `range`).
        let mut cap = [keys.len(); L];
        let radix = top.radix();
        for (j, p) in chunk.iter().enumerate() {
            kp[j] = key8(p);
            (tlo[j], thi[j]) = radix.range(kp[j], u64::MAX);
            cap[j] = thi[j];
        }
        // First sample not below the key...
        while lockstep(k, &mut tlo, &mut thi, |j, mid| {
            let x = keys[mid];
            if x > kp[j] {
                cap[j] = mid;
            }
            x < kp[j]
        }) {}
        let a = tlo;
        // ...and first sample above it, searched only past the samples equal to it.
        for j in 0..k {
            thi[j] = if keys.get(a[j]) == Some(&kp[j]) { cap[j] } else { a[j] };
        }
        while lockstep(k, &mut tlo, &mut thi, |j, mid| keys[mid] <= kp[j]) {}
        for j in 0..k {
            (lo[j], hi[j]) = top.rank_bounds(n, a[j], tlo[j]);
        }
    }

    /// Document holding byte offset `off`.
    pub fn doc_of(&self, off: u32) -> usize {
        let st = self.starts();
        st.partition_point(|&s| s <= off).saturating_sub(1)
    }

    /// Index (in the whole stream, separators included) of the token at byte
    /// offset `off`: the nearest checkpoint at or before it, then decoding.
    pub fn token_index(&self, off: u32) -> usize {
        let ck = self.ckpt.body_u32().unwrap_or(&[]);
        self.token_index_from(off, ck.partition_point(|&c| c <= off).saturating_sub(1))
    }

    /// [`Self::token_index`] of the start of document `doc` (`docs()` for the
    /// stream's end), cached.
    fn doc_token(&self, doc: usize) -> usize {
        let Some(slot) = self.doc_tokens.get(doc) else { return self.token_index(u32::MAX) };
        match slot.load(Ordering::Relaxed) {
            DOC_TOKEN_UNKNOWN => {
                let t = self.token_index(self.starts().get(doc).copied().unwrap_or(u32::MAX));
                // Streams stay under 2^31 tokens (see the module docs).
                slot.store(t as u32, Ordering::Relaxed);
                t
            }
            t => t as usize,
        }
    }

    /// [`Self::token_index`] of `off`, which lies in document `doc`: the
    /// checkpoint is searched among the document's own.
    fn token_index_in(&self, doc: usize, off: u32) -> usize {
        let ck = self.ckpt.body_u32().unwrap_or(&[]);
        let (a, b) = (self.doc_token(doc) / CKPT_EVERY, self.doc_token(doc + 1) / CKPT_EVERY + 1);
        let (a, b) = (a.min(ck.len()), b.min(ck.len()));
        let i = a + ck[a..b.max(a)].partition_point(|&c| c <= off);
        self.token_index_from(off, i.saturating_sub(1))
    }

    /// Decodes from checkpoint `i` to the token at `off`.
    fn token_index_from(&self, off: u32, i: usize) -> usize {
        let ck = self.ckpt.body_u32().unwrap_or(&[]);
        let toks = self.tokens();
        let mut at = ck.get(i).copied().unwrap_or(0) as usize;
        let mut n = i * CKPT_EVERY;
        while at < off as usize && at < toks.len() {
            at += varint::len_from_first(toks[at]);
            n += 1;
        }
        n
    }

    /// Byte offset of the token with stream index `t` (the stream length past the end).
    pub fn token_offset(&self, t: usize) -> usize {
        let ck = self.ckpt.body_u32().unwrap_or(&[]);
        let toks = self.tokens();
        let i = (t / CKPT_EVERY).min(ck.len().saturating_sub(1));
        let mut at = ck.get(i).copied().unwrap_or(0) as usize;
        for _ in i * CKPT_EVERY..t {
            match toks.get(at) {
                Some(&b) => at += varint::len_from_first(b),
                None => break,
            }
        }
        at.min(toks.len())
    }

    /// Ids of tokens `from..to` of document `doc` (clipped to the document).
    pub fn doc_token_ids(&self, doc: usize, from: usize, to: usize) -> Vec<u32> {
        let st = self.starts();
        let (Some(_), Some(&b)) = (st.get(doc), st.get(doc + 1)) else { return Vec::new() };
        let base = self.doc_token(doc);
        let mut at = self.token_offset(base + from);
        let toks = self.tokens();
        let mut out = Vec::with_capacity(to.saturating_sub(from));
        while out.len() < to.saturating_sub(from) && at < b as usize {
            let Some((id, len)) = varint::decode(&toks[at..]) else { break };
            if id == 0 {
                break;
            }
            out.push(id);
            at += len;
        }
        out
    }

    /// Source byte offset (in its document) of the nearest sampled token at or
    /// before token `from` of document `doc`, and that token's index in the
    /// document; `None` without source positions.
    pub fn source_anchor(&self, doc: usize, from: usize) -> Option<(usize, usize)> {
        let sp = self.srcpos.as_ref()?.body_u32().ok()?;
        self.starts().get(doc)?;
        let start = self.doc_token(doc);
        let global = start + from;
        let c = global / CKPT_EVERY;
        let ct = c * CKPT_EVERY;
        if ct < start {
            return Some((0, 0));
        }
        Some((*sp.get(c)? as usize, ct - start))
    }

    /// Number of tokens of document `doc`.
    pub fn doc_len(&self, doc: usize) -> usize {
        let st = self.starts();
        match (st.get(doc), st.get(doc + 1)) {
            // Minus the separator that ends the document.
            (Some(_), Some(_)) => {
                self.doc_token(doc + 1).saturating_sub(self.doc_token(doc)).saturating_sub(1)
            }
            _ => 0,
        }
    }

    /// Number of tokens between the start of `doc` and byte offset `off`.
    pub fn token_index_in_doc(&self, doc: usize, off: u32) -> usize {
        if doc >= self.docs() {
            return 0;
        }
        self.token_index_in(doc, off).saturating_sub(self.doc_token(doc))
    }

    /// The stream's files (what a full check reads).
    pub fn files(&self) -> Vec<&MappedFile> {
        let mut v = vec![&self.tok, &self.sa, &self.starts, &self.ckpt];
        v.extend(self.top.as_ref().map(|t| &t.file));
        v.extend(self.srcpos.as_ref());
        v
    }

    /// Bytes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.tok.file_len()
            + self.sa.file_len()
            + self.starts.file_len()
            + self.ckpt.file_len()
            + self.srcpos.as_ref().map_or(0, |f| f.file_len())
            + self.top.as_ref().map_or(0, |t| t.file.file_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Encoded stream and, for brute force, every suffix start.
    fn encode_all(ids: &[i32]) -> (Vec<u8>, Vec<usize>) {
        let (mut bytes, mut starts) = (Vec::new(), Vec::new());
        for &id in ids {
            if id != 0 {
                starts.push(bytes.len());
            }
            varint::encode(id as u32, &mut bytes);
        }
        (bytes, starts)
    }

    /// Documents of ids drawn from a few one-byte and a few multi-byte codes,
    /// so that 8-byte keys often tie and sometimes cut a token.
    fn docs() -> impl Strategy<Value = Vec<Vec<i32>>> {
        let id = prop_oneof![4 => 1i32..5, 1 => Just(200i32), 1 => Just(20_000i32), 1 => Just(3_000_000i32)];
        prop::collection::vec(prop::collection::vec(id, 1..60), 1..6)
    }

    fn write(dir: &Path, docs: &[Vec<i32>], every: usize) -> (StreamFiles, Vec<i32>) {
        let mut ids = Vec::new();
        let mut firsts = Vec::new();
        for d in docs {
            firsts.push(ids.len() as u64);
            ids.extend_from_slice(d);
            ids.push(0);
        }
        write_stream_sampled(dir, Stream::Text, ids.clone(), &firsts, 3_000_001, every).unwrap();
        (StreamFiles::open(dir, Stream::Text).unwrap(), ids)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// With any sample step, the top level changes no answer: ranges and
        /// longest prefixes equal brute force over the encoded stream.
        #[test]
        fn top_level_searches_equal_brute_force(
            docs in docs(),
            every in 1usize..9,
            queries in prop::collection::vec((0usize..400, 1usize..14, any::<bool>()), 1..40),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let (files, ids) = write(tmp.path(), &docs, every);
            prop_assert!(files.top.is_some());
            let (bytes, starts) = encode_all(&ids);
            let mut patterns: Vec<Vec<u8>> = Vec::new();
            for &(at, len, mutate) in &queries {
                // A piece of the stream (separators left out), sometimes with
                // its last token changed so that it may not occur.
                let from = at % ids.len();
                let mut q: Vec<i32> = ids[from..].iter().copied().take_while(|&x| x != 0).take(len).collect();
                if q.is_empty() {
                    q.push(1);
                }
                if mutate {
                    let l = q.len() - 1;
                    q[l] = (q[l] % 4) + 1;
                }
                let mut p = Vec::new();
                for id in q {
                    varint::encode(id as u32, &mut p);
                }
                patterns.push(p);
            }
            let refs: Vec<&[u8]> = patterns.iter().map(Vec::as_slice).collect();
            let mut lens = vec![0; refs.len()];
            files.longest_prefix_lens(&refs, &mut lens);
            for (p, &got) in refs.iter().zip(&lens) {
                let count = starts.iter().filter(|&&s| bytes[s..].starts_with(p)).count();
                prop_assert_eq!(files.range(p).len(), count);
                let best = starts.iter().map(|&s| varint::common_prefix_tokens(&bytes[s..], p)).max().unwrap_or(0);
                prop_assert_eq!(got, best);
                prop_assert_eq!(files.longest_prefix_len(p), best);
            }
        }
    }

    proptest! {
        /// The radix table's range holds every key that compares equal to
        /// the pattern's under a prefix mask, with only smaller keys before
        /// it and only larger ones after (brute force over sorted keys).
        #[test]
        fn radix_ranges_equal_brute_force(
            mut keys in prop::collection::vec(any::<u64>(), 0..300),
            tops in prop::collection::vec(0u64..4, 0..300),
            probe in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            len in 0usize..10,
        ) {
            // Keys sharing their first bits, as a suffix array's do.
            for (k, t) in keys.iter_mut().zip(&tops) {
                *k = (*k >> 2) | (t << 62);
            }
            keys.sort_unstable();
            let r = Radix::new(&keys);
            let mask = key_mask(len);
            // Near a key (the low byte changed), or anywhere (also between
            // filled buckets, in empty ones).
            let near = !keys.is_empty() && probe % 2 == 0;
            let kp = if near { keys[pick.index(keys.len())] ^ (probe & 0xff) } else { probe } & mask;
            let (lo, hi) = r.range(kp, mask);
            prop_assert!(lo <= hi && hi <= keys.len());
            prop_assert!(keys[..lo].iter().all(|&x| x & mask < kp));
            prop_assert!(keys[hi..].iter().all(|&x| x & mask > kp));
        }
    }

    #[test]
    fn a_radix_table_of_many_keys_is_capped_at_16_bits_and_exact() {
        // 70,000 sorted keys over a narrow band: more than 2^16 samples.
        let keys: Vec<u64> = (0..70_000u64).map(|i| (i * 0x0000_9e37_79b9_7f4a) | (3 << 62)).collect();
        let mut keys = keys;
        keys.sort_unstable();
        let r = Radix::new(&keys);
        assert_eq!(r.bits, 16);
        assert_eq!(r.starts.len(), (1 << 16) + 1);
        for (i, len) in [(0usize, 8usize), (123, 2), (69_999, 1), (40_000, 3), (7, 0)] {
            let mask = key_mask(len);
            for kp in [keys[i] & mask, (keys[i] ^ 0x00ff_0000_0000_0000) & mask, (keys[i] >> 1) & mask] {
                let (lo, hi) = r.range(kp, mask);
                assert!(keys[..lo].iter().all(|&x| x & mask < kp), "below, key {i}, len {len}");
                assert!(keys[hi..].iter().all(|&x| x & mask > kp), "above, key {i}, len {len}");
            }
        }
    }

    #[test]
    fn a_top_level_of_the_wrong_size_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let docs = vec![vec![1, 2, 3, 4, 1, 2], vec![3, 3, 1]];
        write(tmp.path(), &docs, 2);
        // Rewrite the top level as if for a stream of another length.
        let sa = StreamFiles::open(tmp.path(), Stream::Text).unwrap().sa().to_vec();
        let tok = MappedFile::open(&tmp.path().join("text.tok"), TOK_KIND).unwrap();
        write_top(tmp.path(), Stream::Text, &sa[..4], tok.body(), 2).unwrap();
        let err = StreamFiles::open(tmp.path(), Stream::Text).err().expect("refused");
        assert!(err.to_string().contains("text.top"), "{err}");
    }
}
