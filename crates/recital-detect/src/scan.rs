//! The scan: from an output to reported spans with sources.
//!
//! 1. Tokenise the output exactly as the corpus was (offsets kept).
//! 2. For every start position, the longest match in the index
//!    ([`Index::maximal_match_lengths`]); keep the maximal spans ([`crate::spans`]).
//! 3. Cut out tokens the caller's context accounts for ([`crate::context`]).
//! 4. Each remaining span of at least `seed_tokens` is counted; spans as common
//!    as `boilerplate_count` are stock phrases; the others are located, and those
//!    of at least `min_tokens` are reported as `exact` copies.
//! 5. Exact pieces in the same document are chained across small edits
//!    ([`crate::chain`]) into `near` spans and per-document coverage.
//! 6. Code regions are also matched on the canonical stream (`code-canonical`),
//!    so renamed identifiers and changed literals still match.
//! 7. The pieces of one copy (overlapping, adjacent, or a small gap apart in
//!    one document) are merged into one span with all their sources
//!    ([`crate::merge`]), so a policy judges the copy, not its fragments.

use std::collections::BTreeMap;
use std::ops::Range;

/// The scan's maps are keyed by token strings and positions of one output:
/// small, rebuilt per scan, and on the streaming proxy's path after every
/// token, where SipHash was a measurable share of a step; foldhash (already
/// in the tree) hashes them several times faster, with a per-map random seed.
/// It claims less resistance to chosen-key flooding than SipHash; a map here
/// holds at most one output's tokens and lives for one scan (or one stream's
/// window), which bounds what crafted input could cost.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use recital_index::{DocAddr, Index, Occurrence, Stream};
use recital_text::code::Lang;

use crate::chain::{chain, extend, is_content, Seed};
use crate::context::exempt_mask;
use crate::error::DetectError;
use crate::input::{Input, OffsetMap};
use crate::merge::{merge_with_tokens, MergeLimits};
use crate::renaming::Renaming;
use crate::report::{DocumentMatch, OptionsUsed, ScanReport, Source, Span, SpanKind, SCHEMA};
use crate::spans::{maximal_spans, TokenSpan};

/// Thresholds and switches of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Shortest copy reported, in text tokens (words and punctuation marks).
    pub min_tokens: usize,
    /// Shortest exact piece used as a seed for near-verbatim chaining.
    pub seed_tokens: usize,
    /// Largest gap between chained pieces, in tokens, on either side.
    pub max_gap: usize,
    /// A span that occurs at least this often in the corpus is boilerplate.
    pub boilerplate_count: u64,
    /// Sources listed per span.
    pub max_sources: usize,
    /// Occurrences of a seed examined for chaining.
    pub seed_occurrences: usize,
    /// Shortest canonical code match reported, in lexemes. A match of at
    /// least half as many lexemes is reported where the comments beside it,
    /// which its source has there too, make up the rest (in text tokens).
    pub code_min_tokens: usize,
    /// Treat the whole input as code in this language (when it has no fences).
    pub code: Option<Lang>,
    /// Language of fenced blocks that name none.
    pub fence_default: Option<Lang>,
    /// Text supplied by the caller (prompt, retrieved documents): not flagged.
    pub context: Option<String>,
    /// Chain exact pieces into near-verbatim matches.
    pub near: bool,
    /// Report a canonical code match only where its source also shares a rare
    /// exact text piece with it (structure alone matches unrelated code).
    pub code_text_support: bool,
    /// A seed occurring at most this often is evidence of copying; more common
    /// seeds can bridge a near-verbatim match but not make one.
    pub rare_count: u64,
    /// Lowest edit similarity of a near-verbatim match of code (of 4 ×
    /// `min_tokens` tokens or more; shorter ones need more, see
    /// [`near_similarity_needed`]), where every token counts: punctuation is
    /// syntax there.
    pub near_min_similarity: f64,
    /// The same for text, where similarity is over content tokens (words and
    /// numbers) alone. Higher than the code bar: without punctuation to pad
    /// it, 0.85 is one word in seven changed. Templated pages (javadoc of
    /// sibling classes, a macro's page in a generated manual) share most of
    /// their words and fall between the two; a copy with every ninth word
    /// changed (0.89) is still one.
    pub near_min_word_similarity: f64,
    /// Find each source's byte range in its document and cut a snippet
    /// (`source_byte_start`, `source_byte_end`, `snippet`, `snippet_hit`).
    /// This decodes document text and is most of the cost of attribution; a
    /// caller that only decides (the policy reads ids and rights, never
    /// snippets) turns it off, and those fields are then 0 and empty.
    pub locate_sources: bool,
    /// Merge the pieces of each copy into one span ([`crate::merge`]). Off
    /// only to inspect the pieces themselves (the brute-force oracle test
    /// compares the exact maximal spans): a policy must judge merged copies.
    pub merge: bool,
    /// Report the copies that may still be growing at the end of the text
    /// ([`ScanReport::open`]): a streaming filter holds them back until they
    /// are decided, since a near copy's first exact pieces are each too
    /// short to report.
    pub open_candidates: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            min_tokens: 12,
            seed_tokens: 6,
            max_gap: 8,
            boilerplate_count: 200,
            max_sources: 5,
            seed_occurrences: 32,
            code_min_tokens: 25,
            code: None,
            fence_default: None,
            context: None,
            near: true,
            code_text_support: true,
            rare_count: 10,
            near_min_similarity: 0.75,
            near_min_word_similarity: 0.85,
            locate_sources: true,
            merge: true,
            open_candidates: false,
        }
    }
}

impl ScanOptions {
    /// Checks that the thresholds make sense together.
    pub fn validate(&self) -> Result<(), DetectError> {
        if self.min_tokens == 0 || self.seed_tokens == 0 || self.code_min_tokens == 0 {
            return Err(DetectError::Options("token thresholds must be at least 1".into()));
        }
        if self.seed_tokens > self.min_tokens {
            return Err(DetectError::Options(format!(
                "seed length {} exceeds the minimum span length {}",
                self.seed_tokens, self.min_tokens
            )));
        }
        if ![self.near_min_similarity, self.near_min_word_similarity].iter().all(|s| (0.0..=1.0).contains(s))
        {
            return Err(DetectError::Options("near-verbatim similarity must be between 0 and 1".into()));
        }
        if self.boilerplate_count == 0 {
            return Err(DetectError::Options("boilerplate count must be at least 1".into()));
        }
        Ok(())
    }
}

/// A document: (shard number, document number in the shard).
type DocKey = (usize, usize);

/// A near-verbatim region and the documents it was chained in.
struct NearCandidate {
    chain: crate::chain::Chain,
    /// The chain's similarity over content tokens ([`content_similarity`]).
    similarity: f64,
    docs: Vec<DocKey>,
}

/// A span found in one stream, before it becomes a report entry.
struct Found {
    bytes: Range<usize>,
    tokens: usize,
    count: u64,
    doc_count: u64,
    kind: SpanKind,
    stream: Stream,
    similarity: f64,
    longest: usize,
    /// Up to `max_sources` occurrences, located only once the spans that
    /// survive folding are known ([`locate_all`]).
    sources: Vec<Pending>,
}

/// A source occurrence not yet located, with its document id (what the
/// folding of nested spans compares).
struct Pending {
    stream: Stream,
    occ: Occurrence,
    doc_id: String,
}

/// Work kept between scans of overlapping windows of one growing text (the
/// streaming proxy rescans the text it still holds, plus some context, after
/// every token): per token start, the longest match and the tokens that
/// decided it; per exact piece, its count and occurrences; the context's
/// token runs. Each is a pure function of tokens the memo checks again before
/// reuse, so a scan with a memo reports exactly what one without reports (the
/// property test `tests/incremental.rs` checks this). Cleared when the index
/// snapshot changes; entries not used by the latest scan are dropped.
#[derive(Default)]
pub struct ScanMemo {
    /// The index snapshot the entries belong to: (address, manifest generation).
    snapshot: Option<(usize, u64)>,
    /// By absolute byte offset of a token start: its match length and the
    /// tokens `l..=l + len` that decide it.
    lengths: HashMap<usize, (u32, Vec<String>)>,
    /// By exact piece (text-stream tokens): count and occurrences.
    counts: HashMap<Vec<String>, (u64, Vec<Occurrence>)>,
    /// By (shard, document): token ids read for chain extension, a stretch
    /// per chain, see [`DocIds`].
    doc_ids: HashMap<DocKey, Vec<DocIds>>,
    /// The context, its exemption run length and its indexed runs.
    context: Option<(String, usize, crate::context::ContextGrams)>,
    /// Match lengths searched / reused, over the memo's life (for tests and metrics).
    pub searched: usize,
    /// See `searched`.
    pub reused: usize,
    /// One memo per view of the window that applied in the latest scan
    /// ([`crate::scan_window_views`]).
    pub(crate) views: Vec<(crate::ViewKind, ScanMemo)>,
}

/// Token ids of a stretch of one document, read for chain extension: from
/// token `from`, as `doc_token_ids(from, to)` returned them (fewer where the
/// document ends first). A chain in a growing output asks for nearly the same
/// stretch at every step; reading it (a checkpoint search and varint decoding
/// of a few hundred tokens) was a tenth of the proxy's step.
struct DocIds {
    from: usize,
    to: usize,
    ids: Vec<u32>,
}

impl DocIds {
    /// `doc_token_ids(from, to)` from this stretch, if it covers it.
    fn get(&self, from: usize, to: usize) -> Option<&[u32]> {
        (self.from <= from && to <= self.to).then(|| {
            let a = (from - self.from).min(self.ids.len());
            &self.ids[a..(to - self.from).min(self.ids.len())]
        })
    }
}

/// Scans `input` against `index`.
pub fn scan(index: &Index, input: &Input, opts: &ScanOptions) -> Result<ScanReport, DetectError> {
    scan_inner(index, input, opts, None)
}

/// [`scan`] of a window of a longer text that grows at its end, starting at
/// byte `offset` of that text, reusing `memo` from scans of earlier windows of
/// the same text (with the same options). The report is the same as
/// [`scan`]'s of the window alone (offsets relative to the window).
pub fn scan_window(
    index: &Index,
    input: &Input,
    opts: &ScanOptions,
    memo: &mut ScanMemo,
    offset: usize,
) -> Result<ScanReport, DetectError> {
    scan_window_keyed(index, input, opts, memo, &|b| offset + b)
}

/// [`scan_window`] where a token starting at byte `b` of the input's text is
/// remembered under `key(b)`: a position in the growing text that stays the
/// same from one window to the next. A view of a window is not a shifted
/// copy of the next window's view, so its tokens are keyed by the original
/// bytes they came from. A wrong key costs only a search: an entry is reused
/// only where the tokens that decided it are the same.
pub(crate) fn scan_window_keyed(
    index: &Index,
    input: &Input,
    opts: &ScanOptions,
    memo: &mut ScanMemo,
    key: &dyn Fn(usize) -> usize,
) -> Result<ScanReport, DetectError> {
    scan_inner(index, input, opts, Some((memo, key)))
}

/// A stream's memo and the key of each token start (see [`scan_window_keyed`]).
type Memo<'a> = Option<(&'a mut ScanMemo, &'a dyn Fn(usize) -> usize)>;

fn scan_inner(
    index: &Index,
    input: &Input,
    opts: &ScanOptions,
    mut memo: Memo<'_>,
) -> Result<ScanReport, DetectError> {
    opts.validate()?;
    index.verify_once()?;
    let text = input.text.as_str();
    let ts = recital_text::tokenize(text);
    let toks: Vec<&str> = (0..ts.len()).map(|i| ts.text(i)).collect();
    let n = toks.len();
    let mut found: Vec<Found> = Vec::new();
    if let Some((m, _)) = memo.as_mut() {
        let snap = (index as *const Index as usize, index.generation());
        if m.snapshot != Some(snap) {
            m.lengths.clear();
            m.counts.clear();
            m.doc_ids.clear();
            m.snapshot = Some(snap);
        }
    }

    // Context exemption (by text tokens; canonical spans are checked by bytes).
    let mask = match (&opts.context, memo.as_mut()) {
        (Some(c), Some((m, _))) => {
            let fresh = m.context.as_ref().is_none_or(|(mc, k, _)| mc != c || *k != opts.seed_tokens);
            if fresh {
                let cts = recital_text::tokenize(c);
                let ctoks: Vec<&str> = (0..cts.len()).map(|i| cts.text(i)).collect();
                let grams = crate::context::ContextGrams::new(&ctoks, opts.seed_tokens);
                m.context = Some((c.clone(), opts.seed_tokens, grams));
            }
            m.context.as_ref().map(|(_, _, g)| g.mask(&toks)).unwrap_or_else(|| vec![false; n])
        }
        (Some(c), None) => {
            let cts = recital_text::tokenize(c);
            let ctoks: Vec<&str> = (0..cts.len()).map(|i| cts.text(i)).collect();
            exempt_mask(&toks, &ctoks, opts.seed_tokens)
        }
        (None, _) => vec![false; n],
    };
    let exempt_tokens = mask.iter().filter(|&&m| m).count();
    let byte_range = |s: TokenSpan| ts.tokens[s.start].src.start..ts.tokens[s.end - 1].src.end;

    // The code regions' canonical streams, searched beside the text stream
    // on a second thread when there are many lexemes (a long code answer).
    let marked = crate::code::marked_regions(text, opts.code, opts.fence_default);
    let declared: Vec<Range<usize>> = marked.iter().filter(|m| m.2).map(|m| m.0.clone()).collect();
    let regions: Vec<(Range<usize>, recital_text::TokenStream)> = marked
        .into_iter()
        .map(|(region, lang, _)| {
            let cts = recital_text::code::canonical(&text[region.clone()], lang);
            (region, cts)
        })
        .collect();
    let canon_lengths = |regions: &[(Range<usize>, recital_text::TokenStream)]| -> Vec<Vec<u32>> {
        regions
            .iter()
            .map(|(_, cts)| {
                let ctoks: Vec<&str> = (0..cts.len()).map(|i| cts.text(i)).collect();
                index.maximal_match_lengths(Stream::Canon, &ctoks)
            })
            .collect()
    };
    let lexemes: usize = regions.iter().map(|(_, c)| c.len()).sum();
    // Text stream: maximal spans, split around exempt tokens.
    let (lengths, region_lengths) = std::thread::scope(|sc| {
        let beside = (lexemes >= PARALLEL_LEXEMES).then(|| sc.spawn(|| canon_lengths(&regions)));
        let lengths = match memo.as_mut() {
            Some((m, key)) => memo_lengths(index, &ts, &toks, m, *key),
            // Only the maximal spans are used: no search inside long copies.
            None => index.maximal_match_lengths(Stream::Text, &toks),
        };
        let region_lengths = match beside {
            Some(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => canon_lengths(&regions),
        };
        (lengths, region_lengths)
    });
    let mut seeds: Vec<TokenSpan> = Vec::new();
    for s in maximal_spans(&lengths, opts.seed_tokens) {
        let mut a = s.start;
        while a < s.end {
            while a < s.end && mask[a] {
                a += 1;
            }
            let mut b = a;
            while b < s.end && !mask[b] {
                b += 1;
            }
            if b - a >= opts.seed_tokens {
                seeds.push(TokenSpan { start: a, end: b });
            }
            a = b;
        }
    }
    // In code, punctuation is syntax, not markup: every token there counts.
    // Only in declared code: a bare region's bounds are a guess, and a
    // paragraph of a technical text must keep prose's stricter bar.
    let in_code: Vec<bool> =
        ts.tokens.iter().map(|t| declared.iter().any(|r| r.contains(&t.src.start))).collect();
    let content: Vec<bool> = (0..n).map(|i| in_code[i] || is_content(toks[i].as_bytes())).collect();
    let mut per_doc: HashMap<DocKey, Vec<Seed>> = HashMap::default();
    let limit = opts.seed_occurrences.max(opts.max_sources);
    let mut counts_used: HashMap<Vec<String>, (u64, Vec<Occurrence>)> = HashMap::default();
    for s in &seeds {
        let q = &toks[s.start..s.end];
        let (count, occ) = match memo.as_mut() {
            Some((m, _)) => {
                let key: Vec<String> = q.iter().map(|t| t.to_string()).collect();
                let hit = m.counts.remove(&key).or_else(|| counts_used.get(&key).cloned());
                let v = hit.unwrap_or_else(|| index.count_and_occurrences(Stream::Text, q, limit));
                counts_used.insert(key, v.clone());
                v
            }
            None => index.count_and_occurrences(Stream::Text, q, limit),
        };
        if count == 0 {
            continue;
        }
        let boiler = count >= opts.boilerplate_count;
        if !boiler {
            for o in &occ {
                per_doc.entry((o.shard, o.doc)).or_default().push(Seed {
                    out_start: s.start,
                    doc_start: o.token_start,
                    len: s.len(),
                    rare: count <= opts.rare_count,
                });
            }
        }
        if s.len() >= opts.min_tokens {
            let stock =
                boiler || low_complexity(&toks[s.start..s.end]) || marks(&content[s.start..s.end], opts);
            found.push(Found {
                bytes: byte_range(*s),
                tokens: s.len(),
                count,
                doc_count: distinct_docs(&occ, count),
                kind: if stock { SpanKind::Boilerplate } else { SpanKind::Exact },
                stream: Stream::Text,
                similarity: 1.0,
                longest: s.len(),
                sources: pending(index, Stream::Text, &occ, opts)?,
            });
        }
    }

    if let Some((m, _)) = memo.as_mut() {
        m.counts = counts_used;
    }

    // Near-verbatim: chains of exact pieces in one document, extended at their
    // edges across edits the seed search cannot see.
    let mut near: BTreeMap<(usize, usize), NearCandidate> = BTreeMap::new();
    let mut documents: Vec<DocumentMatch> = Vec::new();
    // Where each document has rare exact text pieces: support for canonical
    // code matches below (a renamed copy still shares some text with its source).
    let support: HashMap<DocKey, Vec<Range<usize>>> = per_doc
        .iter()
        .map(|(k, seeds)| {
            let r = seeds
                .iter()
                .filter(|sd| sd.rare)
                .map(|sd| byte_range(TokenSpan { start: sd.out_start, end: sd.out_start + sd.len }))
                .collect();
            (*k, r)
        })
        .collect();
    let mut doc_keys: Vec<DocKey> = per_doc.keys().copied().collect();
    doc_keys.sort_unstable();
    // Documents' token ids kept from the previous window (memo only); those
    // used now are kept for the next.
    let mut ids_before = memo.as_mut().map(|(m, _)| std::mem::take(&mut m.doc_ids)).unwrap_or_default();
    let mut ids_now: HashMap<DocKey, Vec<DocIds>> = HashMap::default();
    let mut open_chains: Vec<(usize, DocKey, usize, usize)> = Vec::new();
    for key in doc_keys {
        let mut chains = chain(per_doc.remove(&key).unwrap_or_default(), opts.max_gap, |i| content[i]);
        let mut covered = vec![false; n];
        let mut best_sim: f64 = 0.0;
        let mut longest = 0;
        for c in chains.iter_mut() {
            for sd in &c.seeds {
                covered[sd.out_start..sd.out_start + sd.len].iter_mut().for_each(|x| *x = true);
            }
            let mut extended = 0;
            // Content similarity, where the chain has the content to be a copy.
            let mut content_sim = None;
            if opts.near && c.content_evidence * 2 >= opts.min_tokens {
                // The document's tokens around the chain, from the index itself:
                // their ids, and their text only where the walk reads it (a
                // vocabulary lookup is a cache miss on a large index).
                const REACH: usize = 256;
                let lo = c.doc_start.saturating_sub(REACH);
                let hi = c.doc_end + REACH;
                if let Some(st) = index.doc_tokens(Stream::Text, DocAddr::new(key.0, key.1)) {
                    // (A document can hold several chains: one kept stretch each.)
                    let covers = |d: &DocIds| d.get(lo, hi).is_some();
                    let read;
                    let ids: &[u32] = if memo.is_some() {
                        let kept = ids_now.entry(key).or_default();
                        if !kept.iter().any(covers) {
                            let before = ids_before.get_mut(&key);
                            let reuse =
                                before.and_then(|v| v.iter().position(covers).map(|i| v.swap_remove(i)));
                            // Read ahead: the chain grows with the output.
                            kept.push(reuse.unwrap_or_else(|| DocIds {
                                from: lo,
                                to: hi + REACH,
                                ids: st.ids(lo, hi + REACH),
                            }));
                        }
                        kept.iter().find_map(|d| d.get(lo, hi)).unwrap_or_default()
                    } else {
                        read = st.ids(lo, hi);
                        &read
                    };
                    c.doc_start -= lo;
                    c.doc_end -= lo;
                    let doc_tok = |i: usize| ids.get(i).map(|&id| st.text(id));
                    extended = extend(c, &toks, doc_tok, |i| content[i], 4);
                    if c.content_matched >= opts.min_tokens && c.content_evidence >= opts.min_tokens {
                        let doc_words = ids
                            .get(c.doc_start..c.doc_end.min(ids.len()))
                            .unwrap_or_default()
                            .iter()
                            .filter(|&&id| in_code[c.out_start] || is_content(st.text(id)))
                            .count();
                        content_sim = Some(content_similarity(c, &content, doc_words));
                    }
                    c.doc_start += lo;
                    c.doc_end += lo;
                }
            }
            let exempt_part = mask[c.out_start..c.out_end].iter().filter(|&&m| m).count();
            if opts.open_candidates
                && opts.near
                && c.evidence > 0
                && open_at_end(c.out_end, n, opts)
                && exempt_part * 2 < c.out_end - c.out_start
            {
                open_chains.push((c.out_start, key, c.doc_start, c.doc_end));
            }
            longest = longest.max(c.longest_run);
            if c.matched >= opts.min_tokens {
                best_sim = best_sim.max(c.similarity);
            }
            let edited = opts.near && (c.seeds.len() >= 2 || extended > 0);
            let exempt = mask[c.out_start..c.out_end].iter().filter(|&&m| m).count();
            let words = content[c.out_start..c.out_end].iter().filter(|&&w| w).count();
            // Judged on content tokens: matches made of marks, rules and
            // indentation are a shared template, however many there are.
            if let Some(sim) = content_sim.filter(|&sim| {
                edited
                    && sim >= near_similarity_needed(words, in_code[c.out_start], opts)
                    && exempt * 2 < c.out_end - c.out_start
                    && !low_complexity(&toks[c.out_start..c.out_end])
            }) {
                let e = near.entry((c.out_start, c.out_end)).or_insert_with(|| NearCandidate {
                    chain: c.clone(),
                    similarity: sim,
                    docs: Vec::new(),
                });
                if c.matched > e.chain.matched {
                    e.chain = c.clone();
                    e.similarity = sim;
                }
                e.docs.push(key);
            }
        }
        let matched = covered.iter().filter(|&&x| x).count();
        if matched >= opts.min_tokens {
            let doc = index.doc(DocAddr::new(key.0, key.1)).map_err(DetectError::from)?;
            documents.push(DocumentMatch {
                doc_id: doc.id,
                path: doc.path,
                license: doc.rights.license,
                coverage: matched as f64 / n.max(1) as f64,
                matched_tokens: matched,
                similarity: best_sim,
                longest_exact_run: longest,
            });
        }
    }
    if let Some((m, _)) = memo.as_mut() {
        m.doc_ids = ids_now;
    }
    documents.sort_by(|a, b| b.matched_tokens.cmp(&a.matched_tokens).then_with(|| a.doc_id.cmp(&b.doc_id)));
    let open = open_spans(index, input, &ts, open_chains, opts)?;
    for ((a, b), cand) in near {
        let c = &cand.chain;
        // Only as many as `pending` keeps: a stock passage edited the same
        // way can chain in thousands of documents.
        let occ: Vec<Occurrence> = cand
            .docs
            .iter()
            .take(opts.max_sources)
            .map(|&(shard, doc)| Occurrence { shard, doc, token_start: c.doc_start, token_end: c.doc_end })
            .collect();
        let srcs = pending(index, Stream::Text, &occ, opts)?;
        found.push(Found {
            bytes: byte_range(TokenSpan { start: a, end: b }),
            tokens: b - a,
            count: cand.docs.len() as u64,
            doc_count: cand.docs.len() as u64,
            kind: SpanKind::Near,
            stream: Stream::Text,
            similarity: cand.similarity,
            longest: c.longest_run,
            sources: srcs,
        });
    }

    // Code: the canonical stream of fenced blocks (or of the whole input).
    let exempt_bytes: Vec<Range<usize>> =
        (0..n).filter(|&i| mask[i]).map(|i| ts.tokens[i].src.clone()).collect();
    let covered_bytes: Vec<Range<usize>> =
        found.iter().filter(|f| f.kind != SpanKind::Boilerplate).map(|f| f.bytes.clone()).collect();
    for ((region, cts), lengths) in regions.iter().zip(&region_lengths) {
        let region = region.clone();
        let ctoks: Vec<&str> = (0..cts.len()).map(|i| cts.text(i)).collect();
        // A match shorter than `code_min_tokens` lexemes (down to half of it)
        // counts the comments beside it that its source has there too: a
        // renamer leaves comments alone, and a short function under its doc
        // comment is as much a copy as a longer one without.
        for s in maximal_spans(lengths, opts.code_min_tokens.div_ceil(2)) {
            let bytes =
                region.start + cts.tokens[s.start].src.start..region.start + cts.tokens[s.end - 1].src.end;
            if overlap(&bytes, &covered_bytes) * 10 >= bytes.len() * 9
                || overlap(&bytes, &exempt_bytes) * 2 >= bytes.len()
            {
                continue;
            }
            let lexeme_at =
                |i: usize| region.start + cts.tokens[i].src.start..region.start + cts.tokens[i].src.end;
            // The comments right before and after the span, up to the lexemes
            // or region bounds around it.
            let lo = if s.start > 0 { cts.tokens[s.start - 1].src.end } else { 0 };
            let hi = cts.tokens.get(s.end).map_or(region.len(), |t| t.src.start);
            let before = crate::attached::trimmed(text, region.start + lo..bytes.start);
            let after = crate::attached::trimmed(text, bytes.end..region.start + hi);
            let short = s.len() < opts.code_min_tokens;
            let lexeme_bytes: Vec<Range<usize>> =
                if short { (s.start..s.end).map(lexeme_at).collect() } else { Vec::new() };
            // A short span needs comments enough to count: checked on the
            // output alone before any source is read.
            if short {
                let words = |r: Range<usize>| recital_text::tokenize(&text[r]).len();
                let comments = words(before.clone())
                    + words(after.clone())
                    + lexeme_bytes.windows(2).map(|w| words(w[0].end..w[1].start)).sum::<usize>();
                if s.len() + comments < opts.code_min_tokens {
                    continue;
                }
            }
            let q = &ctoks[s.start..s.end];
            let (count, mut occ) =
                index.count_and_occurrences(Stream::Canon, q, opts.seed_occurrences.max(opts.max_sources));
            let boiler = count >= opts.boilerplate_count || low_complexity(&ctoks[s.start..s.end]);
            if short && (boiler || !opts.code_text_support) {
                // Too short to report as a stock shape, or without its evidence.
                continue;
            }
            // Per kept source, the span grown over its attached comments.
            let mut widened: Vec<Range<usize>> = Vec::new();
            if opts.code_text_support && !boiler {
                // Keep the sources that share a rare exact text piece with this
                // span, or of which it is a consistently renamed copy (a short
                // span: only where its source's comments bring its evidence up).
                let out: Vec<(&str, &str)> = (s.start..s.end)
                    .map(|i| {
                        (
                            ctoks[i],
                            &text[region.start + cts.tokens[i].src.start
                                ..region.start + cts.tokens[i].src.end],
                        )
                    })
                    .collect();
                let mut kept = Vec::with_capacity(occ.len());
                for o in occ {
                    let w = if short {
                        let ev = crate::attached::evidence(
                            index,
                            o,
                            text,
                            &lexeme_bytes,
                            before.clone(),
                            after.clone(),
                        )?;
                        if s.len() + ev.comment_tokens < opts.code_min_tokens {
                            continue;
                        }
                        ev.bytes
                    } else {
                        bytes.clone()
                    };
                    let shared = support
                        .get(&(o.shard, o.doc))
                        .is_some_and(|rs| rs.iter().any(|r| r.start < w.end && w.start < r.end));
                    if shared || renamed_copy(index, o, &out)? {
                        kept.push(o);
                        widened.push(w);
                    }
                }
                occ = kept;
                if occ.is_empty() {
                    continue;
                }
            }
            occ.truncate(opts.max_sources);
            let bytes = match occ.first() {
                Some(_) if short => widened[0].clone(),
                // Comments beside the span that its source has there too.
                Some(&o) if !boiler => {
                    // A comment a text span already reports needs no source read.
                    let open = |c: Range<usize>| {
                        if overlap(&c, &covered_bytes) >= c.len() {
                            c.start..c.start
                        } else {
                            c
                        }
                    };
                    crate::attached::widen(index, o, text, bytes, open(before), open(after))?
                }
                _ => bytes,
            };
            found.push(Found {
                bytes,
                tokens: s.len(),
                count,
                doc_count: distinct_docs(&occ, count),
                kind: if boiler { SpanKind::Boilerplate } else { SpanKind::CodeCanonical },
                stream: Stream::Canon,
                similarity: 1.0,
                longest: s.len(),
                sources: pending(index, Stream::Canon, &occ, opts)?,
            });
        }
    }

    // A span inside a longer one that shares a source adds nothing: fold it in.
    found.sort_by(|a, b| b.bytes.len().cmp(&a.bytes.len()).then(a.bytes.start.cmp(&b.bytes.start)));
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        let shares = |k: &Found| {
            k.bytes.start <= f.bytes.start
                && k.bytes.end >= f.bytes.end
                && k.sources.iter().any(|a| f.sources.iter().any(|b| a.doc_id == b.doc_id))
        };
        match kept.iter_mut().find(|k| shares(k)) {
            Some(k) => {
                if k.stream == f.stream {
                    k.longest = k.longest.max(f.longest);
                }
            }
            None => kept.push(f),
        }
    }
    let mut found = kept;

    // Report: spans in offsets of `text`, each copy's pieces merged into one,
    // then offsets into the input as given.
    found.sort_by(|a, b| a.bytes.start.cmp(&b.bytes.start).then(b.bytes.end.cmp(&a.bytes.end)));
    let mut located = locate_all(index, &found, opts.locate_sources)?.into_iter();
    let offsets =
        OffsetMap::new(text, found.iter().flat_map(|f| [f.bytes.start, f.bytes.end]).chain([text.len()]));
    let spans: Vec<Span> = found
        .into_iter()
        .map(|f| Span {
            byte_start: f.bytes.start,
            byte_end: f.bytes.end,
            char_start: offsets.char_of(f.bytes.start),
            char_end: offsets.char_of(f.bytes.end),
            utf16_start: offsets.utf16_of(f.bytes.start),
            utf16_end: offsets.utf16_of(f.bytes.end),
            tokens: f.tokens,
            count: f.count,
            doc_count: f.doc_count,
            kind: f.kind,
            stream: f.stream,
            similarity: f.similarity,
            longest_exact_run: f.longest,
            text: text[f.bytes.clone()].to_string(),
            sources: located.by_ref().take(f.sources.len()).collect(),
        })
        .collect();
    let limits = MergeLimits { max_gap: opts.max_gap, max_sources: opts.max_sources };
    let mut spans = if opts.merge { merge_with_tokens(spans, text, &ts, limits) } else { spans };
    let copy_bytes: Vec<Range<usize>> =
        spans.iter().filter(|s| s.kind != SpanKind::Boilerplate).map(|s| s.byte_start..s.byte_end).collect();
    let covered_tokens = (0..n).filter(|&i| overlap(&ts.tokens[i].src, &copy_bytes) > 0).count();
    for s in &mut spans {
        s.byte_start = input.input_offset(s.byte_start);
        s.byte_end = input.input_offset(s.byte_end);
    }
    Ok(ScanReport {
        schema: SCHEMA,
        input_bytes: input.input_len,
        input_chars: offsets.char_of(text.len()),
        tokens: n,
        spans,
        open,
        documents: documents.into_iter().take(20).collect(),
        coverage: covered_tokens as f64 / n.max(1) as f64,
        exempt_tokens,
        options: OptionsUsed {
            min_tokens: opts.min_tokens,
            seed_tokens: opts.seed_tokens,
            max_gap: opts.max_gap,
            boilerplate_count: opts.boilerplate_count,
            code_min_tokens: opts.code_min_tokens,
        },
        warnings: input.warnings.clone(),
    })
}

/// Match lengths of a window's tokens, reusing the memo's where the tokens that
/// decided them are unchanged (see [`Index::match_lengths_where`]); the memo
/// keeps the closed answers (a match that stops before the window's end).
fn memo_lengths(
    index: &Index,
    ts: &recital_text::TokenStream,
    toks: &[&str],
    m: &mut ScanMemo,
    key: &dyn Fn(usize) -> usize,
) -> Vec<u32> {
    let n = toks.len();
    let at = |l: usize| key(ts.tokens[l].src.start);
    let known: Vec<Option<u32>> = (0..n)
        .map(|l| {
            let (len, key) = m.lengths.get(&at(l))?;
            let end = l + *len as usize;
            (end < n && key.len() == end - l + 1 && key.iter().zip(&toks[l..=end]).all(|(a, b)| a == b))
                .then_some(*len)
        })
        .collect();
    // Only the tail from the first start without an answer is handed to the
    // index: a match from `l` reads `toks[l..]` alone, and the index looks up
    // every token it is given in its vocabulary, a cache miss each on a large
    // index when a stream's steps are 20 ms apart. In a window of novel text
    // every start but the last few has a closed, reusable answer, so the
    // lookups per step drop from the window's tokens to a few. (While a copy
    // is still being streamed, its starts stay open and the tail runs from
    // the copy's start: its tokens are looked up each step, though the
    // searches stay few, see `search_positions`.)
    let first = known.iter().position(Option::is_none).unwrap_or(n);
    let mut lengths = vec![0u32; first];
    lengths.extend(index.match_lengths_where(Stream::Text, &toks[first..], |l| known[first + l].is_none()));
    let mut next = HashMap::with_capacity_and_hasher(n, Default::default());
    for l in 0..n {
        match known[l] {
            Some(len) => {
                lengths[l] = len;
                m.reused += 1;
            }
            None => m.searched += 1,
        }
        let end = l + lengths[l] as usize;
        if end < n {
            let key = match m.lengths.remove(&at(l)) {
                Some((len, key)) if known[l].is_some() && len == lengths[l] => key,
                _ => toks[l..=end].iter().map(|t| t.to_string()).collect(),
            };
            next.insert(at(l), (lengths[l], key));
        }
    }
    m.lengths = next;
    lengths
}

/// Whether a chain ending at token `out_end` of `n` may still grow: a seed
/// that could join it starts at most `max_gap` tokens after it, and is not
/// visible until it has `seed_tokens` tokens.
fn open_at_end(out_end: usize, n: usize, opts: &ScanOptions) -> bool {
    n.saturating_sub(out_end) < opts.max_gap + opts.seed_tokens
}

/// The open candidates ([`ScanReport::open`]): one per first token, from it
/// to the end of the text, with up to `max_sources` of the documents whose
/// chains start there (not located: the policy reads ids and rights).
fn open_spans(
    index: &Index,
    input: &Input,
    ts: &recital_text::TokenStream,
    mut chains: Vec<(usize, DocKey, usize, usize)>,
    opts: &ScanOptions,
) -> Result<Vec<Span>, DetectError> {
    if chains.is_empty() {
        return Ok(Vec::new());
    }
    chains.sort_unstable();
    let text = input.text.as_str();
    let starts = chains.iter().map(|c| ts.tokens[c.0].src.start);
    let offsets = OffsetMap::new(text, starts.chain([text.len()]));
    let mut out = Vec::new();
    for group in chains.chunk_by(|a, b| a.0 == b.0) {
        let sources = group
            .iter()
            .take(opts.max_sources)
            .map(|&(_, (shard, doc), a, b)| {
                source(index, Stream::Text, Occurrence { shard, doc, token_start: a, token_end: b }, false)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let at = ts.tokens[group[0].0].src.start;
        out.push(Span {
            byte_start: input.input_offset(at),
            byte_end: input.input_len,
            char_start: offsets.char_of(at),
            char_end: offsets.char_of(text.len()),
            utf16_start: offsets.utf16_of(at),
            utf16_end: offsets.utf16_of(text.len()),
            tokens: ts.len() - group[0].0,
            count: group.len() as u64,
            doc_count: group.len() as u64,
            kind: SpanKind::Near,
            stream: Stream::Text,
            similarity: 0.0,
            longest_exact_run: 0,
            text: text[at..].to_string(),
            sources,
        });
    }
    Ok(out)
}

/// Code regions with at least this many lexemes in all are searched on a
/// second thread while the text stream is searched (a 4 KB code answer has
/// ~900, a 64 KB one ~10k; the thread costs ~30 µs to start).
const PARALLEL_LEXEMES: usize = 512;
/// Sources to locate from which [`locate_all`] uses a second thread.
const PARALLEL_SOURCES: usize = 8;

/// A chain's similarity over content tokens: its content matches over the
/// content tokens of the longer of its output range (`content` marks the
/// output's) and its document range (`doc_words` of them). 1.0 for a copy
/// whose edits touch only punctuation or layout.
fn content_similarity(c: &crate::chain::Chain, content: &[bool], doc_words: usize) -> f64 {
    let out_words = content[c.out_start..c.out_end].iter().filter(|&&w| w).count();
    c.content_matched as f64 / out_words.max(doc_words).max(1) as f64
}

/// The edit similarity a near-verbatim match of `len` content tokens needs
/// (in `code`, every token is one; see [`ScanOptions::near_min_word_similarity`]).
///
/// A short chain with a few edits is weak evidence: two 6-token seeds and a
/// changed word around a stock phrase ("// MarshalBinary implements
/// encoding.BinaryMarshaler. func (x X) MarshalBinary() …") look alike in
/// any two implementations of an interface. Long chains carry their evidence
/// in length. So the bar is [`ScanOptions::near_min_similarity`] (prose:
/// `near_min_word_similarity`) from 4 × `min_tokens` tokens on, and rises
/// linearly to 40 % of the way to 1.0 (0.75 → 0.85 by default) at
/// 2 × `min_tokens` and below.
pub fn near_similarity_needed(len: usize, code: bool, opts: &ScanOptions) -> f64 {
    let m = opts.min_tokens.max(1) as f64;
    let short = ((4.0 * m - len as f64) / (2.0 * m)).clamp(0.0, 1.0);
    let base = if code { opts.near_min_similarity } else { opts.near_min_word_similarity };
    base + (1.0 - base) * 0.4 * short
}

/// True for a run of marks with a word or two in it (a table's rules around
/// a heading, a binding's `}; … = <`): at least 8 tokens, fewer than a fifth
/// of them and fewer than `min_tokens / 2` carrying content (`content`;
/// code's tokens all do). It matches across unrelated documents by layout
/// alone. (A shorter run says too little to judge either way.)
fn marks(content: &[bool], opts: &ScanOptions) -> bool {
    let words = content.iter().filter(|&&w| w).count();
    content.len() >= 8 && words * 5 < content.len() && words * 2 < opts.min_tokens
}

/// True for repetitive token runs (lists of `#define`s, enum members, table
/// rows, rules of `=====`): fewer than 16 distinct 4-token shapes however long
/// the run (fewer than half its 4-token windows, for runs under 35 tokens). They match across unrelated files by structure alone, so they are
/// reported as boilerplate. An absolute count, not a ratio: a real passage that
/// contains a long repetitive stretch (a banner comment above a function) keeps
/// its distinct shapes and stays a copy.
pub fn low_complexity<S: AsRef<str>>(toks: &[S]) -> bool {
    const MIN_SHAPES: usize = 16;
    if toks.len() < 4 {
        return false;
    }
    // Short runs cannot have 16 shapes: ask for half of their windows.
    let need = MIN_SHAPES.min((toks.len() - 3).div_ceil(2));
    let mut grams: std::collections::HashSet<[&str; 4]> = std::collections::HashSet::new();
    for w in toks.windows(4) {
        grams.insert([w[0].as_ref(), w[1].as_ref(), w[2].as_ref(), w[3].as_ref()]);
        if grams.len() >= need {
            return false;
        }
    }
    true
}

/// Bytes of `r` inside the union of `others`.
fn overlap(r: &Range<usize>, others: &[Range<usize>]) -> usize {
    let mut parts: Vec<Range<usize>> = others
        .iter()
        .filter_map(|o| {
            let a = r.start.max(o.start);
            let b = r.end.min(o.end);
            (a < b).then_some(a..b)
        })
        .collect();
    parts.sort_by_key(|p| p.start);
    let (mut total, mut reach) = (0, r.start);
    for p in parts {
        let a = p.start.max(reach);
        if p.end > a {
            total += p.end - a;
            reach = p.end;
        }
    }
    total
}

/// Distinct documents among the occurrences seen (exact when all were seen).
fn distinct_docs(occ: &[Occurrence], count: u64) -> u64 {
    let mut d: Vec<(usize, usize)> = occ.iter().map(|o| (o.shard, o.doc)).collect();
    d.sort_unstable();
    d.dedup();
    if count as usize <= occ.len() {
        d.len() as u64
    } else {
        // Not every occurrence was examined: at least this many documents.
        d.len().max(1) as u64
    }
}

/// Whether the output lexemes `out` (canonical token, original text) are a
/// consistently renamed copy of the source range `o` ([`Renaming`]). Lexes
/// only the source's window ([`Index::with_code_range`]).
fn renamed_copy(index: &Index, o: Occurrence, out: &[(&str, &str)]) -> Result<bool, DetectError> {
    let verdict = index.with_code_range(o, |text, lx| {
        let src: Vec<(&str, &str)> = lx
            .iter()
            .map(|l| (recital_text::code::canonical_of(text, l), text.get(l.src.clone()).unwrap_or("")))
            .collect();
        Renaming::compare(out, &src).is_renamed_copy()
    })?;
    Ok(verdict.unwrap_or(false))
}

/// The first `max_sources` occurrences, to be located later.
fn pending(
    index: &Index,
    stream: Stream,
    occ: &[Occurrence],
    opts: &ScanOptions,
) -> Result<Vec<Pending>, DetectError> {
    occ.iter()
        .take(opts.max_sources)
        .map(|&o| {
            let doc_id = index.doc_id(o.addr())?;
            Ok(Pending { stream, occ: o, doc_id })
        })
        .collect()
}

/// Every pending source of `found`, in order, located. Locating is most of
/// the scan's time after the searches (each source decodes its document's
/// block and finds the hit in it), and the sources are independent, so many
/// of them are split over two threads.
fn locate_all(index: &Index, found: &[Found], locate: bool) -> Result<Vec<Source>, DetectError> {
    let all: Vec<&Pending> = found.iter().flat_map(|f| &f.sources).collect();
    let run = |part: &[&Pending]| -> Result<Vec<Source>, DetectError> {
        part.iter().map(|p| source(index, p.stream, p.occ, locate)).collect()
    };
    if !locate
        || all.len() < PARALLEL_SOURCES
        || std::thread::available_parallelism().map_or(1, |p| p.get()) < 2
    {
        return run(&all);
    }
    let (a, b) = all.split_at(all.len() / 2);
    std::thread::scope(|sc| {
        let first = sc.spawn(|| run(a));
        let second = run(b)?;
        let mut first = first.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        first.extend(second);
        Ok(first)
    })
}

fn source(index: &Index, stream: Stream, o: Occurrence, locate: bool) -> Result<Source, DetectError> {
    if !locate {
        // Document and rights only: no text decoded.
        let recital_index::Doc { id, path, rights, .. } = index.doc(o.addr())?;
        return Ok(Source {
            doc_id: id,
            path,
            license: rights.license,
            holder: rights.holder,
            url: rights.url,
            tdm_opt_out: rights.tdm_opt_out,
            jurisdictions: rights.jurisdictions,
            category: rights.category,
            tdm_policy: rights.tdm_policy,
            iscc: rights.iscc,
            provenance: rights.provenance,
            source_byte_start: 0,
            source_byte_end: 0,
            snippet: String::new(),
            snippet_hit: [0, 0],
        });
    }
    let h = index.hit(stream, o)?;
    Ok(Source {
        doc_id: h.doc_id,
        path: h.path,
        license: h.rights.license,
        holder: h.rights.holder,
        url: h.rights.url,
        tdm_opt_out: h.rights.tdm_opt_out,
        jurisdictions: h.rights.jurisdictions,
        category: h.rights.category,
        tdm_policy: h.rights.tdm_policy,
        iscc: h.rights.iscc,
        provenance: h.rights.provenance,
        source_byte_start: h.byte_start,
        source_byte_end: h.byte_end,
        snippet: h.snippet,
        snippet_hit: h.snippet_hit,
    })
}

#[cfg(test)]
mod tests {
    use super::{low_complexity, near_similarity_needed, DocIds, ScanOptions};
    use proptest::prelude::*;

    /// `doc_token_ids(from, to)` of a document whose token ids are `doc`.
    fn read(doc: &[u32], from: usize, to: usize) -> Vec<u32> {
        doc.get(from..to.min(doc.len()).max(from)).unwrap_or(&[]).to_vec()
    }

    proptest! {
        /// A kept stretch answers a read it covers exactly as reading the
        /// document again would, and refuses one it does not cover.
        #[test]
        fn kept_document_ids_equal_a_fresh_read(
            len in 0usize..60, from in 0usize..70, span in 0usize..70, lo in 0usize..80, w in 0usize..80,
        ) {
            let doc: Vec<u32> = (1..=len as u32).collect();
            let kept = DocIds { from, to: from + span, ids: read(&doc, from, from + span) };
            let hi = lo + w;
            match kept.get(lo, hi) {
                Some(ids) => {
                    prop_assert!(from <= lo && hi <= from + span);
                    prop_assert_eq!(ids, &read(&doc, lo, hi)[..]);
                }
                None => prop_assert!(lo < from || hi > from + span),
            }
        }
    }

    #[test]
    fn short_near_matches_need_more_similarity() {
        let o = ScanOptions::default();
        let m = o.min_tokens;
        let at = |len| near_similarity_needed(len, true, &o);
        assert!((at(m) - 0.85).abs() < 1e-9 && (at(2 * m) - 0.85).abs() < 1e-9);
        assert!((at(3 * m) - 0.80).abs() < 1e-9);
        assert_eq!(at(4 * m), o.near_min_similarity);
        assert_eq!(at(100 * m), o.near_min_similarity);
        let strict = ScanOptions { near_min_similarity: 1.0, ..ScanOptions::default() };
        assert_eq!(near_similarity_needed(1, true, &strict), 1.0);
        // Text is judged on its words, with its own bar.
        assert_eq!(near_similarity_needed(4 * m, false, &o), o.near_min_word_similarity);
    }

    #[test]
    fn repetitive_runs_are_low_complexity() {
        let list_text = "x , x , x , x , x , x , x , x , x ".repeat(5);
        let list: Vec<&str> = list_text.split_whitespace().collect();
        assert!(low_complexity(&list));
        let defines: Vec<&str> = "# define a b # define a b # define a b # define a b".split(' ').collect();
        assert!(low_complexity(&defines));
        let rule: Vec<&str> = std::iter::repeat_n("=", 70).collect();
        assert!(low_complexity(&rule));
        let mut banner_then_code = rule.clone();
        banner_then_code.extend("ulong zexport adler32 ( adler , buf , len ) ulong adler ; const bytef * buf ; uint len ; { return adler32_z ( adler , buf , len ) ; }".split(' '));
        assert!(!low_complexity(&banner_then_code));
        let prose: Vec<&str> =
            "it was the best of times , it was the worst of times , it was the age of wisdom"
                .split(' ')
                .collect();
        assert!(!low_complexity(&prose));
        let code: Vec<&str> = "int sum ( int * xs , int n ) { int total = 0 ; for ( int i = 0 ; i < n ; i ++ ) total += xs [ i ] ;".split(' ').collect();
        assert!(!low_complexity(&code));
    }
}
