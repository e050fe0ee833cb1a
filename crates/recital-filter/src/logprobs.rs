//! Log-probabilities repeat a channel's text token by token (and the
//! alternatives the model weighed). Left as the model server sent them, they
//! would carry a redacted copy to the client whole. They are rebuilt from the
//! channel's redactions: every token that overlaps a redacted range is
//! dropped, and one entry carrying the marker stands in its place, so that
//! the tokens still concatenate to the text the client is shown.
//!
//! The same queue serves streams (entries wait with their text and leave when
//! the guard releases it) and whole answers (everything released at once).

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::guard::Redaction;

/// Token entries of one channel waiting for their text to be decided.
#[derive(Debug, Default)]
pub struct TokenQueue {
    /// `(raw start, raw end, entry)`, in order.
    entries: VecDeque<(usize, usize, Value)>,
    /// Raw offset where the next pushed token starts.
    next: usize,
    /// Raw offset up to which a redaction has removed text.
    dropped_to: usize,
}

impl TokenQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one token's entry, `len` bytes of the channel's raw text.
    pub fn push(&mut self, entry: Value, len: usize) {
        self.entries.push_back((self.next, self.next + len, entry));
        self.next += len;
    }

    /// Whether no entry waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose text is now decided: the channel's raw text is
    /// released up to `released`, with `redactions` written in this step
    /// (`marker` makes the entry that stands for one, from the text it
    /// stands for: the marker with the parts of the first and last tokens
    /// that lie outside the redaction, so tokens still concatenate to the
    /// text shown).
    pub fn release(
        &mut self,
        released: usize,
        redactions: &[Redaction],
        marker: &dyn Fn(&str) -> Value,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut reds = redactions.iter().peekable();
        while let Some(&(start, end, _)) = self.entries.front() {
            if let Some(r) = reds.next_if(|r| r.raw.start < end) {
                out.push(marker(&self.replace(r, released)));
                continue;
            }
            if start < self.dropped_to {
                self.entries.pop_front();
                continue;
            }
            if end > released {
                break;
            }
            out.push(self.entries.pop_front().expect("front exists").2);
        }
        for r in reds {
            out.push(marker(&r.marker));
            self.dropped_to = self.dropped_to.max(r.raw.end);
        }
        out
    }

    /// Drops the entries that overlap `r`; the text of its stand-in.
    fn replace(&mut self, r: &Redaction, released: usize) -> String {
        let mut text = String::new();
        let mut last: Option<(usize, usize, Value)> = None;
        while let Some(&(s, e, _)) = self.entries.front() {
            if s >= r.raw.end.max(r.raw.start + 1) {
                break;
            }
            let entry = self.entries.pop_front().expect("front exists");
            if last.is_none() && s < r.raw.start {
                let bytes = entry_bytes(&entry.2);
                text.push_str(&String::from_utf8_lossy(&bytes[..(r.raw.start - s).min(bytes.len())]));
            }
            last = Some(entry);
            if e >= r.raw.end {
                break;
            }
        }
        text.push_str(&r.marker);
        if let Some((s, e, v)) = last {
            if e > r.raw.end && e <= released {
                let bytes = entry_bytes(&v);
                text.push_str(&String::from_utf8_lossy(&bytes[(r.raw.end - s).min(bytes.len())..]));
            }
        }
        self.dropped_to = self.dropped_to.max(r.raw.end);
        text
    }
}

/// A token entry's bytes: `bytes` when present, else its `token` string.
fn entry_bytes(entry: &Value) -> Vec<u8> {
    match entry.get("bytes").and_then(Value::as_array) {
        Some(b) => b.iter().map(|x| x.as_u64().unwrap_or(0) as u8).collect(),
        None => entry.get("token").and_then(Value::as_str).unwrap_or("").as_bytes().to_vec(),
    }
}

/// Byte length of a chat log-probability entry's token (`bytes` when
/// present: a token may be part of a character).
pub fn chat_entry_len(entry: &Value) -> usize {
    match entry.get("bytes").and_then(Value::as_array) {
        Some(b) => b.len(),
        None => entry.get("token").and_then(Value::as_str).map_or(0, str::len),
    }
}

/// The chat entry that stands for a redaction.
pub fn chat_marker(marker: &str) -> Value {
    json!({"token": marker, "logprob": 0.0, "bytes": marker.as_bytes(), "top_logprobs": []})
}

/// Rebuilds a chat choice's `logprobs.content` (or `refusal`) list for
/// text with `redactions` applied.
pub fn rebuild_chat(entries: Vec<Value>, redactions: &[Redaction]) -> Vec<Value> {
    let mut q = TokenQueue::new();
    for e in entries {
        let len = chat_entry_len(&e);
        q.push(e, len);
    }
    q.release(usize::MAX, redactions, &chat_marker)
}

/// Legacy completions log-probabilities (`tokens`, `token_logprobs`,
/// `top_logprobs`, `text_offset`, parallel arrays) as one entry per token.
pub fn completion_entries(logprobs: &Value) -> Vec<Value> {
    let arr = |k: &str| logprobs.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let (tokens, lps, tops) = (arr("tokens"), arr("token_logprobs"), arr("top_logprobs"));
    tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"token": t, "logprob": lps.get(i).cloned().unwrap_or(Value::Null),
                   "top": tops.get(i).cloned().unwrap_or(Value::Null)})
        })
        .collect()
}

/// The entry that stands for a redaction, in the legacy completions shape.
pub fn completion_marker(marker: &str) -> Value {
    json!({"token": marker, "logprob": 0.0, "top": {}})
}

/// Entries back to the legacy parallel arrays; `text_offset` counts from
/// `first_offset` over the rebuilt tokens.
pub fn completion_arrays(entries: &[Value], first_offset: u64) -> Value {
    let mut offset = first_offset;
    let (mut tokens, mut lps, mut tops, mut offsets) = (vec![], vec![], vec![], vec![]);
    for e in entries {
        let t = e.get("token").and_then(Value::as_str).unwrap_or("");
        tokens.push(json!(t));
        lps.push(e.get("logprob").cloned().unwrap_or(Value::Null));
        tops.push(e.get("top").cloned().unwrap_or(Value::Null));
        offsets.push(json!(offset));
        offset += t.len() as u64;
    }
    json!({"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets})
}

/// Rebuilds legacy completions log-probabilities for text with `redactions` applied.
pub fn rebuild_completion(logprobs: &Value, redactions: &[Redaction]) -> Value {
    let first = logprobs.pointer("/text_offset/0").and_then(Value::as_u64).unwrap_or(0);
    let mut q = TokenQueue::new();
    for e in completion_entries(logprobs) {
        let len = e.get("token").and_then(Value::as_str).map_or(0, str::len);
        q.push(e, len);
    }
    completion_arrays(&q.release(usize::MAX, redactions, &completion_marker), first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(tokens: &[&str]) -> Vec<Value> {
        tokens
            .iter()
            .map(|t| json!({"token": t, "logprob": -0.5, "bytes": t.as_bytes(), "top_logprobs": []}))
            .collect()
    }

    fn tokens(v: &[Value]) -> String {
        v.iter().map(|e| e["token"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn redacted_tokens_are_replaced_by_one_marker_entry() {
        let toks = ["Say", " it", " to", " be", " or", " not", " to", " be", "."];
        let text: String = toks.concat();
        let start = text.find(" to be").unwrap() + 1;
        let end = text.rfind(" be").unwrap() + 3;
        let red = Redaction { raw: start..end, marker: "[X]".into() };
        let out = rebuild_chat(entries(&toks), &[red]);
        assert_eq!(tokens(&out), "Say it [X].");
        assert!(!tokens(&out).contains("not"));
    }

    #[test]
    fn a_queue_releases_only_decided_tokens_whatever_the_steps() {
        let toks = ["a", " b", " c", " d", " e", " f"];
        let mut q = TokenQueue::new();
        for e in entries(&toks) {
            let l = chat_entry_len(&e);
            q.push(e, l);
        }
        // First step: 3 bytes released, nothing redacted.
        let a = q.release(3, &[], &chat_marker);
        assert_eq!(tokens(&a), "a b");
        // Second: " c d" redacted (raw 3..7), released to 9.
        let b = q.release(9, &[Redaction { raw: 3..7, marker: " [X]".into() }], &chat_marker);
        assert_eq!(tokens(&b), " [X] e");
        // A redaction inside a token keeps the token's outer parts in the stand-in.
        let c = q.release(11, &[], &chat_marker);
        assert_eq!(tokens(&c), " f");
        assert!(q.is_empty());
    }

    #[test]
    fn completions_arrays_round_trip_with_offsets_recounted() {
        let lp = json!({"tokens": ["x", " y", " z"], "token_logprobs": [-1.0, -2.0, -3.0],
                        "top_logprobs": [{"x": -1.0}, {" y": -2.0}, {" z": -3.0}], "text_offset": [10, 11, 13]});
        assert_eq!(rebuild_completion(&lp, &[]), lp);
        let out = rebuild_completion(&lp, &[Redaction { raw: 1..3, marker: " [X]".into() }]);
        assert_eq!(out["tokens"], json!(["x", " [X]", " z"]));
        assert_eq!(out["text_offset"], json!([10, 11, 15]));
    }
}
