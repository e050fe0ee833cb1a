//! Shared by the candle checkpoint tests: the files every tiny checkpoint
//! needs beside its weights.

use std::path::Path;

#[allow(dead_code)]
pub mod stepped;

/// Writes `tokenizer.json` for a word-level vocabulary of `v` entries:
/// `[UNK]` is id 0, word `wK` is id K, split at whitespace.
#[allow(dead_code)]
pub fn write_word_tokenizer(dir: &Path, v: usize) {
    let vocab: serde_json::Map<String, serde_json::Value> =
        (0..v).map(|k| (if k == 0 { "[UNK]".to_string() } else { format!("w{k}") }, k.into())).collect();
    let tok = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
        "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    });
    std::fs::write(dir.join("tokenizer.json"), tok.to_string()).unwrap();
}
