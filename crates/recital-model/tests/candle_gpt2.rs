//! The trainable GPT-2: it must learn (research §10 pitfall 1: candle's fused
//! ops have no backward and a model trained through them learns nothing),
//! and a saved model must load back through the user's path and score the
//! same.
#![cfg(feature = "candle")]

use recital_model::candle::gpt2::Gpt2Config;
use recital_model::candle::train::{TrainConfig, Trainer};
use recital_model::Decoding;
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::Tokenizer;

fn tokenizer(words: &[&str]) -> String {
    let vocab = words.iter().enumerate().map(|(i, w)| (w.to_string(), i as u32)).collect();
    let model = WordLevel::builder().vocab(vocab).unk_token("[UNK]".into()).build().unwrap();
    let mut t = Tokenizer::new(model);
    t.with_pre_tokenizer(Some(WhitespaceSplit));
    t.to_string(false).unwrap()
}

#[test]
fn tiny_model_overfits_a_tiny_corpus_and_round_trips() {
    let words = ["[UNK]", "a", "b", "c", "d", "e", "f", "g", "h"];
    // A deterministic sequence with long-range structure: "a b c d e f g h" repeated.
    let tokens: Vec<u32> = (0..2000).map(|i| 1 + (i % 8) as u32).collect();
    let cfg = Gpt2Config {
        vocab_size: words.len(),
        n_positions: 16,
        n_embd: 32,
        n_layer: 1,
        n_head: 2,
        layer_norm_epsilon: 1e-5,
        model_type: "gpt2".into(),
        eos_token_id: None,
    };
    let tc = TrainConfig {
        epochs: 8,
        batch_size: 16,
        window: 16,
        warmup_steps: 5,
        learning_rate: 1e-2,
        ..Default::default()
    };
    let mut t = Trainer::new(&cfg, tc, tokens.len()).unwrap();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..8 {
        last = t.epoch(&tokens, |_, _, _| {}).unwrap();
        first.get_or_insert(last);
    }
    let first = first.unwrap();
    // Uniform over 9 tokens is ln 9 ≈ 2.2 nats; the sequence is deterministic.
    assert!(first > 0.5, "first epoch loss {first}");
    assert!(last < 0.05, "the model did not learn: loss {first} -> {last}");

    let dir = tempfile::tempdir().unwrap();
    t.save(dir.path(), &tokenizer(&words)).unwrap();
    let m = recital_model::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(m.info().backend, "candle-gpt2");
    let ctx = m.encode("a b c").unwrap();
    assert_eq!(ctx, vec![1, 2, 3]);
    let g = m.generate(&ctx, 5, Decoding::Greedy).unwrap();
    assert_eq!(m.decode(&g.tokens).unwrap(), "d e f g h");
    let s = m.score(&ctx, &g.tokens).unwrap();
    for (a, b) in s.log_probs.iter().zip(&g.log_probs) {
        assert!((a - b).abs() < 1e-4, "score {a} vs generation {b}");
    }
    assert!(s.log_probs.iter().all(|&x| x > -0.1));
    let stats = s.stats.unwrap();
    assert!(stats.iter().all(|st| st.mean <= 0.0 && st.std >= 0.0));
    // Batched alternatives score the same as one at a time.
    let alts = vec![vec![4, 5, 6], vec![5, 5, 5], vec![8, 1, 2]];
    let many = m.score_many(&ctx, &alts).unwrap();
    for (alt, got) in alts.iter().zip(&many) {
        let one = m.score(&ctx, alt).unwrap();
        for (a, b) in one.log_probs.iter().zip(&got.log_probs) {
            assert!((a - b).abs() < 1e-4);
        }
    }
    // Out-of-vocabulary ids are refused, not indexed out of bounds.
    assert!(m.score(&[99], &[1]).is_err());
    assert!(m.generate(&[], 3, Decoding::Greedy).is_err());
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), r#"{"model_type":"gpt2"}"#).unwrap();
    let err =
        recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap().to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer(&["[UNK]", "a"])).unwrap();
    let err =
        recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap().to_string();
    assert!(err.contains("safetensors"), "{err}");
    let err = recital_model::open("/nonexistent/model", Default::default()).err().unwrap().to_string();
    assert!(err.contains("no such file"), "{err}");
}
