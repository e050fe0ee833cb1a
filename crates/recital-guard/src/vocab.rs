//! A model tokenizer's vocabulary as recital sees it: each token id's bytes
//! and their normalised text, sorted so that the ids that can continue a word
//! are found by binary search instead of by trying all of them.
//!
//! Built once per tokenizer. The normalisation is recital-text's, so a piece
//! written in capitals, full width or with look-alike letters is found under
//! the same key as its plain form: `QUE`, `Que` and `ｑｕｅ` all sort as `que`.

use std::ops::Range;

use crate::GuardError;

/// One tokenizer's vocabulary: id → bytes, and the lookup by normalised text.
#[derive(Debug, Clone)]
pub struct Vocab {
    pieces: Vec<Box<[u8]>>,
    /// Normalised text of each piece (its tokens joined by single spaces),
    /// empty for pieces that are not text on their own (special tokens,
    /// whitespace, a byte of a multi-byte character).
    keys: Vec<Box<str>>,
    /// Whether each piece starts with whitespace (ends the word before it).
    lead_space: Vec<bool>,
    /// Whether each piece is one token that ends inside a word (the next
    /// piece may still lengthen it).
    open_end: Vec<bool>,
    /// Ids with a non-empty key, by key.
    sorted: Vec<u32>,
}

impl Vocab {
    /// A vocabulary from each id's bytes, in id order, as the tokenizer
    /// writes them after a preceding token (SentencePiece's `▁` already
    /// turned into a space, byte-level BPE's `Ġ` into its byte).
    pub fn from_pieces(pieces: Vec<Vec<u8>>) -> Result<Self, GuardError> {
        if pieces.is_empty() {
            return Err(GuardError::Input("the vocabulary is empty".into()));
        }
        if pieces.len() > u32::MAX as usize {
            return Err(GuardError::Input(format!(
                "{} tokens is more than a vocabulary can have",
                pieces.len()
            )));
        }
        let pieces: Vec<Box<[u8]>> = pieces.into_iter().map(Vec::into_boxed_slice).collect();
        let mut keys = Vec::with_capacity(pieces.len());
        let mut lead_space = Vec::with_capacity(pieces.len());
        let mut open_end = Vec::with_capacity(pieces.len());
        for p in &pieces {
            let text = std::str::from_utf8(p).ok();
            lead_space.push(text.and_then(|t| t.chars().next()).is_some_and(char::is_whitespace));
            let key = text.map(|t| recital_text::tokenize(t).norm.into_boxed_str()).unwrap_or_default();
            open_end.push(!key.is_empty() && !key.contains(' ') && text.is_some_and(ends_in_word));
            keys.push(key);
        }
        let mut sorted: Vec<u32> =
            (0..pieces.len() as u32).filter(|&i| !keys[i as usize].is_empty()).collect();
        sorted.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
        Ok(Self { pieces, keys, lead_space, open_end, sorted })
    }

    /// Number of token ids.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// Whether there are no ids (never true of a built vocabulary).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The bytes of token `id` (empty for an id outside the vocabulary).
    pub fn piece(&self, id: u32) -> &[u8] {
        self.pieces.get(id as usize).map_or(&[], |p| p)
    }

    /// The normalised text of token `id` (empty when it is not text alone).
    pub fn key(&self, id: u32) -> &str {
        self.keys.get(id as usize).map_or("", |k| k)
    }

    /// Whether token `id` starts with whitespace.
    pub fn starts_with_space(&self, id: u32) -> bool {
        self.lead_space.get(id as usize).copied().unwrap_or(false)
    }

    /// Ids whose key starts with `prefix`.
    fn with_prefix(&self, prefix: &str) -> &[u32] {
        let lo = self.sorted.partition_point(|&i| self.key(i) < prefix);
        let hi = lo + self.sorted[lo..].partition_point(|&i| self.key(i).starts_with(prefix));
        &self.sorted[lo..hi]
    }

    /// Ids whose key's first token is `token`: the key is `token`, or
    /// `token` and a space. A piece whose first token is longer (`the` for
    /// `th`) cannot write `token`, whatever comes before it: joined to the
    /// unfinished word before it, its first token still runs past `token`.
    /// Leaving those out keeps short words cheap (`a` begins thousands of
    /// keys), which would otherwise each be tokenised again.
    fn first_token(&self, token: &str) -> impl Iterator<Item = u32> + '_ {
        let r = self.equal_range(token);
        self.sorted[r].iter().chain(self.with_prefix(&format!("{token} "))).copied()
    }

    /// Ids whose key is exactly `key`.
    fn exactly(&self, key: &str) -> &[u32] {
        let r = self.equal_range(key);
        &self.sorted[r]
    }

    fn equal_range(&self, key: &str) -> Range<usize> {
        let lo = self.sorted.partition_point(|&i| self.key(i) < key);
        let hi = lo + self.sorted[lo..].partition_point(|&i| self.key(i) == key);
        lo..hi
    }

    /// The ids that, written after `pending` (the raw text of an unfinished
    /// word at the end of the output, or empty), would write the token `word`
    /// or an unfinished beginning of it.
    ///
    /// Candidates come from the sorted keys (pieces whose first token is
    /// what is still missing of `word`, or is a beginning of it); each is then
    /// checked by tokenising `pending + piece` exactly as a scan would, so
    /// what normalisation does across the join is respected.
    pub fn continuing(&self, pending: &str, pending_norm: &str, word: &str, out: &mut Vec<u32>) {
        let Some(need) = word.strip_prefix(pending_norm) else { return };
        if need.is_empty() {
            return;
        }
        let mut check = |id: u32| {
            if !pending.is_empty() && self.starts_with_space(id) {
                return;
            }
            let hit =
                if pending.is_empty() { self.key_writes(id, word) } else { self.writes(pending, id, word) };
            if hit {
                out.push(id);
            }
        };
        for id in self.first_token(need) {
            check(id);
        }
        for (end, _) in need.char_indices().skip(1) {
            for &id in self.exactly(&need[..end]) {
                check(id);
            }
        }
    }

    /// The ids that, written after `pending` (an unfinished word at the end
    /// of the output, `pending_norm` normalised), would end that word as it
    /// is and write the token `word`, or an unfinished beginning of it, next:
    /// a piece that starts with a space or with punctuation.
    pub fn following(&self, pending: &str, pending_norm: &str, word: &str, out: &mut Vec<u32>) {
        let mut check = |id: u32| {
            if self.writes_after(pending, pending_norm, id, word) {
                out.push(id);
            }
        };
        for id in self.first_token(word) {
            check(id);
        }
        for (end, _) in word.char_indices().skip(1) {
            for &id in self.exactly(&word[..end]) {
                check(id);
            }
        }
    }

    fn writes_after(&self, pending: &str, pending_norm: &str, id: u32, word: &str) -> bool {
        if self.starts_with_space(id) {
            // Whitespace ends the unfinished word: the piece's own tokens follow.
            return self.key_writes(id, word);
        }
        let Ok(piece) = std::str::from_utf8(self.piece(id)) else { return false };
        let joined = format!("{pending}{piece}");
        let ts = recital_text::tokenize(&joined);
        if ts.len() < 2 || ts.text(0) != pending_norm {
            return false;
        }
        let second = ts.text(1);
        if ts.len() == 2 && ends_in_word(&joined) {
            word.starts_with(second)
        } else {
            second == word
        }
    }

    /// [`Self::writes`] after nothing: read off the piece's key (its tokens,
    /// as a scan cuts them) without tokenising again.
    fn key_writes(&self, id: u32, word: &str) -> bool {
        let key = self.key(id);
        let first = key.split(' ').next().unwrap_or("");
        if self.open_end.get(id as usize).copied().unwrap_or(false) {
            word.starts_with(first)
        } else {
            first == word
        }
    }

    /// Whether `pending + piece(id)` writes `word` as its first token, or an
    /// unfinished beginning of it.
    fn writes(&self, pending: &str, id: u32, word: &str) -> bool {
        let Ok(piece) = std::str::from_utf8(self.piece(id)) else { return false };
        let joined = format!("{pending}{piece}");
        let ts = recital_text::tokenize(&joined);
        if ts.is_empty() {
            return false;
        }
        let first = ts.text(0);
        let open = ts.len() == 1 && ends_in_word(&joined);
        if open {
            word.starts_with(first)
        } else {
            first == word
        }
    }
}

/// Whether `text` ends inside a word: its last character is a letter, a
/// digit or a mark, so the next piece may still lengthen the word.
pub(crate) fn ends_in_word(text: &str) -> bool {
    text.chars().next_back().is_some_and(|c| c.is_alphanumeric() || is_mark(c))
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{200C}' | '\u{200D}' | '\u{200B}' | '\u{2060}' | '\u{FE0F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(pieces: &[&str]) -> Vocab {
        Vocab::from_pieces(pieces.iter().map(|p| p.as_bytes().to_vec()).collect()).unwrap()
    }

    fn continuing(v: &Vocab, pending: &str, word: &str) -> Vec<&'static str> {
        let norm = recital_text::tokenize(pending).norm;
        let mut out = Vec::new();
        v.continuing(pending, &norm, word, &mut out);
        let mut names: Vec<&'static str> =
            out.iter().map(|&i| &*String::from_utf8(v.piece(i).to_vec()).unwrap().leak()).collect();
        names.sort();
        names
    }

    #[test]
    fn finds_pieces_that_begin_or_complete_a_word_in_any_case() {
        let v = vocab(&[
            " question",
            " QUEST",
            "ion",
            " que",
            " queen",
            " questions",
            "Question.",
            " q",
            "<eos>",
            " ",
        ]);
        assert_eq!(continuing(&v, "", "question"), [" QUEST", " q", " que", " question", "Question."]);
        assert_eq!(continuing(&v, "QUEST", "question"), ["ion"]);
        // A piece that starts a new word does not continue the unfinished one.
        assert_eq!(continuing(&v, "que", "question"), Vec::<&str>::new());
        assert!(continuing(&v, "", "queen").contains(&" queen"));
    }

    #[test]
    fn a_longer_word_is_not_the_word() {
        let v = vocab(&[" questions", " question,", " question"]);
        // " questions" is one word that is not "question": the copy breaks.
        assert_eq!(continuing(&v, "", "question"), [" question", " question,"]);
    }

    #[test]
    fn look_alikes_and_full_width_are_found() {
        let v = vocab(&[" ｑｕｅｓｔｉｏｎ", " quеstion", " answer"]);
        // Full width and a Cyrillic е normalise to the word.
        assert_eq!(continuing(&v, "", "question").len(), 2);
    }

    #[test]
    fn punctuation_words_are_found() {
        let v = vocab(&[",", ", and", ".", " ,"]);
        assert_eq!(continuing(&v, "", ","), [" ,", ",", ", and"]);
    }

    #[test]
    fn bad_pieces_are_never_candidates() {
        let v = Vocab::from_pieces(vec![vec![0xE2], vec![0x82, 0xAC], b"the".to_vec()]).unwrap();
        assert_eq!(v.key(0), "");
        let mut out = Vec::new();
        v.continuing("", "", "the", &mut out);
        assert_eq!(out, [2]);
        assert!(Vocab::from_pieces(Vec::new()).is_err());
    }

    proptest::proptest! {
        /// Reading a piece's key gives what tokenising it again gives.
        #[test]
        fn the_key_shortcut_equals_tokenising(
            pieces in proptest::collection::vec("[ ]?[a-zA-Zé,.'-]{1,6}[ ]?", 1..20),
            word in "[a-z,.]{1,5}",
        ) {
            let v = Vocab::from_pieces(pieces.iter().map(|p| p.as_bytes().to_vec()).collect()).unwrap();
            let word = recital_text::tokenize(&word).norm;
            proptest::prop_assume!(!word.is_empty() && !word.contains(' '));
            for id in 0..v.len() as u32 {
                proptest::prop_assert_eq!(v.key_writes(id, &word), v.writes("", id, &word), "{:?}", pieces[id as usize]);
                let after = v.writes_after("amber", "arnber", id, &word);
                let joined = format!("amber{}", pieces[id as usize]);
                let ts = recital_text::tokenize(&joined);
                let slow = ts.len() >= 2 && ts.text(0) == "arnber" && if ts.len() == 2 && ends_in_word(&joined) {
                    word.starts_with(ts.text(1))
                } else {
                    ts.text(1) == word
                };
                proptest::prop_assert_eq!(after, slow, "{:?}", pieces[id as usize]);
            }
        }
    }
}
