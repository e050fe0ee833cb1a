//! An opened index: the live shards of a manifest, their tombstones, and the
//! queries (`count`, `locate`, `longest_prefix`, `stats`) over all of them.
//!
//! Shards are additive (infini-gram's model): a count is the sum over shards, a
//! longest match the maximum, occurrences the union. A shard with tombstones
//! subtracts the count of a small sub-index built over its removed documents, so
//! counts stay exact without enumerating occurrences.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::Result;
use crate::license::{LicenseCount, LicenseTally};
use crate::manifest::{Manifest, ShardEntry};
use crate::rights::Rights;
use crate::shard::Shard;
use crate::stream::{Stream, StreamFiles};
use crate::varint;

/// Occurrences enumerated at most to compute an exact document count.
pub const DOC_COUNT_SCAN_LIMIT: u64 = 2_000_000;

/// Removed documents of a shard.
pub struct Removed {
    docs: Vec<u32>,
    text: Option<StreamFiles>,
    canon: Option<StreamFiles>,
}

impl Removed {
    fn open(dir: &Path, docs: Vec<u32>) -> Result<Self> {
        let open = |s: Stream| -> Result<Option<StreamFiles>> {
            if dir.join(format!("{}.tok", s.name())).exists() {
                Ok(Some(StreamFiles::open(dir, s)?))
            } else {
                Ok(None)
            }
        };
        Ok(Self { text: open(Stream::Text)?, canon: open(Stream::Canon)?, docs })
    }

    /// True if document `doc` was removed.
    pub fn contains(&self, doc: usize) -> bool {
        self.docs.binary_search(&(doc as u32)).is_ok()
    }

    fn stream(&self, s: Stream) -> Option<&StreamFiles> {
        match s {
            Stream::Text => self.text.as_ref(),
            Stream::Canon => self.canon.as_ref(),
        }
    }
}

/// A live shard and its tombstones.
#[derive(Clone)]
pub struct LiveShard {
    /// The shard (shared with later snapshots that still hold it: see [`Index::reopen`]).
    pub shard: Arc<Shard>,
    /// Its manifest entry.
    pub entry: ShardEntry,
    /// Removed documents.
    pub removed: Option<Arc<Removed>>,
}

impl LiveShard {
    /// True if document `doc` is live.
    #[inline]
    pub fn is_live(&self, doc: usize) -> bool {
        self.removed.as_ref().is_none_or(|r| !r.contains(doc))
    }

    /// Cuts a longest-prefix length `len` of the encoded `pattern` back to the
    /// longest prefix with a *live* occurrence: a prefix found only in removed
    /// documents does not count. Binary search on the live count, which can only
    /// fall as the prefix grows.
    pub fn live_prefix_len(&self, stream: Stream, pattern: &[u8], len: usize) -> usize {
        if self.removed.is_none() || len == 0 {
            return len;
        }
        let live =
            |k: usize| self.count_encoded(stream, &pattern[..varint::byte_len_of_tokens(pattern, k)]) > 0;
        if live(len) {
            return len;
        }
        let (mut lo, mut hi) = (0usize, len);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if live(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Exact live count of an encoded pattern in one stream.
    pub fn count_encoded(&self, stream: Stream, pattern: &[u8]) -> u64 {
        let Some(s) = self.shard.stream(stream) else { return 0 };
        let mut c = s.files.range(pattern).len() as u64;
        if let Some(r) = self.removed.as_ref().and_then(|r| r.stream(stream)) {
            c = c.saturating_sub(r.range(pattern).len() as u64);
        }
        c
    }
}

/// Answer to a count query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountResult {
    /// Occurrences.
    pub count: u64,
    /// Distinct documents containing it.
    pub doc_count: u64,
    /// False when more than 2,000,000 occurrences (the most enumerated for
    /// it) made `doc_count` a lower bound.
    pub doc_count_exact: bool,
    /// Number of query tokens.
    pub tokens: usize,
    /// The normalised query tokens.
    pub query_tokens: Vec<String>,
    /// Stream searched.
    pub stream: Stream,
}

/// One occurrence, with where it is and whose it is.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// External document id.
    pub doc_id: String,
    /// Path or title.
    pub path: Option<String>,
    /// Shard directory name.
    pub shard: String,
    /// Document number in the shard.
    pub doc_index: usize,
    /// First token of the occurrence within the document.
    pub token_start: usize,
    /// One past its last token.
    pub token_end: usize,
    /// Byte range of the occurrence in the document's original text.
    pub byte_start: usize,
    /// End of that range (exclusive).
    pub byte_end: usize,
    /// The occurrence with some context, from the original text.
    pub snippet: String,
    /// Byte range of the occurrence inside `snippet`.
    pub snippet_hit: [usize; 2],
    /// Rights of the document.
    #[serde(flatten)]
    pub rights: Rights,
}

/// Where one occurrence is: shard (its position in the snapshot), document and
/// token range within the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Occurrence {
    /// The shard's position in the snapshot (as in [`crate::DocAddr`]).
    pub shard: usize,
    /// Document number in the shard.
    pub doc: usize,
    /// First token within the document.
    pub token_start: usize,
    /// One past the last token.
    pub token_end: usize,
}

/// Answer to a locate query.
#[derive(Debug, Clone, Serialize)]
pub struct LocateResult {
    /// All occurrences (live).
    pub count: u64,
    /// The first `limit` of them.
    pub hits: Vec<Hit>,
    /// Normalised query tokens.
    pub query_tokens: Vec<String>,
    /// Stream searched.
    pub stream: Stream,
}

/// Per-shard statistics.
#[derive(Debug, Clone, Serialize)]
pub struct ShardStats {
    /// Directory name.
    pub name: String,
    /// Base or delta.
    pub kind: crate::manifest::ShardKind,
    /// Documents (removed included).
    pub docs: u64,
    /// Removed documents.
    pub removed_docs: u64,
    /// Text-stream tokens.
    pub text_tokens: u64,
    /// Canonical-stream tokens.
    pub canon_tokens: u64,
    /// Distinct text tokens.
    pub text_vocab: u64,
    /// Bytes of original text.
    pub source_bytes: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

/// Whole-index statistics.
#[derive(Debug, Clone, Serialize)]
pub struct IndexStats {
    /// Index directory.
    pub index: PathBuf,
    /// Manifest generation.
    pub generation: u64,
    /// Format version.
    pub format_version: u32,
    /// Normaliser version.
    pub normalizer_version: u32,
    /// Live documents.
    pub docs: u64,
    /// Removed documents still present in shards.
    pub removed_docs: u64,
    /// Text-stream tokens.
    pub text_tokens: u64,
    /// Canonical-stream tokens.
    pub canon_tokens: u64,
    /// Bytes of original text.
    pub source_bytes: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
    /// Disk bytes per source byte.
    pub bytes_per_source_byte: f64,
    /// Disk bytes per token (both streams).
    pub bytes_per_token: f64,
    /// Live documents per licence expression, most first.
    pub licenses: Vec<LicenseCount>,
    /// Live documents whose licence is `NOASSERTION`.
    pub noassertion: u64,
    /// Shards.
    pub shards: Vec<ShardStats>,
}

/// An opened index. A clone is the same snapshot (its shards are shared).
#[derive(Clone)]
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
    shards: Vec<LiveShard>,
}

impl Index {
    /// Opens the index at `dir` (a consistent snapshot of its manifest).
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_reusing(dir, &[])
    }

    /// Opens the index's current manifest again (after a commit: an added
    /// delta shard, tombstones, a compaction), reusing the shards and
    /// tombstone sets this snapshot has open: shards never change once
    /// written and their names are never reused, so only new ones are mapped
    /// and checked, and the reused ones keep their caches (decoded document
    /// blocks).
    pub fn reopen(&self) -> Result<Self> {
        Self::open_reusing(&self.dir, &self.shards)
    }

    fn open_reusing(dir: &Path, open: &[LiveShard]) -> Result<Self> {
        Self::with_manifest(dir, Manifest::load(dir)?, open)
    }

    /// The snapshot `manifest` describes (committed or staged by a writer),
    /// reusing the shards of `open` that it keeps.
    pub(crate) fn with_manifest(dir: &Path, manifest: Manifest, open: &[LiveShard]) -> Result<Self> {
        let mut shards = Vec::with_capacity(manifest.shards.len());
        for entry in &manifest.shards {
            let old = open.iter().find(|s| s.entry.summary.name == entry.summary.name);
            let shard = match old {
                Some(s) => s.shard.clone(),
                None => Arc::new(Shard::open(&dir.join(&entry.summary.name))?),
            };
            let removed = match &entry.tombstones {
                Some(t) => match old
                    .and_then(|s| s.removed.as_ref().filter(|_| s.entry.tombstones.as_ref() == Some(t)))
                {
                    Some(r) => Some(r.clone()),
                    None => Some(Arc::new(Removed::open(&dir.join(&t.dir), t.docs.clone())?)),
                },
                None => None,
            };
            shards.push(LiveShard { shard, entry: entry.clone(), removed });
        }
        Ok(Self { dir: dir.to_owned(), manifest, shards })
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest this snapshot was opened from.
    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest generation of this snapshot: every commit increments it.
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    /// The live shards.
    pub(crate) fn live_shards(&self) -> &[LiveShard] {
        &self.shards
    }

    /// The number of shards in this snapshot.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Checks every shard's checksums once per process ([`Shard::verify_once`]):
    /// the queries that can fail ([`Index::count`], [`Index::locate`], and a
    /// scan) call it first, and a server calls it at start.
    pub fn verify_once(&self) -> Result<()> {
        self.shards.iter().try_for_each(|s| s.shard.verify_once())
    }

    /// Exact number of occurrences of a token sequence (already normalised).
    pub fn count_tokens<S: AsRef<str>>(&self, stream: Stream, toks: &[S]) -> u64 {
        if toks.is_empty() {
            return 0;
        }
        let mut total = 0;
        for s in &self.shards {
            let Some(st) = s.shard.stream(stream) else { continue };
            if let Some(p) = st.encode(toks) {
                total += s.count_encoded(stream, &p);
            }
        }
        total
    }

    /// Occurrences and document frequency of a text, normalised like the corpus.
    pub fn count(&self, query: &Query) -> Result<CountResult> {
        self.verify_once()?;
        let toks = &query.tokens;
        let count = self.count_tokens(query.stream, toks);
        let mut doc_count = 0u64;
        let mut exact = true;
        let mut budget = DOC_COUNT_SCAN_LIMIT;
        if count > 0 {
            for s in &self.shards {
                let Some((st, range)) = self.shard_range(s, query) else { continue };
                let mut seen = vec![0u64; s.shard.docs.len().div_ceil(64)];
                for rank in range {
                    if budget == 0 {
                        exact = false;
                        break;
                    }
                    budget -= 1;
                    let off = st.sa().get(rank).copied().unwrap_or(0);
                    let doc = st.doc_of(off);
                    if s.is_live(doc) && doc < s.shard.docs.len() && seen[doc / 64] & (1 << (doc % 64)) == 0 {
                        seen[doc / 64] |= 1 << (doc % 64);
                        doc_count += 1;
                    }
                }
            }
        }
        Ok(CountResult {
            count,
            doc_count,
            doc_count_exact: exact,
            tokens: toks.len(),
            query_tokens: toks.clone(),
            stream: query.stream,
        })
    }

    fn shard_range<'a>(&self, s: &'a LiveShard, query: &Query) -> Option<(&'a StreamFiles, Range<usize>)> {
        if query.tokens.is_empty() {
            return None;
        }
        let st = s.shard.stream(query.stream)?;
        let p = st.encode(&query.tokens)?;
        Some((&st.files, st.files.range(&p)))
    }

    /// Up to `limit` live occurrences of a query, in suffix-array order shard by
    /// shard: where they are, without fetching any text.
    pub fn occurrences(&self, query: &Query, limit: usize) -> Vec<Occurrence> {
        self.count_and_occurrences(query.stream, &query.tokens, limit).1
    }

    /// The exact live count of a token sequence and up to `limit` of its
    /// occurrences, from one encoding and one range search per shard.
    pub fn count_and_occurrences<S: AsRef<str>>(
        &self,
        stream: Stream,
        tokens: &[S],
        limit: usize,
    ) -> (u64, Vec<Occurrence>) {
        let mut out = Vec::new();
        let mut count = 0;
        if tokens.is_empty() {
            return (0, out);
        }
        for (si, s) in self.shards.iter().enumerate() {
            let Some(sti) = s.shard.stream(stream) else { continue };
            let Some(p) = sti.encode(tokens) else { continue };
            let st = &sti.files;
            let range = st.range(&p);
            count += range.len() as u64;
            if let Some(r) = s.removed.as_ref().and_then(|r| r.stream(stream)) {
                count = count.saturating_sub(r.range(&p).len() as u64);
            }
            for rank in range {
                if out.len() >= limit {
                    break;
                }
                let off = st.sa().get(rank).copied().unwrap_or(0);
                let doc = st.doc_of(off);
                if !s.is_live(doc) {
                    continue;
                }
                let token_start = st.token_index_in_doc(doc, off);
                out.push(Occurrence { shard: si, doc, token_start, token_end: token_start + tokens.len() });
            }
        }
        (count, out)
    }

    /// Up to `limit` occurrences with documents, offsets, snippets and rights.
    pub fn locate(&self, query: &Query, limit: usize) -> Result<LocateResult> {
        self.verify_once()?;
        let (count, occ) = self.count_and_occurrences(query.stream, &query.tokens, limit);
        let hits = occ.into_iter().map(|o| self.hit(query.stream, o)).collect::<Result<Vec<_>>>()?;
        Ok(LocateResult { count, hits, query_tokens: query.tokens.clone(), stream: query.stream })
    }

    /// Builds a [`Hit`] for an occurrence: document, rights, byte offsets in the
    /// original text and a snippet.
    ///
    /// Text-stream hits do not re-tokenise their whole document: the hit's
    /// tokens come from the index, its place in the text is estimated from its
    /// token position, and only a window around that place (cut at whitespace,
    /// where tokenisation restarts identically) is tokenised and searched,
    /// widening until the tokens are found. Canonical-stream hits lex a window
    /// from the nearest sampled lexeme ([`Self::with_code_range`]).
    pub fn hit(&self, stream: Stream, o: Occurrence) -> Result<Hit> {
        let s = &self.shards[o.shard];
        let (byte_start, byte_end, (snippet, snippet_hit), info, rights) = match stream {
            Stream::Text => {
                let (info, rights) = s.shard.doc(o.doc)?;
                let want: Vec<&[u8]> = s.shard.text.doc_tokens(o.doc, o.token_start, o.token_end);
                let ntok = s.shard.text.files.doc_len(o.doc).max(1);
                let len = info.loc.len as usize;
                let files = &s.shard.text.files;
                let anchor = files.source_anchor(o.doc, o.token_start);
                let est = match anchor {
                    // A sampled token at most 63 tokens before the hit: a few hundred bytes.
                    Some((src, at)) => src + (o.token_start - at) * len / ntok,
                    None => (o.token_start as f64 / ntok as f64 * len as f64) as usize,
                };
                // The hit lies between the sampled tokens around it: tokenise
                // just that first (the first sample at or after its end, or the
                // document's end).
                let bounds = anchor.map(|(src, _)| {
                    let after = files
                        .source_anchor(o.doc, o.token_end + crate::stream::CKPT_EVERY - 1)
                        .filter(|&(_, at)| at >= o.token_end && at < ntok)
                        .map_or(len, |(end, _)| end);
                    (src, after)
                });
                // The document from its cached block (no copy); a document in a
                // block too large to cache is decoded only as far as the hit
                // needs, then all of it if the hit was not where the estimate
                // put it.
                let whole = s.shard.store.cached_doc_text(info.loc)?;
                let reach = est + 8192 + 64 * want.len();
                let mut text: std::borrow::Cow<'_, str> = match &whole {
                    Some(d) => d.text(),
                    None => s.shard.store.text_prefix(info.loc, reach)?.into(),
                };
                // Exact where the sample is: the hit is the (token_start -
                // at)th token after it. The nearest match to the estimate is
                // the fallback, and can be a neighbouring repeat of the same
                // words ("the LORD" twice in a verse).
                let exact = anchor.zip(bounds).and_then(|((src, at), (_, after))| {
                    token_at(&text, src, after, o.token_start.checked_sub(at)?, &want)
                });
                let (mut a, mut b) = exact.unwrap_or_else(|| locate_in_text(&text, &want, est, bounds));
                if (a, b) == (0, 0) && whole.is_none() && reach < len {
                    text = s.shard.store.text(info.loc)?.into();
                    (a, b) = locate_in_text(&text, &want, est, bounds);
                }
                (a, b, snippet(&text, a, b, 80), info, rights)
            }
            Stream::Canon => {
                let (info, rights) = s.shard.doc(o.doc)?;
                let found = self.with_code_range(o, |text, lx| match (lx.first(), lx.last()) {
                    (Some(a), Some(b)) => {
                        let (a, b) = (a.src.start, b.src.end);
                        (a, b, snippet(text, a, b, 80))
                    }
                    _ => (0, 0, (String::new(), [0, 0])),
                })?;
                let (a, b, snip) = found.unwrap_or((0, 0, (String::new(), [0, 0])));
                (a, b, snip, info, rights)
            }
        };
        Ok(Hit {
            doc_id: info.id,
            path: info.path,
            shard: s.shard.name().to_string(),
            doc_index: o.doc,
            token_start: o.token_start,
            token_end: o.token_end,
            byte_start,
            byte_end,
            snippet,
            snippet_hit,
            rights,
        })
    }

    /// Calls `f` with the text of the code document of occurrence `o` (a
    /// canonical-stream occurrence) and the lexemes of the occurrence, their
    /// byte ranges in that text; `None` when the document is not code or the
    /// occurrence lies outside it.
    ///
    /// Why a window: lexing the whole source file to find one match in it
    /// cost a quarter of a code scan. The canonical stream samples the
    /// byte offset of every 64th lexeme, so only the window from the nearest
    /// sample is lexed; the lexemes are checked against the index's own
    /// tokens, and the whole file is lexed only when they disagree or the
    /// index predates the samples.
    pub fn with_code_range<R>(
        &self,
        o: Occurrence,
        f: impl FnOnce(&str, &[recital_text::code::Lexeme]) -> R,
    ) -> Result<Option<R>> {
        let Some(s) = self.shards.get(o.shard) else { return Ok(None) };
        let Some(st) = s.shard.stream(Stream::Canon) else { return Ok(None) };
        let (info, _) = s.shard.doc(o.doc)?;
        let Some(lang) = info.mode.lang() else { return Ok(None) };
        if o.token_end <= o.token_start {
            return Ok(None);
        }
        let whole = s.shard.store.cached_doc_text(info.loc)?;
        let owned;
        let text: &str = match &whole {
            Some(d) => {
                owned = d.text();
                &owned
            }
            None => {
                owned = std::borrow::Cow::Owned(s.shard.store.text(info.loc)?);
                &owned
            }
        };
        let want = st.doc_tokens(o.doc, o.token_start, o.token_end);
        let lex_from = |from: usize, skip: usize| -> Option<Vec<recital_text::code::Lexeme>> {
            let tail = text.get(from..)?;
            let lx: Vec<_> = recital_text::code::lexemes(tail, lang)
                .skip(skip)
                .take(o.token_end - o.token_start)
                .map(|mut l| {
                    l.src = l.src.start + from..l.src.end + from;
                    l
                })
                .collect();
            let same = lx.len() == want.len()
                && lx
                    .iter()
                    .zip(&want)
                    .all(|(l, w)| recital_text::code::canonical_of(text, l).as_bytes() == *w);
            same.then_some(lx)
        };
        let anchored = st
            .files
            .source_anchor(o.doc, o.token_start)
            .and_then(|(at, idx)| lex_from(at, o.token_start - idx));
        let lx = match anchored {
            Some(lx) => Some(lx),
            None => lex_from(0, o.token_start),
        };
        Ok(lx.map(|lx| f(text, &lx)))
    }

    /// For every start position `l` of `toks`, the length of the longest prefix of
    /// `toks[l..]` that occurs in a live document (0 if none): the input of
    /// maximal-span detection. Each shard encodes the sequence once; then one
    /// binary search per position and shard (OLMoTrace's longest-prefix search).
    pub fn match_lengths<S: AsRef<str>>(&self, stream: Stream, toks: &[S]) -> Vec<u32> {
        self.match_lengths_where(stream, toks, |_| true)
    }

    /// [`Self::match_lengths`] at the start positions `l` where `need(l)`
    /// holds; 0 at the others (no search made there). The length at `l`
    /// depends only on `toks[l..=l + len]` when `l + len < toks.len()`, so a
    /// caller scanning overlapping windows of one text can keep earlier
    /// answers and search only where they may have changed.
    pub fn match_lengths_where<S: AsRef<str>>(
        &self,
        stream: Stream,
        toks: &[S],
        need: impl Fn(usize) -> bool + Sync,
    ) -> Vec<u32> {
        self.lengths(stream, toks, need, false)
    }

    /// Lengths with the same maximal spans as [`Self::match_lengths`] (a
    /// start is kept when its match ends past every earlier start's: see
    /// `recital_detect::spans`), found with fewer searches: exact at every
    /// start that begins a maximal span; at the others, a length that ends
    /// no further than some earlier start's match.
    ///
    /// Why: inside a long copied stretch every start's match ends at the
    /// stretch's end, and searching each of them is most of the work of
    /// scanning a copy. Whether a start's match reaches past an end `r` only
    /// turns from false to true along the starts (if `x[p..=r]` occurs, so
    /// does each of its suffixes), so one lockstep batch of 16 probes spread
    /// over the stretch narrows where a further-reaching start can be to a
    /// sixteenth of it; stretches shorter than 24 tokens are searched start
    /// by start as before.
    pub fn maximal_match_lengths<S: AsRef<str>>(&self, stream: Stream, toks: &[S]) -> Vec<u32> {
        self.lengths(stream, toks, |_| true, true)
    }

    fn lengths<S: AsRef<str>>(
        &self,
        stream: Stream,
        toks: &[S],
        need: impl Fn(usize) -> bool + Sync,
        skip: bool,
    ) -> Vec<u32> {
        let n = toks.len();
        let mut best = vec![0u32; n];
        // Past the first start whose match runs to the end, every length is
        // already the most possible: later shards search only up to it.
        let mut limit = n;
        for s in &self.shards {
            let Some(st) = s.shard.stream(stream) else { continue };
            let enc = Encoded::new(st, toks);
            // (Counted by `need`: a growing text rescanned with a memo asks
            // for few positions, however long it is.)
            if n >= PARALLEL_POSITIONS
                && (0..n).filter(|&l| need(l)).count() >= PARALLEL_POSITIONS
                && std::thread::available_parallelism().map_or(1, |p| p.get()) > 1
            {
                // A long output: the two halves of its positions are searched
                // on two threads (each search is independent; a search from
                // the first half may read tokens of the second).
                let mid = n / 2;
                let (lo, hi) = best.split_at_mut(mid);
                std::thread::scope(|sc| {
                    let (enc, need) = (&enc, &need);
                    sc.spawn(move || search_positions(s, stream, enc, 0..mid, need, skip, lo));
                    search_positions(s, stream, enc, mid..n, need, skip, hi);
                });
            } else {
                let to_end = search_positions(s, stream, &enc, 0..limit, &need, skip, &mut best[..limit]);
                limit = limit.min(to_end + 1);
            }
        }
        best
    }

    /// The longest prefix of `toks` (in tokens) that occurs in a live document, and
    /// its live count. Per shard: one binary search for the whole sequence and the
    /// common prefix with its neighbours (OLMoTrace); where the shard has
    /// tombstones and that prefix occurs only in removed documents, the length is
    /// cut back by binary search on the (monotone) live count.
    pub fn longest_prefix<S: AsRef<str>>(&self, stream: Stream, toks: &[S]) -> (usize, u64) {
        let mut best = 0usize;
        for s in &self.shards {
            let Some(st) = s.shard.stream(stream) else { continue };
            let p = st.encode_prefix(toks);
            let len = st.files.longest_prefix_len(&p);
            if len > best {
                best = best.max(s.live_prefix_len(stream, &p, len));
            }
        }
        if best == 0 {
            return (0, 0);
        }
        (best, self.count_tokens(stream, &toks[..best]))
    }

    /// Statistics of each shard (cheap: no document is read).
    pub fn shard_stats(&self) -> Vec<ShardStats> {
        let mut shards = Vec::new();
        for s in &self.shards {
            let removed = s.removed.as_ref().map(|r| r.docs.len() as u64).unwrap_or(0);
            shards.push(ShardStats {
                name: s.shard.name().to_string(),
                kind: s.entry.kind,
                docs: s.shard.docs.len() as u64,
                removed_docs: removed,
                text_tokens: s.shard.text.files.len() as u64,
                canon_tokens: s.shard.canon.as_ref().map(|c| c.files.len() as u64).unwrap_or(0),
                text_vocab: s.shard.text.vocab.len().saturating_sub(1) as u64,
                source_bytes: s.entry.summary.source_bytes,
                disk_bytes: s.shard.disk_bytes(),
            });
        }
        shards
    }

    /// Statistics of the whole index.
    pub fn stats(&self) -> IndexStats {
        let shards = self.shard_stats();
        let sum = |f: fn(&ShardStats) -> u64| shards.iter().map(f).sum::<u64>();
        let docs = sum(|s| s.docs);
        let removed_docs = sum(|s| s.removed_docs);
        let text_tokens = sum(|s| s.text_tokens);
        let canon_tokens = sum(|s| s.canon_tokens);
        let source_bytes = sum(|s| s.source_bytes);
        let disk_bytes = sum(|s| s.disk_bytes);
        let licenses = self.license_tally();
        IndexStats {
            index: self.dir.clone(),
            generation: self.manifest.generation,
            format_version: self.manifest.format_version,
            normalizer_version: self.manifest.normalizer_version,
            docs: docs - removed_docs,
            removed_docs,
            text_tokens,
            canon_tokens,
            source_bytes,
            disk_bytes,
            bytes_per_source_byte: disk_bytes as f64 / source_bytes.max(1) as f64,
            bytes_per_token: disk_bytes as f64 / (text_tokens + canon_tokens).max(1) as f64,
            licenses: licenses.counts(),
            noassertion: licenses.noassertion(),
            shards,
        }
    }

    /// Live documents per licence: one pass over the document tables'
    /// fixed-size records (no strings decoded), counted per rights record.
    fn license_tally(&self) -> LicenseTally {
        let mut tally = LicenseTally::default();
        for s in &self.shards {
            let mut per_record = vec![0u64; s.shard.rights.len()];
            for doc in (0..s.shard.docs.len()).filter(|&d| s.is_live(d)) {
                if let Some(n) = per_record.get_mut(s.shard.docs.rights_index(doc) as usize) {
                    *n += 1;
                }
            }
            for (rights, n) in s.shard.rights.iter().zip(per_record).filter(|(_, n)| *n > 0) {
                tally.add(&rights.license, n);
            }
        }
        tally
    }

    /// Verifies every checksum of every file (O(index size)).
    pub fn verify(&self) -> Result<()> {
        for s in &self.shards {
            s.shard.verify()?;
        }
        Ok(())
    }
}

/// A query: normalised tokens and the stream to search.
#[derive(Debug, Clone)]
pub struct Query {
    /// Normalised tokens.
    pub tokens: Vec<String>,
    /// Stream.
    pub stream: Stream,
}

impl Query {
    /// A text query, normalised like indexed prose.
    pub fn text(s: &str) -> Self {
        let ts = recital_text::tokenize(s);
        Self { tokens: (0..ts.len()).map(|i| ts.text(i).to_string()).collect(), stream: Stream::Text }
    }

    /// A canonical-code query (renamed identifiers and changed literals still match).
    pub fn canonical(s: &str, lang: recital_text::code::Lang) -> Self {
        let ts = recital_text::code::canonical(s, lang);
        Self { tokens: (0..ts.len()).map(|i| ts.text(i).to_string()).collect(), stream: Stream::Canon }
    }
}

/// Byte range in `text` of the token sequence `want`, expected near byte `est`.
/// Tokenises windows around the estimate, widening them until the sequence is
/// found; of several matches in a window, the one nearest the estimate wins.
fn locate_in_text(text: &str, want: &[&[u8]], est: usize, bounds: Option<(usize, usize)>) -> (usize, usize) {
    if want.is_empty() || text.is_empty() {
        return (0, 0);
    }
    let est = est.min(text.len());
    if let Some((lo, hi)) = bounds {
        let (a, b) = whitespace_window(text, lo.min(est), hi.max(est));
        if let Some(found) = find_tokens(text, a, b, want, est) {
            return found;
        }
    }
    let mut radius = 256 + 8 * want.len();
    loop {
        let whole = radius >= text.len();
        let (a, b) = if whole {
            (0, text.len())
        } else {
            whitespace_window(text, est.saturating_sub(radius), est + radius)
        };
        if let Some(found) = find_tokens(text, a, b, want, est) {
            return found;
        }
        if whole {
            return (0, 0);
        }
        tracing::debug!("widening the window for a hit: radius {radius} of {} bytes", text.len());
        radius *= 4;
    }
}

/// Byte range of tokens `skip..skip + want.len()` of `text` from byte `src`
/// (a token's start) to about `until`, if they are `want`.
fn token_at(text: &str, src: usize, until: usize, skip: usize, want: &[&[u8]]) -> Option<(usize, usize)> {
    if want.is_empty() || src > text.len() || !text.is_char_boundary(src) {
        return None;
    }
    let (_, end) = whitespace_window(text, src, until.max(src));
    let ts = recital_text::tokenize(&text[src..end]);
    let found = (0..want.len()).all(|k| skip + k < ts.len() && ts.text(skip + k).as_bytes() == want[k]);
    found.then(|| (src + ts.tokens[skip].src.start, src + ts.tokens[skip + want.len() - 1].src.end))
}

/// Byte range of the occurrence of `want` in `text[a..b]` (tokenised) nearest
/// to `est`.
fn find_tokens(text: &str, a: usize, b: usize, want: &[&[u8]], est: usize) -> Option<(usize, usize)> {
    let ts = recital_text::tokenize(&text[a..b]);
    let mut best: Option<(usize, usize, usize)> = None;
    if ts.len() >= want.len() {
        for i in 0..=ts.len() - want.len() {
            if (0..want.len()).all(|k| ts.text(i + k).as_bytes() == want[k]) {
                let start = a + ts.tokens[i].src.start;
                let end = a + ts.tokens[i + want.len() - 1].src.end;
                let dist = start.abs_diff(est);
                if best.is_none_or(|(_, _, d)| dist < d) {
                    best = Some((start, end, dist));
                }
            }
        }
    }
    best.map(|(s, e, _)| (s, e))
}

/// `[lo, hi]` widened to whitespace on both sides (and to char boundaries),
/// so that tokenising it gives the document's own tokens.
fn whitespace_window(text: &str, lo: usize, hi: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut a = lo.min(text.len());
    while a > 0 && !(bytes[a - 1].is_ascii_whitespace() && text.is_char_boundary(a)) {
        a -= 1;
    }
    let mut b = hi.min(text.len());
    while b < text.len() && !(bytes[b].is_ascii_whitespace() && text.is_char_boundary(b)) {
        b += 1;
    }
    (a, b)
}

/// Cuts `text[start..end]` with up to `context` bytes either side, on char
/// boundaries, with runs of whitespace shown as one space.
fn snippet(text: &str, start: usize, end: usize, context: usize) -> (String, [usize; 2]) {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let (start, end) = (floor(start), ceil(end.max(start)));
    let a = floor(start.saturating_sub(context));
    let b = ceil(end + context);
    let squash = |s: &str| {
        let mut o = String::with_capacity(s.len());
        let mut ws = false;
        for c in s.chars() {
            if c.is_whitespace() {
                if !ws {
                    o.push(' ');
                }
                ws = true;
            } else {
                o.push(c);
                ws = false;
            }
        }
        o
    };
    let before = squash(&text[a..start]);
    let hit = squash(&text[start..end]);
    let after = squash(&text[end..b]);
    let s = format!("{before}{hit}{after}");
    (s, [before.len(), before.len() + hit.len()])
}

/// Inputs at least this long (tokens) have their longest-match searches split
/// over two threads. A 4 KB output is ~1,000–1,300 tokens and 1–4 ms of
/// searching on one core (more on a bigger index); a thread costs ~30 µs to
/// start, so a 1 KB output stays on one. Measured on linux-c (325M tokens),
/// 4 KB outputs: p50 4.47 → 3.75 ms with the threshold at 1024 instead of 4096.
const PARALLEL_POSITIONS: usize = 1024;
/// Starts searched together (in lockstep lanes: see `StreamFiles::longest_prefix_lens`).
const BATCH: usize = 16;
/// A match reaching this many starts ahead is probed rather than searched
/// start by start ([`Index::maximal_match_lengths`]).
const SKIP_WINDOW: usize = 24;
/// Starts probed at once inside a long match: one lockstep batch, which cuts
/// the stretch where a further-reaching start can begin to a sixteenth.
const PROBES: usize = 16;

/// A token sequence in one shard's ids.
struct Encoded {
    /// The varint encodings, back to back.
    bytes: Vec<u8>,
    /// Byte offset of each token's encoding (and the end).
    off: Vec<usize>,
    /// Whether each token is in the shard's vocabulary.
    known: Vec<bool>,
    /// `end[l]`: the first unknown token at or after `l`.
    end: Vec<usize>,
}

impl Encoded {
    fn new<S: AsRef<str>>(st: &crate::shard::StreamIndex, toks: &[S]) -> Self {
        let n = toks.len();
        let mut bytes = Vec::with_capacity(n * 2);
        let mut off = Vec::with_capacity(n + 1);
        let mut known = Vec::with_capacity(n);
        for t in toks {
            off.push(bytes.len());
            match st.vocab.id(t.as_ref()) {
                Some(id) => {
                    varint::encode(id, &mut bytes);
                    known.push(true);
                }
                None => known.push(false),
            }
        }
        off.push(bytes.len());
        let mut end = vec![n; n + 1];
        for l in (0..n).rev() {
            end[l] = if known[l] { end[l + 1] } else { l };
        }
        Self { bytes, off, known, end }
    }
}

/// Raises `best[l - range.start]` to the longest live match from each start
/// `l` in `range` where `need(l)`, in one shard. Returns the first start
/// whose match runs to the end of the input (`range.end` if none).
///
/// Searched in batches whose binary searches interleave
/// (`longest_prefix_lens`). The first start whose match runs to the end of
/// the input ends the search: every later start's match does too (each
/// suffix of a live occurrence occurs where it does), so those are set
/// without one; a streamed copy still being written costs one search per
/// step, not one per token of it.
fn search_positions(
    s: &LiveShard,
    stream: Stream,
    enc: &Encoded,
    range: Range<usize>,
    need: &(impl Fn(usize) -> bool + Sync),
    skip: bool,
    best: &mut [u32],
) -> usize {
    let Some(st) = s.shard.stream(stream) else { return range.end };
    let n = enc.known.len();
    let base = range.start;
    let mut to_end = range.end;
    // The furthest end of a match found so far from a start in `range`.
    let mut reach = range.start;
    let mut l = range.start;
    let mut starts = Vec::with_capacity(BATCH);
    let mut lens = Vec::with_capacity(BATCH);
    while l < range.end && l <= to_end {
        starts.clear();
        // Inside a long match (`skip`): probe starts spread over it instead of
        // every start (see `Index::maximal_match_lengths`).
        // (A match found in the first half of a split search may reach into
        // the second: probes stay in `range`.)
        let probe_end = reach.min(range.end);
        let probing = skip && probe_end > l + SKIP_WINDOW;
        if probing {
            // Every token of `l..reach` is known here: a match found in this
            // shard covers them.
            let w = probe_end - l;
            starts.extend((0..PROBES).map(|k| l + w * k / PROBES));
        } else {
            while l < range.end && starts.len() < BATCH && l <= to_end {
                if enc.known[l] && need(l) {
                    starts.push(l);
                }
                l += 1;
            }
        }
        let pats: Vec<&[u8]> = starts.iter().map(|&l| &enc.bytes[enc.off[l]..enc.off[enc.end[l]]]).collect();
        lens.clear();
        lens.resize(pats.len(), 0);
        st.files.longest_prefix_lens(&pats, &mut lens);
        for (p, len) in pats.iter().zip(lens.iter_mut()) {
            if *len > 0 {
                *len = s.live_prefix_len(stream, p, *len);
            }
        }
        if probing {
            // "Reaches past `reach`" only turns true along the starts (if
            // `x[p..=reach]` occurs, so does every suffix of it), so every
            // start up to the last probe that does not is no maximal start:
            // it gets a length ending at `reach` (an earlier start's end, so
            // it changes no maximal span), and the search goes on after it.
            match starts.iter().zip(&lens).position(|(&p, &len)| p + len > reach) {
                Some(0) => {
                    // `l` itself reaches further: kept as a start-by-start
                    // search would keep it.
                    let len = lens[0];
                    best[l - base] = best[l - base].max(len as u32);
                    reach = l + len;
                    if reach == n {
                        to_end = l;
                    }
                    l += 1;
                }
                first => {
                    let last_short = starts[first.unwrap_or(starts.len()) - 1];
                    for x in l..=last_short {
                        best[x - base] = best[x - base].max((reach - x) as u32);
                    }
                    l = last_short + 1;
                }
            }
            continue;
        }
        for (&p, &len) in starts.iter().zip(&lens) {
            if p > to_end {
                break;
            }
            best[p - base] = best[p - base].max(len as u32);
            reach = reach.max(p + len);
            if p + len == n && len > 0 {
                to_end = p;
            }
        }
    }
    // Inside a match that runs to the end: known without a search.
    for l in to_end.saturating_add(1)..range.end {
        best[l - base] = best[l - base].max((n - l) as u32);
    }
    to_end
}
