//! What the output copies so far, kept as the filter would judge it, and
//! which next tokens would make a copy the policy acts on.
//!
//! The filter reports exact pieces of at least `min_tokens` tokens and near
//! chains of them, and merges pieces that overlap, touch, or lie at most
//! `max_gap` tokens apart with a document in common
//! (`recital_detect::merge`); the policy then judges the merged copy's whole
//! length against each of its sources. So a copy cut into pieces, or stitched
//! from places of one document, is one copy. The guard keeps the same
//! [`Group`]s of pieces along the output, and bans a next token when the
//! piece it would complete or lengthen, merged with the groups it would
//! join, reaches the threshold of a protected source among them.

use std::collections::HashMap;
use std::sync::Arc;

use recital_index::{DocAddr, Stream};

use crate::guard::Inner;
use crate::track::{Limits, Track};

/// Most occurrences of a seed or a piece looked at.
const OCCURRENCES: usize = 64;
/// Most tracks followed at once.
const MAX_TRACKS: usize = 64;
/// Groups kept behind the end of the output (older ones can no longer join).
const MAX_GROUPS: usize = 4;
/// Documents kept per group.
const MAX_GROUP_DOCS: usize = 16;
/// Source tokens fetched per cache line.
const CHUNK: usize = 64;

/// Merged pieces of copied output, `start..end` in output tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    start: usize,
    end: usize,
    docs: Vec<DocAddr>,
    /// The lowest threshold of a protected document among `docs`.
    threshold: Option<usize>,
}

/// A source token that must not come next, with the merged copy it would
/// lengthen (from output token `start`) and that copy's threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forbidden {
    pub word: String,
    pub start: usize,
    pub threshold: usize,
}

/// The copy state after some committed tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct State {
    /// Start of the longest end of the output that occurs in the index.
    run_start: usize,
    groups: Vec<Group>,
    tracks: Vec<Track>,
}

/// The index, read through caches that live as long as one generation.
pub(crate) struct Reader {
    inner: Arc<Inner>,
    thresholds: HashMap<DocAddr, Option<usize>>,
    sources: HashMap<(DocAddr, usize), Vec<Box<str>>>,
}

/// Some consecutive tokens of one document, from position `base`.
pub(crate) struct Window {
    base: usize,
    toks: Vec<Box<str>>,
}

impl Window {
    pub fn get(&self, pos: usize) -> Option<&str> {
        pos.checked_sub(self.base).and_then(|k| self.toks.get(k)).map(|s| &**s)
    }
}

impl Reader {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner, thresholds: HashMap::new(), sources: HashMap::new() }
    }

    fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The document's tokens `from..to` (cut at its end).
    fn window(&mut self, addr: DocAddr, from: usize, to: usize) -> Window {
        let mut toks = Vec::with_capacity(to.saturating_sub(from));
        for chunk in from / CHUNK..to.div_ceil(CHUNK) {
            let inner = &self.inner;
            let lines = self.sources.entry((addr, chunk)).or_insert_with(|| {
                let Some(doc) = inner.index.doc_tokens(Stream::Text, addr) else { return Vec::new() };
                let at = chunk * CHUNK;
                doc.ids(at, at + CHUNK)
                    .into_iter()
                    .map(|id| String::from_utf8_lossy(doc.text(id)).into())
                    .collect()
            });
            let lo = from.max(chunk * CHUNK) - chunk * CHUNK;
            let hi = (to - chunk * CHUNK).min(CHUNK).min(lines.len());
            if lo >= hi {
                break;
            }
            toks.extend(lines[lo..hi].iter().cloned());
            if hi < CHUNK {
                break;
            }
        }
        Window { base: from, toks }
    }

    fn threshold(&mut self, addr: DocAddr) -> Option<usize> {
        if let Some(t) = self.thresholds.get(&addr) {
            return *t;
        }
        let t = self.inner.protection.threshold_of(&self.inner.index, addr);
        self.thresholds.insert(addr, t);
        t
    }

    fn occurrences(&self, toks: &[&str]) -> (u64, Vec<recital_index::Occurrence>) {
        self.inner.index.count_and_occurrences(Stream::Text, toks, OCCURRENCES)
    }

    fn occurs(&self, toks: &[&str]) -> bool {
        self.inner.index.count_tokens(Stream::Text, toks) > 0
    }

    /// How many output tokens ending at `out[i]` equal the source tokens
    /// ending just before `end` (at most `cap`).
    fn run_back(&mut self, out: &[&str], addr: DocAddr, end: usize, i: usize, cap: usize) -> usize {
        let from = end.saturating_sub(cap.min(i + 1));
        let win = self.window(addr, from, end);
        let mut b = 0;
        while b < cap && b <= i && b < end && win.get(end - 1 - b) == Some(out[i - b]) {
            b += 1;
        }
        b
    }
}

impl State {
    /// The state after committing `out[i]` (`out` holds every committed
    /// token up to and including it).
    pub fn after(&self, r: &mut Reader, out: &[&str], i: usize) -> State {
        let lim = r.limits();
        let mut next = self.clone();
        next.follow_tracks(r, out, i);
        next.extend_run(r, out, i);
        // No track can start where the output's last `seed` tokens occur nowhere.
        if i + 1 - next.run_start >= lim.seed {
            next.seed(r, out, i);
        }
        let min = r.inner.min_tokens;
        if i + 1 - next.run_start >= min {
            let (_, occ) = r.occurrences(&out[next.run_start..=i]);
            let docs: Vec<DocAddr> = occ.iter().map(|o| o.addr()).collect();
            next.add_piece(r, next.run_start, i + 1, &docs, lim);
        }
        let near: Vec<(usize, DocAddr)> =
            next.tracks.iter().filter(|t| t.last == i && t.len() >= min).map(|t| (t.start, t.addr)).collect();
        for (start, addr) in near {
            next.add_piece(r, start, i + 1, &[addr], lim);
        }
        next
    }

    fn follow_tracks(&mut self, r: &mut Reader, out: &[&str], i: usize) {
        let lim = r.limits();
        let windows: Vec<Window> =
            self.tracks.iter().map(|t| r.window(t.addr, t.next, t.next + lim.max_gap + 1)).collect();
        let mut win = windows.iter();
        self.tracks.retain_mut(|t| {
            let w = win.next().expect("one window per track");
            t.advance(i, out[i], lim, |p| w.get(p))
        });
    }

    /// Moves `run_start` to the start of the longest end of `out[..=i]` that
    /// occurs in the index (matching statistics: it only moves forward).
    fn extend_run(&mut self, r: &mut Reader, out: &[&str], i: usize) {
        // Longer than any threshold needs, a run is measured from a later
        // start: each search then encodes a bounded piece.
        let cap = 4 * r.inner.max_threshold.max(r.inner.min_tokens);
        let mut s = self.run_start.min(i).max((i + 1).saturating_sub(cap));
        while s <= i && !r.occurs(&out[s..=i]) {
            s += 1;
        }
        self.run_start = s;
    }

    /// New tracks where the output's last `seed` tokens occur in a protected
    /// document and no track follows them there yet. A seed too common to
    /// list is lengthened (twice, then four times) until it is rare enough.
    fn seed(&mut self, r: &mut Reader, out: &[&str], i: usize) {
        let n = i + 1;
        let base = r.limits().seed;
        let mut len = base;
        let occurrences = loop {
            if len > n {
                return;
            }
            let (count, occ) = r.occurrences(&out[n - len..]);
            if count as usize <= OCCURRENCES || len >= 4 * base {
                break occ;
            }
            len *= 2;
        };
        for o in occurrences {
            let addr = o.addr();
            if self.tracks.iter().any(|t| t.addr == addr && t.next == o.token_end) {
                continue;
            }
            let Some(threshold) = r.threshold(addr) else { continue };
            let back = r.run_back(out, addr, o.token_end, i, 2 * threshold);
            self.tracks.push(Track::new(addr, o.token_end, n - back, i, back));
        }
        if self.tracks.len() > MAX_TRACKS {
            self.tracks.sort_by_key(|t| std::cmp::Reverse(t.len()));
            self.tracks.truncate(MAX_TRACKS);
        }
    }

    /// Records the copied piece `start..end` (from `docs`), merged into the
    /// last group when the filter would merge it.
    fn add_piece(&mut self, r: &mut Reader, start: usize, end: usize, docs: &[DocAddr], lim: Limits) {
        let threshold = docs.iter().filter_map(|&d| r.threshold(d)).min();
        if let Some(g) = self.groups.last_mut() {
            if joins(g, start, docs, lim.max_gap) {
                g.start = g.start.min(start);
                g.end = g.end.max(end);
                for &d in docs {
                    if !g.docs.contains(&d) && g.docs.len() < MAX_GROUP_DOCS {
                        g.docs.push(d);
                    }
                }
                g.threshold = min_opt(g.threshold, threshold);
                return;
            }
        }
        self.groups.push(Group {
            start,
            end,
            docs: docs.iter().copied().take(MAX_GROUP_DOCS).collect(),
            threshold,
        });
        if self.groups.len() > MAX_GROUPS {
            self.groups.remove(0);
        }
    }

    /// The merged copy a new piece `start..` from `docs` would belong to: its
    /// start, and the lowest threshold among its protected sources.
    fn merged(&self, r: &mut Reader, start: usize, docs: &[DocAddr]) -> (usize, Option<usize>) {
        let lim = r.limits();
        let mut start = start;
        let mut threshold = docs.iter().filter_map(|&d| r.threshold(d)).min();
        let mut docs = docs.to_vec();
        for g in self.groups.iter().rev() {
            if !joins(g, start, &docs, lim.max_gap) {
                break;
            }
            start = start.min(g.start);
            threshold = min_opt(threshold, g.threshold);
            docs.extend_from_slice(&g.docs);
        }
        (start, threshold)
    }

    /// The source tokens that must not come next after `out` (all committed
    /// tokens): each would make a piece that, merged as the filter merges,
    /// reaches the threshold of a protected source.
    pub fn forbidden(&self, r: &mut Reader, out: &[&str], found: &mut Vec<Forbidden>) {
        let n = out.len();
        if self.could_reach(r, self.run_start.min(n), n) {
            self.exact_continuations(r, out, found);
        }
        if self.tracks.iter().any(|t| self.could_reach(r, t.start, n)) {
            self.track_continuations(r, out, found);
        }
    }

    /// Whether a piece starting at `start` and ending with the next token
    /// could reach the shortest threshold anything has, alone or merged
    /// with the last group (whatever its documents): most steps of text
    /// that copies nothing end here, without a search.
    fn could_reach(&self, r: &Reader, start: usize, n: usize) -> bool {
        let joined = self.groups.last().is_some_and(|g| start <= g.end + r.limits().max_gap);
        let from = if joined { self.groups.last().map_or(start, |g| g.start.min(start)) } else { start };
        n + 1 - from >= r.inner.min_threshold
    }

    /// Exact pieces: the next tokens after each occurrence of the output's
    /// last `min_tokens - 1` tokens would make a reportable piece.
    fn exact_continuations(&self, r: &mut Reader, out: &[&str], found: &mut Vec<Forbidden>) {
        let n = out.len();
        let k = r.inner.min_tokens.saturating_sub(1).max(1);
        if n < k {
            return;
        }
        let (_, occ) = r.occurrences(&out[n - k..]);
        for o in occ {
            let addr = o.addr();
            let win = r.window(addr, o.token_end, o.token_end + 1);
            let Some(w) = win.get(o.token_end).map(str::to_string) else { continue };
            let cap = 4 * r.inner.max_threshold.max(k);
            let back = r.run_back(out, addr, o.token_end, n - 1, cap);
            let (start, threshold) = self.merged(r, n - back, &[addr]);
            if let Some(threshold) = threshold.filter(|&t| n + 1 - start >= t) {
                found.push(Forbidden { word: w, start, threshold });
            }
        }
    }

    /// Near copies: what would continue a followed track, judged with the
    /// groups its span would join.
    fn track_continuations(&self, r: &mut Reader, out: &[&str], found: &mut Vec<Forbidden>) {
        let lim = r.limits();
        let n = out.len();
        for t in &self.tracks {
            if n + 1 - t.start < r.inner.min_tokens {
                continue;
            }
            let (start, threshold) = self.merged(r, t.start, &[t.addr]);
            let Some(threshold) = threshold else { continue };
            if n + 1 - start < threshold {
                continue;
            }
            let win = r.window(t.addr, t.next.saturating_sub(lim.seed), t.next + lim.max_gap + 1);
            t.forbidden(
                out,
                lim,
                |p| win.get(p),
                |w| found.push(Forbidden { word: w.to_string(), start, threshold }),
            );
        }
    }

    /// The longest merged copy with a protected source, in output tokens,
    /// and its threshold.
    pub fn longest(&self) -> Option<(usize, usize)> {
        self.groups.iter().filter_map(|g| g.threshold.map(|t| (g.end - g.start, t))).max()
    }
}

/// Whether a piece starting at `start` from `docs` merges with group `g`:
/// it overlaps or touches it, or lies within `max_gap` tokens of it with a
/// document in common.
fn joins(g: &Group, start: usize, docs: &[DocAddr], max_gap: usize) -> bool {
    if start <= g.end {
        return true;
    }
    start - g.end <= max_gap && docs.iter().any(|d| g.docs.contains(d))
}

fn min_opt(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
