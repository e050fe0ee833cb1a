//! The canary lab (research §10): a synthetic corpus with secret canaries
//! inserted at controlled duplicate counts, a tiny GPT-2 trained on it from
//! scratch, and the probes to audit it with — so that the whole audit can be
//! checked against the published shapes (extraction rises with duplicates,
//! exposure rises with insertions, membership AUC is near chance for text
//! seen once) on a laptop, and so that an auditor can calibrate recital.
//!
//! Everything is generated from one seed; nothing is downloaded.

use std::io::Write;
use std::path::{Path, PathBuf};

use recital_model::candle::gpt2::Gpt2Config;
use recital_model::candle::train::{TrainConfig, TrainReport, Trainer};
use serde::{Deserialize, Serialize};
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::Tokenizer;

use crate::error::{AuditError, Result};
use crate::probes::{Probe, ProbeSource, SecretSpace};
use crate::rng::Xoshiro256;

/// The lab's knobs. Defaults follow the research §10 pilot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabConfig {
    /// Lines of background text from the grammar.
    pub background_lines: usize,
    /// Duplicate counts c: each bucket's canaries are inserted c times.
    pub buckets: Vec<usize>,
    /// Canaries per bucket.
    pub per_bucket: usize,
    /// Canaries never inserted (membership non-members).
    pub non_members: usize,
    /// Digits of a secret (|R| = 10^digits).
    pub digits: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Epochs after which to also save a snapshot (`model-epoch-N/`).
    pub save_epochs: Vec<usize>,
    /// Hidden size.
    pub d_model: usize,
    /// Layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// Context (and training window) in tokens.
    pub context: usize,
    /// Seed of everything.
    pub seed: u64,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            background_lines: 4000,
            buckets: vec![1, 2, 4, 8, 16, 32],
            per_bucket: 32,
            non_members: 200,
            digits: 8,
            epochs: 10,
            save_epochs: vec![],
            d_model: 64,
            layers: 2,
            heads: 2,
            context: 16,
            seed: 0,
        }
    }
}

/// What the lab made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabReport {
    /// Settings.
    pub config: LabConfig,
    /// Tokens per epoch.
    pub tokens: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// The training run.
    pub training: TrainReport,
    /// Saved models (final last).
    pub models: Vec<PathBuf>,
    /// The corpus index.
    pub index: PathBuf,
    /// The probes.
    pub probes: PathBuf,
}

const SUBJECTS: [&str; 16] = [
    "the farmer",
    "a child",
    "the king",
    "my neighbour",
    "the teacher",
    "a sailor",
    "the doctor",
    "an old man",
    "the baker",
    "a soldier",
    "the queen",
    "her brother",
    "the miller",
    "a stranger",
    "the priest",
    "his sister",
];
const VERBS: [&str; 16] = [
    "sees", "finds", "carries", "paints", "sells", "keeps", "loses", "buys", "mends", "wants", "hides",
    "builds", "cleans", "opens", "counts", "follows",
];
const ADJECTIVES: [&str; 16] = [
    "red", "small", "heavy", "broken", "golden", "quiet", "empty", "bright", "wooden", "cold", "strange",
    "green", "round", "narrow", "ancient", "clean",
];
const NOUNS: [&str; 16] = [
    "boat", "house", "horse", "basket", "letter", "garden", "window", "bridge", "candle", "wagon", "field",
    "river", "lamp", "barrel", "coat", "tower",
];
const PREPOSITIONS: [&str; 8] = ["near", "under", "behind", "beside", "across", "inside", "above", "beyond"];
const PREFIX_WORDS: [&str; 4] = ["the", "pin", "of", "is"];

fn background(rng: &mut Xoshiro256) -> String {
    let pick = |rng: &mut Xoshiro256, xs: &[&'static str]| xs[rng.index(xs.len())];
    match rng.index(3) {
        0 => format!(
            "{} {} the {} {} .",
            pick(rng, &SUBJECTS),
            pick(rng, &VERBS),
            pick(rng, &ADJECTIVES),
            pick(rng, &NOUNS)
        ),
        1 => format!(
            "{} {} a {} {} the {} .",
            pick(rng, &SUBJECTS),
            pick(rng, &VERBS),
            pick(rng, &NOUNS),
            pick(rng, &PREPOSITIONS),
            pick(rng, &NOUNS)
        ),
        _ => format!("the {} {} is {} .", pick(rng, &ADJECTIVES), pick(rng, &NOUNS), pick(rng, &ADJECTIVES)),
    }
}

/// A name no grammar word can be: `zq` and a base-26 code.
fn canary_name(i: usize) -> String {
    let mut s = String::from("zq");
    let mut x = i;
    loop {
        s.push((b'a' + (x % 26) as u8) as char);
        x /= 26;
        if x == 0 {
            break;
        }
    }
    s
}

fn word_level_tokenizer(words: &[String]) -> Result<Tokenizer> {
    let vocab: std::collections::HashMap<String, u32> =
        words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
    let model = WordLevel::builder()
        .vocab(vocab.into_iter().collect())
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| AuditError::Input(format!("building the lab tokenizer: {e}")))?;
    let mut t = Tokenizer::new(model);
    t.with_pre_tokenizer(Some(WhitespaceSplit));
    Ok(t)
}

/// Builds the lab in `dir` (which must not exist or be empty): corpus,
/// index, trained model(s), probes. `on_step(epoch, step, total, loss)`.
pub fn build(
    dir: &Path,
    cfg: &LabConfig,
    mut on_step: impl FnMut(usize, usize, usize, f64),
) -> Result<LabReport> {
    if dir.exists() && std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, e))?.next().is_some() {
        return Err(AuditError::Input(format!("{}: exists and is not empty", dir.display())));
    }
    if cfg.buckets.is_empty() || cfg.per_bucket == 0 || cfg.digits == 0 || cfg.epochs == 0 {
        return Err(AuditError::Input(
            "the lab needs buckets, canaries per bucket, digits and epochs".into(),
        ));
    }
    let mut rng = Xoshiro256::seed_from_u64(cfg.seed);
    let space = SecretSpace {
        alphabet: "0123456789".into(),
        length: cfg.digits,
        separator: " ".into(),
        after: " .".into(),
    };
    // Canaries: members first (bucket by bucket), then non-members.
    let n_members = cfg.buckets.len() * cfg.per_bucket;
    let mut canaries = Vec::new();
    for i in 0..n_members + cfg.non_members {
        let copies = if i < n_members { cfg.buckets[i / cfg.per_bucket] } else { 0 };
        canaries.push((canary_name(i), space.draw(&mut rng), copies));
    }
    let mut lines: Vec<String> = (0..cfg.background_lines).map(|_| background(&mut rng)).collect();
    for (name, secret, copies) in &canaries {
        for _ in 0..*copies {
            lines.push(format!("the pin of {name} is {secret}"));
        }
    }
    for i in (1..lines.len()).rev() {
        let j = rng.index(i + 1);
        lines.swap(i, j);
    }
    // Vocabulary: every word of the grammar and prefix, digits, names.
    let mut words: Vec<String> = vec!["[UNK]".into(), ".".into()];
    let grammar = SUBJECTS
        .iter()
        .chain(&VERBS)
        .chain(&ADJECTIVES)
        .chain(&NOUNS)
        .chain(&PREPOSITIONS)
        .chain(&PREFIX_WORDS);
    for phrase in grammar {
        for w in phrase.split(' ') {
            if !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        }
    }
    for d in 0..10 {
        words.push(d.to_string());
    }
    words.extend(canaries.iter().map(|c| c.0.clone()));
    let tokenizer = word_level_tokenizer(&words)?;
    let tokenizer_json = tokenizer.to_string(true).map_err(|e| AuditError::Input(e.to_string()))?;
    let text = lines.join("\n") + "\n";
    let tokens: Vec<u32> = tokenizer
        .encode(text.as_str(), false)
        .map_err(|e| AuditError::Input(e.to_string()))?
        .get_ids()
        .to_vec();

    std::fs::create_dir_all(dir.join("corpus")).map_err(|e| AuditError::io(dir, e))?;
    let corpus = dir.join("corpus").join("train.txt");
    std::fs::write(&corpus, &text).map_err(|e| AuditError::io(&corpus, e))?;
    let index = dir.join("index");
    recital_index::build(
        &index,
        std::slice::from_ref(&corpus),
        &recital_index::IngestOptions::default(),
        &recital_index::BuildOptions::default(),
    )?;

    let probes_path = dir.join("probes.jsonl");
    let mut f = std::fs::File::create(&probes_path).map_err(|e| AuditError::io(&probes_path, e))?;
    for (i, (name, secret, copies)) in canaries.iter().enumerate() {
        let p = Probe {
            id: format!("canary-{i}"),
            prefix: format!("the pin of {name} is"),
            suffix: secret.clone(),
            member: Some(*copies > 0),
            duplicates: Some(*copies as u64),
            source: Some(ProbeSource { doc_id: Some(format!("canary {name}")), ..Default::default() }),
            secret: Some(space.clone()),
            prefix_ids: None,
            suffix_ids: None,
        };
        writeln!(f, "{}", serde_json::to_string(&p).unwrap_or_default())
            .map_err(|e| AuditError::io(&probes_path, e))?;
    }

    let gcfg = Gpt2Config {
        vocab_size: words.len(),
        n_positions: cfg.context,
        n_embd: cfg.d_model,
        n_layer: cfg.layers,
        n_head: cfg.heads,
        layer_norm_epsilon: 1e-5,
        model_type: "gpt2".into(),
        eos_token_id: None,
    };
    let tc = TrainConfig { epochs: cfg.epochs, window: cfg.context, seed: cfg.seed, ..Default::default() };
    let mut trainer = Trainer::new(&gcfg, tc, tokens.len())?;
    let mut models = Vec::new();
    for epoch in 1..=cfg.epochs {
        trainer.epoch(&tokens, |step, total, loss| on_step(epoch, step, total, loss))?;
        if cfg.save_epochs.contains(&epoch) && epoch != cfg.epochs {
            let d = dir.join(format!("model-epoch-{epoch}"));
            trainer.save(&d, &tokenizer_json)?;
            models.push(d);
        }
    }
    let final_dir = dir.join("model");
    trainer.save(&final_dir, &tokenizer_json)?;
    models.push(final_dir);
    let report = LabReport {
        config: cfg.clone(),
        tokens: tokens.len(),
        vocab_size: words.len(),
        training: trainer.report(),
        models,
        index,
        probes: probes_path,
    };
    let json = serde_json::to_vec_pretty(&report).map_err(|e| AuditError::Input(e.to_string()))?;
    crate::run::write_atomic(&dir.join("lab.json"), &json)?;
    Ok(report)
}
