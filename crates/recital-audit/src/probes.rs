//! Probes: prefix/suffix pairs to test a model with, in the model's own
//! tokens — sampled from the indexed training corpus and stratified by how
//! often the probed sequence occurs in it, or read from a user's JSONL (a
//! rightsholder's works: "does the model reproduce my book?").

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use recital_index::{DocAddr, Index, Query, Stream};
use recital_model::LanguageModel;
use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Result};
use crate::rng::Xoshiro256;

/// The shape of a canary's secret, so that exposure can rank it against
/// alternatives drawn from the same space (research §12.D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretSpace {
    /// Symbols of the secret (e.g. `"0123456789"`), one character each.
    pub alphabet: String,
    /// Symbols in a secret.
    pub length: usize,
    /// Between symbols (e.g. `" "`).
    #[serde(default)]
    pub separator: String,
    /// Fixed text after the secret (e.g. `" ."`), part of the suffix.
    #[serde(default)]
    pub after: String,
}

impl SecretSpace {
    /// Refuses spaces exposure cannot rank in: fewer than two distinct
    /// symbols, no or absurdly long secrets, or a suffix that is not a secret
    /// of the space (its alternatives would not be comparable). A suffix may
    /// start with whitespace (`" 3 8 …"`, as byte-level tokenizers see it):
    /// that whitespace joins it to the prefix and is not part of the secret.
    pub fn check(&self, suffix: &str) -> std::result::Result<(), String> {
        let distinct: std::collections::BTreeSet<char> = self.alphabet.chars().collect();
        if distinct.len() < 2 || distinct.len() != self.alphabet.chars().count() {
            return Err("secret.alphabet needs at least two symbols, each once".into());
        }
        if self.length == 0 || self.length > 64 {
            return Err(format!("secret.length {} is not in 1..=64", self.length));
        }
        let secret = self.secret_of(suffix);
        let body = secret.strip_suffix(self.after.as_str()).unwrap_or("");
        let symbols: Vec<&str> = if self.separator.is_empty() {
            body.split_terminator("").skip(1).collect()
        } else {
            body.split(self.separator.as_str()).collect()
        };
        let fits = secret.ends_with(self.after.as_str())
            && symbols.len() == self.length
            && symbols
                .iter()
                .all(|s| s.chars().count() == 1 && distinct.contains(&s.chars().next().unwrap_or('\0')));
        if !fits {
            return Err(format!("the suffix {suffix:?} is not a secret of the declared space"));
        }
        Ok(())
    }

    /// The secret in a suffix: the suffix without the whitespace that joins
    /// it to the prefix (whitespace that is a symbol of the alphabet stays).
    pub fn secret_of<'s>(&self, suffix: &'s str) -> &'s str {
        suffix.trim_start_matches(|c: char| c.is_whitespace() && !self.alphabet.contains(c))
    }

    /// A random alternative to the canary `suffix`: a secret drawn from the
    /// space, written after the same joining whitespace as the canary's.
    pub fn draw_like(&self, suffix: &str, rng: &mut Xoshiro256) -> String {
        let lead = &suffix[..suffix.len() - self.secret_of(suffix).len()];
        format!("{lead}{}", self.draw(rng))
    }

    /// |R|, the number of possible secrets.
    pub fn size(&self) -> f64 {
        (self.alphabet.chars().count() as f64).powi(self.length as i32)
    }

    /// A random secret of the space, formatted as a suffix.
    pub fn draw(&self, rng: &mut Xoshiro256) -> String {
        let symbols: Vec<char> = self.alphabet.chars().collect();
        let parts: Vec<String> =
            (0..self.length).map(|_| symbols[rng.index(symbols.len())].to_string()).collect();
        format!("{}{}", parts.join(&self.separator), self.after)
    }
}

/// Where a probe's text comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeSource {
    /// Document or work id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// Path or title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// SPDX licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Rights holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Offset of the probe in the document, in model tokens of the sampled window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_offset: Option<usize>,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Unique id.
    pub id: String,
    /// The prompt text.
    pub prefix: String,
    /// The true continuation.
    pub suffix: String,
    /// Ground truth: whether the text was in the training data (for
    /// membership inference); unknown when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<bool>,
    /// Occurrences of the probed sequence in the corpus (filled from the
    /// index when one is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    /// Provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ProbeSource>,
    /// A canary's secret space (enables exposure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretSpace>,
    /// Prefix in model tokens, when the sampler cut it (exact boundaries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_ids: Option<Vec<u32>>,
    /// Suffix in model tokens, when the sampler cut it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix_ids: Option<Vec<u32>>,
}

/// A user's probe record: either a prefix/suffix pair or a whole text to be
/// cut into consecutive windows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeRecord {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    member: Option<bool>,
    #[serde(default)]
    source: Option<ProbeSource>,
    #[serde(default)]
    secret: Option<SecretSpace>,
    #[serde(default)]
    duplicates: Option<u64>,
}

/// How probes were obtained — recorded in the report (research §11:
/// provenance and sampling frame with every number).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SamplingFrame {
    /// `index` or `file`.
    pub method: String,
    /// The index or file.
    pub from: String,
    /// Seed.
    pub seed: u64,
    /// Prompt tokens (k).
    pub prefix_tokens: usize,
    /// Continuation tokens (ℓ).
    pub suffix_tokens: usize,
    /// Candidate windows drawn (index sampling).
    #[serde(default)]
    pub candidates: usize,
    /// Candidates available per duplicate bucket.
    #[serde(default)]
    pub available_per_bucket: BTreeMap<String, usize>,
    /// Probes taken per duplicate bucket.
    #[serde(default)]
    pub taken_per_bucket: BTreeMap<String, usize>,
    /// How documents were drawn.
    #[serde(default)]
    pub note: String,
}

/// Duplicate-count buckets of reports: 1, 2–3, 4–7, …, powers of two.
pub fn bucket_of(duplicates: u64) -> (u64, u64) {
    if duplicates <= 1 {
        return (duplicates, duplicates);
    }
    let lo = 1u64 << (63 - duplicates.leading_zeros());
    (lo, lo * 2 - 1)
}

/// A bucket's label.
pub fn bucket_label(duplicates: u64) -> String {
    match bucket_of(duplicates) {
        (a, b) if a == b => a.to_string(),
        (a, b) => format!("{a}–{b}"),
    }
}

/// Occurrences of a text in the corpus, counted on the corpus's own
/// normalised tokens with the first and last dropped (a window cut in model
/// tokens may start or end inside a word).
pub fn corpus_count(index: &Index, text: &str) -> u64 {
    let q = Query::text(text);
    let toks = &q.tokens;
    if toks.len() < 3 {
        return index.count_tokens(Stream::Text, toks);
    }
    index.count_tokens(Stream::Text, &toks[1..toks.len() - 1])
}

/// A probe as one text, the way the model sees it, and where the prompt
/// ends in it. Duplicates are counted on [`ProbeText::text`], and prefix and
/// suffix are tokenised together ([`ProbeText::encode`]), so that neither
/// depends on what a tokenizer's decoder does with the space between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeText {
    text: String,
    split: usize,
}

impl ProbeText {
    /// The text of a prefix and a suffix written as strings (a probe file):
    /// joined as written when either side has whitespace at the join (`"the
    /// pin of x is"` + `" 3 8"`), else with one space between them (`"… is"`
    /// + `"3 8"`: probe files name words, as the canary lab writes them).
    pub fn join(prefix: &str, suffix: &str) -> Self {
        let spaced = prefix.ends_with(char::is_whitespace) || suffix.starts_with(char::is_whitespace);
        let sep = if spaced || prefix.is_empty() || suffix.is_empty() { "" } else { " " };
        Self { text: format!("{prefix}{sep}{suffix}"), split: prefix.len() }
    }

    /// The text of a window cut in model tokens: the whole window decoded at
    /// once (a decoder that drops a word-initial space, as Metaspace and
    /// WordPiece do, would glue two separately decoded halves together).
    pub fn decode(model: &dyn LanguageModel, prefix_ids: &[u32], suffix_ids: &[u32]) -> Result<Self> {
        let all: Vec<u32> = prefix_ids.iter().chain(suffix_ids).copied().collect();
        let text = model.decode(&all)?;
        let prefix = model.decode(prefix_ids)?;
        if text.starts_with(&prefix) {
            return Ok(Self { text, split: prefix.len() });
        }
        // A decoder that rewrites across the join (clean-up of spaces before
        // punctuation): fall back to the halves, whose join is the best guess.
        Ok(Self::join(&prefix, &model.decode(suffix_ids)?))
    }

    /// The text of a probe: its token windows decoded whole when it has
    /// them, else its prefix and suffix joined.
    pub fn of(model: &dyn LanguageModel, probe: &Probe) -> Result<Self> {
        match (&probe.prefix_ids, &probe.suffix_ids) {
            (Some(p), Some(s)) => Self::decode(model, p, s),
            _ => Ok(Self::join(&probe.prefix, &probe.suffix)),
        }
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The prompt part.
    pub fn prefix(&self) -> &str {
        &self.text[..self.split]
    }

    /// The continuation part, with the whitespace that joins it to the prompt.
    pub fn suffix(&self) -> &str {
        &self.text[self.split..]
    }

    /// The text with another continuation (a canary's alternative secret).
    pub fn with_suffix(&self, suffix: &str) -> Self {
        Self { text: format!("{}{suffix}", self.prefix()), split: self.split }
    }

    /// Prefix and suffix ids as the model tokenises the whole text: the
    /// text is encoded once and split at the token boundary of the prompt —
    /// after the longest run of leading tokens it shares with the prompt
    /// encoded alone. A byte-level BPE thus puts the joining space into the
    /// suffix's first token (`" 3"`, not `"3"`), as it does in training.
    pub fn encode(&self, model: &dyn LanguageModel) -> Result<(Vec<u32>, Vec<u32>)> {
        let all = model.encode(&self.text)?;
        let prefix = model.encode(self.prefix())?;
        let k = all.iter().zip(&prefix).take_while(|(a, b)| a == b).count();
        if k == 0 || k == all.len() {
            // The prompt ends inside a token (or the tokenizer ignores its
            // input): the halves encoded apart are the nearest split there is
            // (what the audit always did; `--verbose` shows it).
            tracing::info!(
                text = %self.text,
                "the prompt does not end at a token boundary; prefix and suffix are encoded apart"
            );
            return Ok((prefix, model.encode(self.suffix())?));
        }
        let mut all = all;
        let suffix = all.split_off(k);
        Ok((all, suffix))
    }

    /// The suffix ids of this text with another continuation, split at the
    /// same token boundary as `prefix_ids` (a canary's alternatives are
    /// scored after the canary's own prompt tokens). An error when the other
    /// continuation changes the prompt's tokens.
    pub fn encode_suffix_after(
        &self,
        model: &dyn LanguageModel,
        prefix_ids: &[u32],
        suffix: &str,
    ) -> Result<Vec<u32>> {
        let other = self.with_suffix(suffix);
        let mut all = model.encode(other.text())?;
        if all.len() <= prefix_ids.len() || all[..prefix_ids.len()] != *prefix_ids {
            return Err(AuditError::Input(format!(
                "{:?} tokenises its prompt differently from the canary's; exposure needs secrets that start at \
                 a token boundary",
                other.text
            )));
        }
        Ok(all.split_off(prefix_ids.len()))
    }
}

/// Reads probes from a JSONL file and cuts `text` records into windows of
/// `prefix_len + suffix_len` model tokens.
pub fn read_probes(
    path: &Path,
    model: &dyn LanguageModel,
    prefix_len: usize,
    suffix_len: usize,
) -> Result<Vec<Probe>> {
    let file =
        std::fs::File::open(path).map_err(|e| AuditError::Input(format!("{}: {e}", path.display())))?;
    let mut probes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let line = line.map_err(|e| AuditError::Input(format!("{at}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: ProbeRecord =
            serde_json::from_str(&line).map_err(|e| AuditError::Input(format!("{at}: {e}")))?;
        let id = r.id.clone().unwrap_or_else(|| format!("line-{}", i + 1));
        match (&r.prefix, &r.suffix, &r.text) {
            (Some(p), Some(s), None) => {
                if p.is_empty() || s.is_empty() {
                    return Err(AuditError::Input(format!("{at}: prefix and suffix must not be empty")));
                }
                if let Some(space) = &r.secret {
                    space.check(s).map_err(|e| AuditError::Input(format!("{at}: {e}")))?;
                }
                if !seen.insert(id.clone()) {
                    return Err(AuditError::Input(format!("{at}: duplicate probe id {id:?}")));
                }
                probes.push(Probe {
                    id,
                    prefix: p.clone(),
                    suffix: s.clone(),
                    member: r.member,
                    duplicates: r.duplicates,
                    source: r.source,
                    secret: r.secret,
                    prefix_ids: None,
                    suffix_ids: None,
                });
            }
            (None, None, Some(text)) => {
                let ids = model.encode(text).map_err(|e| AuditError::Input(format!("{at}: {e}")))?;
                let w = prefix_len + suffix_len;
                if ids.len() < w {
                    return Err(AuditError::Input(format!(
                        "{at}: text has {} model tokens, fewer than prefix + suffix = {w}",
                        ids.len()
                    )));
                }
                for (k, start) in (0..=ids.len() - w).step_by(w).enumerate() {
                    let (p, s) = (&ids[start..start + prefix_len], &ids[start + prefix_len..start + w]);
                    let mut source = r.source.clone().unwrap_or_default();
                    source.token_offset = Some(start);
                    probes.push(Probe {
                        id: format!("{id}#{k}"),
                        prefix: model.decode(p).map_err(|e| AuditError::Input(e.to_string()))?,
                        suffix: model.decode(s).map_err(|e| AuditError::Input(e.to_string()))?,
                        member: r.member,
                        duplicates: None,
                        source: Some(source),
                        secret: None,
                        prefix_ids: Some(p.to_vec()),
                        suffix_ids: Some(s.to_vec()),
                    });
                }
            }
            _ => {
                return Err(AuditError::Input(format!(
                    "{at}: a probe has either `prefix` and `suffix`, or `text` (cut into windows)"
                )))
            }
        }
    }
    if probes.is_empty() {
        return Err(AuditError::Input(format!("{}: no probes", path.display())));
    }
    Ok(probes)
}

/// Samples `n` probes from the index: candidate windows of `prefix_len +
/// suffix_len` model tokens at uniformly random positions of uniformly
/// random live documents (a 32 KiB slice of longer ones), counted in the
/// corpus, then taken round-robin across duplicate buckets, highest bucket
/// first, so that duplicated sequences are represented even when rare.
pub fn sample_from_index(
    index: &Index,
    model: &dyn LanguageModel,
    n: usize,
    prefix_len: usize,
    suffix_len: usize,
    seed: u64,
) -> Result<(Vec<Probe>, SamplingFrame)> {
    let docs: Vec<DocAddr> = index.docs().collect();
    if docs.is_empty() || n == 0 {
        return Err(AuditError::Input("the index has no documents to sample probes from".into()));
    }
    let mut rng = Xoshiro256::seed_from_u64(seed);
    let w = prefix_len + suffix_len;
    let pool_target = n * 4;
    let mut by_bucket: BTreeMap<(u64, u64), Vec<Probe>> = BTreeMap::new();
    let mut candidates = 0;
    let attempts = pool_target * 5 + 100;
    for attempt in 0..attempts {
        if candidates >= pool_target {
            break;
        }
        let addr = docs[rng.index(docs.len())];
        let doc = index.doc(addr).map_err(|e| AuditError::Input(e.to_string()))?;
        let text = index.doc_text(addr).map_err(|e| AuditError::Input(e.to_string()))?;
        const SLICE: usize = 32 << 10;
        let mut from = if text.len() > SLICE { rng.index(text.len() - SLICE) } else { 0 };
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let mut to = (from + SLICE).min(text.len());
        while !text.is_char_boundary(to) {
            to -= 1;
        }
        let ids = model.encode(&text[from..to]).map_err(|e| AuditError::Input(e.to_string()))?;
        // Skip the first token when slicing mid-document: it may be half a word.
        let skip = usize::from(from > 0);
        if ids.len() < w + skip {
            continue;
        }
        let start = skip + rng.index(ids.len() - w - skip + 1);
        let (p, s) = (&ids[start..start + prefix_len], &ids[start + prefix_len..start + w]);
        let prefix = model.decode(p).map_err(|e| AuditError::Input(e.to_string()))?;
        let suffix = model.decode(s).map_err(|e| AuditError::Input(e.to_string()))?;
        let whole = ProbeText::decode(model, p, s).map_err(|e| AuditError::Input(e.to_string()))?;
        let dup = corpus_count(index, whole.text()).max(1);
        candidates += 1;
        by_bucket.entry(bucket_of(dup)).or_default().push(Probe {
            id: format!("idx-{seed}-{attempt}"),
            prefix,
            suffix,
            member: Some(true),
            duplicates: Some(dup),
            source: Some(ProbeSource {
                doc_id: Some(doc.id.clone()),
                path: doc.path.clone(),
                license: Some(doc.rights.license.clone()),
                holder: doc.rights.holder.clone(),
                token_offset: Some(start),
            }),
            secret: None,
            prefix_ids: Some(p.to_vec()),
            suffix_ids: Some(s.to_vec()),
        });
    }
    let mut frame = SamplingFrame {
        method: "index".into(),
        from: index.dir().display().to_string(),
        seed,
        prefix_tokens: prefix_len,
        suffix_tokens: suffix_len,
        candidates,
        note: "documents uniformly at random (live documents of every shard), a random 32 KiB slice of longer ones, \
               a uniformly random window in it; candidates taken round-robin across duplicate buckets, highest first"
            .into(),
        ..Default::default()
    };
    for (b, v) in &by_bucket {
        frame.available_per_bucket.insert(bucket_label(b.0), v.len());
    }
    let mut out = Vec::with_capacity(n);
    let mut queues: Vec<std::collections::VecDeque<Probe>> =
        by_bucket.into_values().rev().map(Into::into).collect();
    while out.len() < n && queues.iter().any(|q| !q.is_empty()) {
        for q in queues.iter_mut() {
            if out.len() >= n {
                break;
            }
            if let Some(p) = q.pop_front() {
                *frame.taken_per_bucket.entry(bucket_label(p.duplicates.unwrap_or(1))).or_default() += 1;
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        return Err(AuditError::Input(format!(
            "no document of the index is {w} model tokens long; use shorter --prefix-tokens/--suffix-tokens"
        )));
    }
    Ok((out, frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two() {
        assert_eq!(bucket_of(1), (1, 1));
        assert_eq!(bucket_of(2), (2, 3));
        assert_eq!(bucket_of(3), (2, 3));
        assert_eq!(bucket_of(4), (4, 7));
        assert_eq!(bucket_of(32), (32, 63));
        assert_eq!(bucket_label(5), "4–7");
        assert_eq!(bucket_label(1), "1");
    }

    /// A "model" whose tokenizer ignores its input, as some test servers'
    /// `/tokenize` does: no token boundary to split at.
    struct Constant;

    impl LanguageModel for Constant {
        fn info(&self) -> &recital_model::ModelInfo {
            unimplemented!("not needed")
        }
        fn encode(&self, _: &str) -> recital_model::Result<Vec<u32>> {
            Ok(vec![1, 2, 3])
        }
        fn decode(&self, _: &[u32]) -> recital_model::Result<String> {
            Ok("a b".into())
        }
        fn score(&self, _: &[u32], _: &[u32]) -> recital_model::Result<recital_model::Scored> {
            unimplemented!("not needed")
        }
        fn generate(
            &self,
            _: &[u32],
            _: usize,
            _: recital_model::Decoding,
        ) -> recital_model::Result<recital_model::Generated> {
            unimplemented!("not needed")
        }
    }

    #[test]
    fn no_token_boundary_falls_back_to_the_halves() {
        let t = ProbeText::join("the pin of ada is", "1 2");
        assert_eq!(t.encode(&Constant).unwrap(), (vec![1, 2, 3], vec![1, 2, 3]));
        // A canary's alternatives must keep the prompt's tokens: refused, not guessed.
        assert!(t.encode_suffix_after(&Constant, &[1, 2, 3], " 3 4").is_err());
    }

    #[test]
    fn secret_space() {
        let s = SecretSpace {
            alphabet: "0123456789".into(),
            length: 8,
            separator: " ".into(),
            after: " .".into(),
        };
        assert_eq!(s.size(), 1e8);
        let mut r = Xoshiro256::seed_from_u64(1);
        let x = s.draw(&mut r);
        assert_eq!(x.len(), 8 * 2 - 1 + 2);
        assert!(x.ends_with(" ."));
    }
}
