//! Probes as each tokenizer family sees them (issue 16): duplicate counts of
//! the exact probe text, and canaries tokenised in the context they were
//! trained in, for the three families of tokenizer.json in use —
//! byte-level BPE (GPT-2, Pythia, SmolLM2, Llama 3), Metaspace /
//! SentencePiece (Llama 2, Mistral, Gemma) and WordPiece — plus the canary
//! lab's WordLevel on WhitespaceSplit.
//!
//! The model is an idealised memoriser over the tokenised training documents
//! (see [`Memoriser`]), so every number these tests check follows from the
//! tokenisation alone.

use std::collections::HashMap;
use std::path::Path;

use recital_audit::probes::{sample_from_index, Probe, ProbeText, SecretSpace};
use recital_audit::rng::Xoshiro256;
use recital_audit::run::{measure, run, AuditConfig, ProbeResult, Subject};
use recital_model::tokenizer::ModelTokenizer;
use recital_model::{Access, Decoding, Generated, LanguageModel, ModelInfo, Scored};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::Tokenizer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// GPT-2's byte-level BPE: the space belongs to the next word (`Ġ3`).
    ByteLevelBpe,
    /// SentencePiece-style Metaspace on a WordLevel model (`▁3`); the decoder
    /// drops the word-initial space of the first token.
    Metaspace,
    /// BERT's WordPiece on WhitespaceSplit; the decoder joins words with spaces.
    WordPiece,
    /// The canary lab's WordLevel on WhitespaceSplit (no decoder).
    Whitespace,
}

const FAMILIES: [Family; 4] =
    [Family::ByteLevelBpe, Family::Metaspace, Family::WordPiece, Family::Whitespace];

/// A tokenizer of `family` in which every word of `words` is one token
/// (after a space, and at the start of a text), written to a tokenizer.json
/// and read back as a user's file is. The byte-level BPE is trained on
/// `texts` until no pair is left to merge, so each word it saw is one token.
fn tokenizer(family: Family, words: &[String], texts: &[String]) -> ModelTokenizer {
    let word_level = |vocab: Vec<String>, unk: &str| {
        WordLevel::builder()
            .vocab(vocab.into_iter().enumerate().map(|(i, w)| (w, i as u32)).collect())
            .unk_token(unk.into())
            .build()
            .unwrap()
    };
    let mut t = match family {
        Family::ByteLevelBpe => byte_level_bpe(texts),
        Family::Metaspace => {
            let vocab = std::iter::once("<unk>".to_string()).chain(words.iter().map(|w| format!("▁{w}")));
            let mut t = Tokenizer::new(word_level(vocab.collect(), "<unk>"));
            t.with_pre_tokenizer(Some(Metaspace::new('▁', PrependScheme::Always, true)));
            t
        }
        Family::WordPiece => {
            let vocab = std::iter::once("[UNK]".to_string()).chain(words.iter().cloned());
            let model = WordPiece::builder()
                .vocab(
                    vocab.enumerate().map(|(i, w)| (w, i as u32)).collect::<tokenizers::models::bpe::Vocab>(),
                )
                .unk_token("[UNK]".into())
                .build()
                .unwrap();
            let mut t = Tokenizer::new(model);
            t.with_pre_tokenizer(Some(WhitespaceSplit));
            t.with_decoder(Some(WordPieceDecoder::default()));
            t
        }
        Family::Whitespace => {
            let vocab = std::iter::once("[UNK]".to_string()).chain(words.iter().cloned());
            let mut t = Tokenizer::new(word_level(vocab.collect(), "[UNK]"));
            t.with_pre_tokenizer(Some(WhitespaceSplit));
            t
        }
    };
    if family == Family::Metaspace {
        t.with_decoder(Some(Metaspace::new('▁', PrependScheme::Always, true)));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, t.to_string(false).unwrap()).unwrap();
    ModelTokenizer::from_file(&path).unwrap()
}

/// GPT-2's byte-level BPE (no prefix space), trained on `texts`.
fn byte_level_bpe(texts: &[String]) -> Tokenizer {
    let mut t = Tokenizer::new(BPE::default());
    t.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    t.with_decoder(Some(ByteLevel::default()));
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(100_000)
        .min_frequency(0)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    t.train(&mut trainer, texts.iter()).unwrap();
    t
}

/// An idealised memoriser of its training documents, in its tokenizer's
/// tokens. The next token after a context is predicted from the longest
/// suffix of the context (up to 8 tokens) seen in training, as the token
/// that most often followed it (ties to the lowest id). It gives the
/// predicted token probability 0.9, any other token 0.1 × its share of the
/// training tokens (add-one), and generates greedily. Not a distribution
/// over the vocabulary — it does not need to be one for these tests: only
/// which tokens it predicts depends on the tokenisation.
struct Memoriser {
    tokenizer: ModelTokenizer,
    docs: Vec<Vec<u32>>,
    unigram: HashMap<u32, usize>,
    total: usize,
    info: ModelInfo,
}

impl Memoriser {
    fn new(tokenizer: ModelTokenizer, texts: &[String]) -> Self {
        let docs: Vec<Vec<u32>> = texts.iter().map(|t| tokenizer.encode(t).unwrap()).collect();
        let mut unigram = HashMap::new();
        for &t in docs.iter().flatten() {
            *unigram.entry(t).or_insert(0) += 1;
        }
        let total = docs.iter().map(Vec::len).sum();
        let info = ModelInfo {
            source: "memoriser".into(),
            backend: "test".into(),
            architecture: "memoriser".into(),
            access: Access::TokenLogprobs,
            parameters: None,
            vocab_size: tokenizer.vocab_size(),
            context_length: 4096,
            tokenizer_sha256: Some(tokenizer.sha256().to_string()),
            weights_sha256: None,
            weights_digest_kind: None,
            device: None,
            dtype: None,
            scoring: None,
        };
        Self { tokenizer, docs, unigram, total, info }
    }

    fn predict(&self, context: &[u32]) -> Option<u32> {
        for k in (1..=context.len().min(8)).rev() {
            let tail = &context[context.len() - k..];
            let mut followers: HashMap<u32, usize> = HashMap::new();
            for d in &self.docs {
                for w in d.windows(k + 1) {
                    if &w[..k] == tail {
                        *followers.entry(w[k]).or_insert(0) += 1;
                    }
                }
            }
            if let Some((&t, _)) = followers.iter().max_by_key(|(&t, &n)| (n, std::cmp::Reverse(t))) {
                return Some(t);
            }
        }
        None
    }

    fn log_prob(&self, context: &[u32], token: u32) -> f64 {
        if self.predict(context) == Some(token) {
            return 0.9f64.ln();
        }
        let share = (self.unigram.get(&token).copied().unwrap_or(0) + 1) as f64 / (self.total + 1) as f64;
        (0.1 * share).ln()
    }
}

impl LanguageModel for Memoriser {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn encode(&self, text: &str) -> recital_model::Result<Vec<u32>> {
        self.tokenizer.encode(text)
    }

    fn decode(&self, tokens: &[u32]) -> recital_model::Result<String> {
        self.tokenizer.decode(tokens)
    }

    fn score(&self, context: &[u32], continuation: &[u32]) -> recital_model::Result<Scored> {
        let mut seq = context.to_vec();
        let mut log_probs = Vec::with_capacity(continuation.len());
        for &t in continuation {
            log_probs.push(self.log_prob(&seq, t));
            seq.push(t);
        }
        Ok(Scored { log_probs, stats: None })
    }

    fn generate(&self, context: &[u32], max_tokens: usize, _: Decoding) -> recital_model::Result<Generated> {
        let mut seq = context.to_vec();
        let mut out = Generated::default();
        for _ in 0..max_tokens {
            let Some(t) = self.predict(&seq) else { break };
            out.log_probs.push(self.log_prob(&seq, t));
            out.tokens.push(t);
            seq.push(t);
        }
        Ok(out)
    }
}

/// `n` distinct pseudo-words of three syllables, from a fixed seed.
fn pseudo_words(n: usize, seed: u64) -> Vec<String> {
    let (cons, vowels) = (b"bdfgklmnprstvz", b"aeiou");
    let mut rng = Xoshiro256::seed_from_u64(seed);
    let mut out: Vec<String> = Vec::new();
    while out.len() < n {
        let w: String = (0..3)
            .flat_map(|_| [cons[rng.index(cons.len())] as char, vowels[rng.index(vowels.len())] as char])
            .collect();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn config(exposure_references: usize) -> AuditConfig {
    AuditConfig { exposure_references, sweep: vec![], ..Default::default() }
}

/// The reproduction: 16-word passages in 1, 3 and 8 documents,
/// 12 probes of 8 + 8 tokens sampled from the index. Every probe's
/// `duplicates` must be the number of documents holding its passage — for
/// Metaspace and WordPiece too, whose decoders drop the space between two
/// separately decoded halves ("w8w9", counted 0 and shown as 1).
#[test]
fn duplicates_are_the_corpus_counts_of_the_probe_text() {
    let words = pseudo_words(48, 16);
    let passages: Vec<String> = words.chunks(16).map(|c| c.join(" ")).collect();
    let copies = [1usize, 3, 8];
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let mut texts = Vec::new();
    let mut copies_of: HashMap<String, u64> = HashMap::new();
    for (p, &n) in passages.iter().zip(&copies) {
        for c in 0..n {
            let name = format!("{}-{c}.txt", &p[..6]);
            std::fs::write(corpus.join(&name), p).unwrap();
            copies_of.insert(name, n as u64);
            texts.push(p.clone());
        }
    }
    let index_dir = tmp.path().join("index");
    build_index(&index_dir, &corpus);
    let index = recital_index::Index::open(&index_dir).unwrap();
    for family in FAMILIES {
        let model = Memoriser::new(tokenizer(family, &words, &texts), &texts);
        let (probes, frame) = sample_from_index(&index, &model, 12, 8, 8, 0).unwrap();
        assert_eq!(probes.len(), 12, "{family:?}");
        assert_eq!(frame.available_per_bucket.len(), 3, "{family:?}: {frame:?}");
        for p in &probes {
            let doc = p.source.as_ref().and_then(|s| s.doc_id.clone()).unwrap();
            assert_eq!(p.duplicates, Some(copies_of[&doc]), "{family:?}: {} / {}", p.prefix, p.suffix);
        }
        // Measured, the sampled windows keep their counts, and a memoriser extracts every one.
        let subject = Subject { model: &model, reference: None, index: Some(&index) };
        for (i, p) in probes.iter().enumerate() {
            let r = measure(&subject, p, &config(0), i).unwrap();
            assert!(r.extracted, "{family:?}: {r:?}");
            assert_eq!(r.duplicates, p.duplicates);
        }
        // A probe file's prefix and suffix, counted through the index when measured.
        for (p, &n) in passages.iter().zip(&copies) {
            let ws: Vec<&str> = p.split(' ').collect();
            let probe = file_probe(&ws[..8].join(" "), &ws[8..].join(" "), None);
            let r = measure(&subject, &probe, &config(0), 0).unwrap();
            assert_eq!(r.duplicates, Some(n as u64), "{family:?}: {probe:?}");
            assert!(r.extracted, "{family:?}: {r:?}");
        }
    }
}

fn build_index(dir: &Path, corpus: &Path) {
    recital_index::build(
        dir,
        &[corpus.to_path_buf()],
        &recital_index::IngestOptions::default(),
        &recital_index::BuildOptions::default(),
    )
    .unwrap();
}

fn file_probe(prefix: &str, suffix: &str, secret: Option<SecretSpace>) -> Probe {
    let line =
        serde_json::json!({"id": "p", "prefix": prefix, "suffix": suffix, "member": true, "secret": secret});
    serde_json::from_value(line).unwrap()
}

fn digits_space() -> SecretSpace {
    SecretSpace { alphabet: "0123456789".into(), length: 8, separator: " ".into(), after: " .".into() }
}

/// A canary inserted 4 times among 40 others: memorised, it must be
/// extracted and ranked first, whatever the tokenizer — in particular by a
/// byte-level BPE, which generates `" 3"` where a separately encoded suffix
/// starts with a bare `"3"` — with the same exposure (within 1 bit) under
/// every family, and with its suffix written with or without the leading
/// space.
#[test]
fn canaries_are_tokenised_in_context_for_every_family() {
    let space = digits_space();
    let mut rng = Xoshiro256::seed_from_u64(7);
    let names = pseudo_words(41, 3);
    let mut texts = Vec::new();
    let mut canary = String::new();
    for (i, name) in names.iter().enumerate() {
        let secret = space.draw(&mut rng);
        let copies = if i == 0 { 4 } else { 1 };
        for _ in 0..copies {
            texts.push(format!("the pin of {name} is {secret}"));
        }
        if i == 0 {
            canary = secret;
        }
    }
    let mut words: Vec<String> = ["the", "pin", "of", "is", "."].iter().map(|s| s.to_string()).collect();
    words.extend((0..10).map(|d| d.to_string()));
    words.extend(names.iter().cloned());
    let prefix = format!("the pin of {} is", names[0]);
    let mut exposures = Vec::new();
    for family in FAMILIES {
        let model = Memoriser::new(tokenizer(family, &words, &texts), &texts);
        let subject = Subject { model: &model, reference: None, index: None };
        let mut seen = Vec::new();
        for suffix in [canary.clone(), format!(" {canary}")] {
            space.check(&suffix).unwrap();
            let probe = file_probe(&prefix, &suffix, Some(space.clone()));
            let r = measure(&subject, &probe, &config(300), 0).unwrap();
            assert!(r.extracted, "{family:?} {suffix:?}: generated {:?}", r.generated);
            assert_eq!(r.suffix_tokens, 9, "{family:?}: one token per symbol");
            let e = r.exposure.clone().unwrap();
            assert_eq!(e.rank, 1, "{family:?}: {e:?}");
            seen.push(r);
        }
        assert_eq!(
            seen[0].loss.to_bits(),
            seen[1].loss.to_bits(),
            "{family:?}: the leading space changes nothing"
        );
        assert_eq!(seen[0].exposure, seen[1].exposure, "{family:?}");
        exposures.push((family, seen[0].exposure.clone().unwrap()));
    }
    let (_, reference) = &exposures[3];
    let reference_bits = reference.extrapolated.unwrap();
    assert!(reference_bits > 15.0, "a memorised canary is exposed: {reference:?}");
    for (family, e) in &exposures {
        let bits = e.extrapolated.unwrap();
        assert!(
            (bits - reference_bits).abs() <= 1.0,
            "{family:?}: {bits} bits against {reference_bits} (whitespace)"
        );
        assert!((e.px_bits - reference.px_bits).abs() < 1e-9, "{family:?}: {e:?} vs {reference:?}");
    }
}

/// The probe text of a window is the window decoded whole, and in-context
/// encoding splits it back into the same ids, for every family.
#[test]
fn probe_text_round_trips_through_every_family() {
    let words = pseudo_words(20, 5);
    let text = words.join(" ");
    for family in FAMILIES {
        let model = Memoriser::new(
            tokenizer(family, &words, std::slice::from_ref(&text)),
            std::slice::from_ref(&text),
        );
        let ids = model.encode(&text).unwrap();
        assert_eq!(ids.len(), 20, "{family:?}");
        let (p, s) = ids.split_at(9);
        let whole = ProbeText::decode(&model, p, s).unwrap();
        assert_eq!(whole.text(), text, "{family:?}");
        assert_eq!(whole.encode(&model).unwrap(), (p.to_vec(), s.to_vec()), "{family:?}");
        let joined = ProbeText::join(&words[..9].join(" "), &words[9..].join(" "));
        assert_eq!(joined.text(), text);
        assert_eq!(joined.encode(&model).unwrap(), (p.to_vec(), s.to_vec()), "{family:?}");
    }
    // Either side's whitespace is kept as written; no space is doubled.
    assert_eq!(ProbeText::join("a b ", "c").text(), "a b c");
    assert_eq!(ProbeText::join("a b", " c").suffix(), " c");
    assert_eq!(ProbeText::join("a b", "c").suffix(), " c");
}

/// A resumed run reports exactly what it wrote: every number read back from
/// results.jsonl is bit-identical to the one computed.
#[test]
fn a_resumed_run_round_trips_every_number() {
    let words = pseudo_words(40, 11);
    let texts: Vec<String> = words.chunks(10).map(|c| c.join(" ")).collect();
    let model = Memoriser::new(tokenizer(Family::ByteLevelBpe, &words, &texts), &texts);
    let probes: Vec<Probe> = texts
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let ws: Vec<&str> = t.split(' ').collect();
            (3..8).map(move |k| {
                let mut p = file_probe(&ws[..k].join(" "), &ws[k..].join(" "), None);
                p.id = format!("t{i}k{k}");
                p
            })
        })
        .collect();
    let subject = Subject { model: &model, reference: None, index: None };
    let out = tempfile::tempdir().unwrap();
    let first = run(&subject, &probes, &config(0), out.path(), &|_, _| {}).unwrap();
    let again = run(&subject, &probes, &config(0), out.path(), &|_, _| {}).unwrap();
    let bits = |r: &ProbeResult| {
        [r.loss, r.zlib_ratio, r.min_k_percent, r.memorisation_score, r.lcs_ratio, r.rouge_l]
            .map(f64::to_bits)
    };
    assert_eq!(first.len(), 20);
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(bits(a), bits(b), "{a:?}\n{b:?}");
    }
}
