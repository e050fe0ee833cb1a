//! Probes: prefix/suffix pairs to test a model with, in the model's own
//! tokens — sampled from the indexed training corpus and stratified by how
//! often the probed sequence occurs in it, or read from a user's JSONL (a
//! rightsholder's works: "does the model reproduce my book?").

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use recital_index::{Index, Query, Stream};
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
    /// of the space (its alternatives would not be comparable).
    pub fn check(&self, suffix: &str) -> std::result::Result<(), String> {
        let distinct: std::collections::BTreeSet<char> = self.alphabet.chars().collect();
        if distinct.len() < 2 || distinct.len() != self.alphabet.chars().count() {
            return Err("secret.alphabet needs at least two symbols, each once".into());
        }
        if self.length == 0 || self.length > 64 {
            return Err(format!("secret.length {} is not in 1..=64", self.length));
        }
        let body = suffix.strip_suffix(self.after.as_str()).unwrap_or("");
        let symbols: Vec<&str> = if self.separator.is_empty() {
            body.split_terminator("").skip(1).collect()
        } else {
            body.split(self.separator.as_str()).collect()
        };
        let fits = suffix.ends_with(self.after.as_str())
            && symbols.len() == self.length
            && symbols
                .iter()
                .all(|s| s.chars().count() == 1 && distinct.contains(&s.chars().next().unwrap_or('\0')));
        if !fits {
            return Err(format!("the suffix {suffix:?} is not a secret of the declared space"));
        }
        Ok(())
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
    let mut docs = Vec::new();
    for (si, s) in index.shards().iter().enumerate() {
        for d in 0..s.shard.docs.len() {
            if s.is_live(d) {
                docs.push((si, d));
            }
        }
    }
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
        let (si, d) = docs[rng.index(docs.len())];
        let shard = &index.shards()[si].shard;
        let (info, rights) = shard.doc(d).map_err(|e| AuditError::Input(e.to_string()))?;
        let text = shard.store.text(info.loc).map_err(|e| AuditError::Input(e.to_string()))?;
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
        let dup = corpus_count(index, &format!("{prefix}{suffix}")).max(1);
        candidates += 1;
        by_bucket.entry(bucket_of(dup)).or_default().push(Probe {
            id: format!("idx-{seed}-{attempt}"),
            prefix,
            suffix,
            member: Some(true),
            duplicates: Some(dup),
            source: Some(ProbeSource {
                doc_id: Some(info.id.clone()),
                path: info.path.clone(),
                license: Some(rights.license.clone()),
                holder: rights.holder.clone(),
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
