//! One generation under guard: the tokens emitted so far, the output text
//! they spell, its recital tokens, and the copies being followed.
//!
//! The output is re-tokenised from a whitespace boundary a few tokens back
//! after each model token (recital-text restarts identically after
//! whitespace), and the new token list is compared with the old one: a model
//! token that only lengthens the last word commits nothing, one that joins
//! `don` and `'t` replaces a committed token, and a rollback removes some.
//! The copy tracks after each committed token are kept, so taking tokens
//! back restores the tracks exactly as they were.

use std::collections::HashMap;

use recital_detect::context::ContextGrams;

use crate::copies::{Reader, State};
use crate::guard::Inner;
use crate::vocab::ends_in_word;

/// Re-tokenise at least this many committed tokens back, from whitespace.
const RESCAN_TOKENS: usize = 8;

/// A committed recital token of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Committed {
    start: usize,
    norm: Box<str>,
}

/// What the driver should do after masking a step's banned tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// Sample from the masked distribution.
    Sample,
    /// Every good continuation was banned: the session has taken back its
    /// tokens after the first `keep`, and banned the one it had at `keep`.
    /// Rewind the model to `keep` generated tokens and sample again.
    Rollback {
        /// Generated tokens kept.
        keep: usize,
    },
}

/// One generation's guard state. Made by [`crate::DecodeGuard::session`].
pub struct GuardSession {
    inner: std::sync::Arc<Inner>,
    context: Option<ContextGrams>,
    tokens: Vec<u32>,
    /// Output byte length after each token.
    ends: Vec<usize>,
    bytes: Vec<u8>,
    committed: Vec<Committed>,
    /// `states[k]`: the copies after `k` committed tokens.
    states: Vec<State>,
    /// The unfinished last word: its raw text and its normalised text.
    pending: (String, String),
    /// Undecodable bytes at the end (a character split across tokens).
    partial: bool,
    /// Tokens banned at a position by rollbacks.
    bans: HashMap<usize, Vec<u32>>,
    rollbacks: usize,
    reader: Reader,
    /// The state `banned` worked out for the unfinished word taken as
    /// complete (its index and text): reused when that word is committed.
    ahead: Option<(usize, Box<str>, State)>,
    /// Whether the last `banned` banned anything for a copy.
    copy_bans: bool,
    /// Whether, at the last `banned`, the unfinished last word was itself a
    /// forbidden token whole: no next token can undo it.
    pending_forbidden: bool,
}

impl GuardSession {
    pub(crate) fn new(inner: std::sync::Arc<Inner>, prompt: Option<&str>) -> Self {
        let context = prompt.filter(|_| inner.options.exempt_context).map(|p| {
            let ts = recital_text::tokenize(p);
            let toks: Vec<&str> = ts.texts().collect();
            ContextGrams::new(&toks, inner.limits.seed)
        });
        Self {
            reader: Reader::new(inner.clone()),
            inner,
            context,
            tokens: Vec::new(),
            ends: Vec::new(),
            bytes: Vec::new(),
            committed: Vec::new(),
            states: vec![State::default()],
            pending: (String::new(), String::new()),
            partial: false,
            bans: HashMap::new(),
            rollbacks: 0,
            ahead: None,
            copy_bans: false,
            pending_forbidden: false,
        }
    }

    /// Generated tokens so far.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// The output so far (an unfinished character at the end left out).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes[..self.valid_len()]).into_owned()
    }

    /// Rollbacks made so far.
    pub fn rollbacks(&self) -> usize {
        self.rollbacks
    }

    /// The longest copy of a protected document in the output, merged as
    /// the filter merges pieces, in tokens, with its threshold.
    pub fn longest_copy(&self) -> Option<(usize, usize)> {
        self.state().longest()
    }

    fn state(&self) -> &State {
        self.states.last().expect("the state before any token is kept")
    }

    /// Feeds the token the model emitted.
    pub fn push(&mut self, id: u32) {
        self.tokens.push(id);
        self.bytes.extend_from_slice(self.inner.vocab.piece(id));
        self.ends.push(self.bytes.len());
        self.sync();
    }

    /// Takes back every generated token after the first `keep`.
    pub fn truncate(&mut self, keep: usize) {
        if keep >= self.tokens.len() {
            return;
        }
        self.tokens.truncate(keep);
        self.ends.truncate(keep);
        self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
        self.bans.retain(|&p, _| p <= keep);
        self.sync();
    }

    /// The token ids that must not come next: each would write the next
    /// token of a protected copy that has reached its threshold (or an
    /// unfinished beginning of it), plus those banned here by rollbacks.
    /// Sorted and distinct.
    ///
    /// Two sets are asked for when the output ends inside a word: the
    /// tokens that would go on with that word (judged after the committed
    /// tokens), and those that would start a new token after it (judged
    /// after the word, taken as complete).
    pub fn banned(&mut self) -> Vec<u32> {
        let mut ids = Vec::new();
        let (raw, norm) = self.pending.clone();
        let state = self.state().clone();
        let seed = self.inner.limits.seed;
        let mut out: Vec<&str> = self.committed.iter().map(|c| &*c.norm).collect();
        let first = forbidden_words(&mut self.reader, self.context.as_ref(), seed, &state, &out);
        self.pending_forbidden = !norm.is_empty() && first.contains(&norm);
        for w in first {
            self.inner.vocab.continuing(&raw, &norm, &w, &mut ids);
        }
        if !norm.is_empty() {
            out.push(&norm);
            let after = state.after(&mut self.reader, &out, out.len() - 1);
            for w in forbidden_words(&mut self.reader, self.context.as_ref(), seed, &after, &out) {
                self.inner.vocab.following(&raw, &norm, &w, &mut ids);
            }
            self.ahead = Some((out.len() - 1, norm.as_str().into(), after));
        }
        self.copy_bans = !ids.is_empty();
        if let Some(b) = self.bans.get(&self.tokens.len()) {
            ids.extend_from_slice(b);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// After the driver masked [`Self::banned`] from a step whose banned
    /// tokens held `banned_mass` of the probability (0–1): whether to sample
    /// or to take tokens back. Takes them back itself when it says so. Call
    /// it after `banned`, whose findings it reads.
    pub fn advise(&mut self, banned_mass: f64) -> Advice {
        let o = self.inner.options.clone();
        let forced = self.pending_forbidden;
        // Only a copy makes a step stuck: a token banned by an earlier
        // rollback is meant to push the model to its next choice.
        let stuck = forced || (self.copy_bans && banned_mass >= o.stuck_mass);
        if !stuck || self.tokens.is_empty() || (self.rollbacks >= o.max_rollbacks && !forced) {
            return Advice::Sample;
        }
        let word_start = self.word_start_token();
        let keep = if forced {
            // The unfinished word is itself a forbidden token: only taking
            // it back helps.
            word_start
        } else {
            let keep = self.tokens.len().saturating_sub(o.rollback_tokens.max(1)).min(word_start);
            // One rephrasing per place: tried here already, the model gets
            // the masked distribution instead of being walked further back
            // (which leaves it nothing good to say).
            if self.bans.contains_key(&keep) {
                return Advice::Sample;
            }
            keep
        };
        let undone = self.tokens[keep];
        self.truncate(keep);
        self.bans.entry(keep).or_default().push(undone);
        self.rollbacks += 1;
        tracing::debug!(keep, undone, rollbacks = self.rollbacks, "guard rolled back");
        Advice::Rollback { keep }
    }

    /// The first generated token of the unfinished last word.
    fn word_start_token(&self) -> usize {
        if self.pending.0.is_empty() && !self.partial {
            return self.tokens.len().saturating_sub(1);
        }
        let word_start = self.valid_len() - self.pending.0.len();
        self.ends.partition_point(|&e| e <= word_start)
    }

    fn valid_len(&self) -> usize {
        match std::str::from_utf8(&self.bytes) {
            Ok(_) => self.bytes.len(),
            Err(e) => e.valid_up_to(),
        }
    }

    /// Brings the committed tokens and their tracks up to the output bytes.
    fn sync(&mut self) {
        // Only the tail from a whitespace boundary is decoded and
        // tokenised: a long output costs no more per token than a short one.
        let restart = self.restart_offset();
        let tail = &self.bytes[restart..];
        let valid = std::str::from_utf8(tail).map_or_else(|e| e.valid_up_to(), |t| t.len());
        self.partial = valid < tail.len();
        let text = std::str::from_utf8(&tail[..valid]).unwrap_or_default();
        let ts = recital_text::tokenize(text);
        let mut fresh: Vec<Committed> = (0..ts.len())
            .map(|i| Committed { start: restart + ts.tokens[i].src.start, norm: ts.text(i).into() })
            .collect();
        self.pending = (String::new(), String::new());
        let open_end = ts.tokens.last().is_some_and(|t| t.src.end == text.len());
        if let Some(last) = fresh.last() {
            if open_end && (ends_in_word(text) || self.partial) {
                self.pending = (text[last.start - restart..].to_string(), last.norm.to_string());
                fresh.pop();
            }
        }
        let first = self.committed.partition_point(|c| c.start < restart);
        let same = self.committed[first..].iter().zip(&fresh).take_while(|(a, b)| a == b).count();
        if first + same < self.committed.len() {
            self.ahead = None;
        }
        self.committed.truncate(first + same);
        self.states.truncate(first + same + 1);
        for c in fresh.into_iter().skip(same) {
            self.commit(c);
        }
    }

    /// A byte offset just after an ASCII whitespace byte (a character
    /// boundary, where tokenisation restarts as it was), at or before the
    /// start of the committed token `RESCAN_TOKENS` back (0 when none).
    fn restart_offset(&self) -> usize {
        let n = self.committed.len();
        if n <= RESCAN_TOKENS {
            return 0;
        }
        let from = self.committed[n - RESCAN_TOKENS].start.min(self.bytes.len());
        self.bytes[..from].iter().rposition(u8::is_ascii_whitespace).map_or(0, |p| p + 1)
    }

    fn commit(&mut self, c: Committed) {
        let i = self.committed.len();
        let ahead = self.ahead.take().filter(|(at, norm, _)| *at == i && *norm == c.norm);
        self.committed.push(c);
        let next = match ahead {
            Some((_, _, state)) => state,
            None => {
                let out: Vec<&str> = self.committed.iter().map(|c| &*c.norm).collect();
                let state = self.states.last().expect("the state before any token is kept");
                state.after(&mut self.reader, &out, i)
            }
        };
        self.states.push(next);
    }
}

/// The source tokens that must not come after `out` in `state`, minus what
/// the prompt (`context`) supplied: tokens in a run of `seed` that the prompt
/// holds too do not count towards a copy, and a next word that would only
/// extend such a run is not banned.
fn forbidden_words(
    reader: &mut Reader,
    context: Option<&ContextGrams>,
    seed: usize,
    state: &State,
    out: &[&str],
) -> Vec<String> {
    let mut found = Vec::new();
    state.forbidden(reader, out, &mut found);
    let mut words: Vec<String> = Vec::new();
    let Some(ctx) = context else {
        for f in found {
            if !words.contains(&f.word) {
                words.push(f.word);
            }
        }
        return words;
    };
    let n = out.len();
    // The exemption is read from a little before the earliest copy on.
    let from = found.iter().map(|f| f.start).min().unwrap_or(n).min(n).saturating_sub(seed);
    let exempt = if found.is_empty() { Vec::new() } else { ctx.mask(&out[from..]) };
    for f in found {
        if words.contains(&f.word) {
            continue;
        }
        let counted = exempt[f.start.min(n) - from..].iter().filter(|&&e| !e).count() + 1;
        if counted < f.threshold {
            continue;
        }
        if n + 1 >= seed {
            let mut gram: Vec<&str> = out[n + 1 - seed..].to_vec();
            gram.push(&f.word);
            if ctx.mask(&gram).iter().all(|&b| b) {
                continue;
            }
        }
        words.push(f.word);
    }
    words
}
