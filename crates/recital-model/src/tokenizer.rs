//! Tokenizers: a Hugging Face `tokenizer.json`, or a byte-level BPE rebuilt
//! from a GGUF file's `tokenizer.ggml.*` metadata.

use std::path::Path;

use sha2::{Digest, Sha256};
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::error::{ModelError, Result};

/// A tokenizer and the digest of its definition (provenance, research §11:
/// pin the tokenizer version).
pub struct ModelTokenizer {
    inner: Tokenizer,
    sha256: String,
}

impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer").field("sha256", &self.sha256).finish()
    }
}

impl ModelTokenizer {
    /// Reads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        let inner = Tokenizer::from_bytes(&bytes).map_err(|e| ModelError::BadFile {
            path: path.to_path_buf(),
            why: format!("not a tokenizer.json: {e}"),
        })?;
        Ok(Self { inner, sha256: hex::encode(Sha256::digest(&bytes)) })
    }

    /// Wraps a tokenizer built in memory; the digest is of its JSON form.
    pub fn from_tokenizer(inner: Tokenizer) -> Result<Self> {
        let json = inner.to_string(false).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(Self { inner, sha256: hex::encode(Sha256::digest(json.as_bytes())) })
    }

    /// A GPT-2-style byte-level BPE from a vocabulary (id order) and merges
    /// (`"a b"` strings), as GGUF stores them for `tokenizer.ggml.model =
    /// "gpt2"`. `special` ids are added as special tokens so that they are
    /// never split.
    pub fn byte_level_bpe(tokens: &[String], merges: &[String], special: &[u32]) -> Result<Self> {
        let mut vocab = tokenizers::models::bpe::Vocab::default();
        for (i, t) in tokens.iter().enumerate() {
            vocab.insert(t.clone(), i as u32);
        }
        let merges: Vec<(String, String)> = merges
            .iter()
            .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| ModelError::Tokenizer(format!("building BPE from GGUF metadata: {e}")))?;
        let mut t = Tokenizer::new(bpe);
        t.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
        t.with_decoder(Some(ByteLevel::default()));
        let added: Vec<AddedToken> = special
            .iter()
            .filter_map(|&i| tokens.get(i as usize))
            .map(|s| AddedToken::from(s.clone(), true))
            .collect();
        let _ = t.add_special_tokens(added);
        Self::from_tokenizer(t)
    }

    /// SHA-256 of the definition.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of a token string.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Text to ids, without special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, false).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Ids to text.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| ModelError::Tokenizer(e.to_string()))
    }

    /// The underlying tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// Refuses a tokenizer whose ids do not fit the model's embedding table.
    /// Models pad their vocabulary (Pythia: 50,277 tokens, 50,304 rows), so a
    /// tokenizer may be a little smaller, never larger, and not much smaller.
    pub fn check_fits(&self, model_vocab: usize, what: &str) -> Result<()> {
        let n = self.vocab_size();
        if n > model_vocab || (n as f64) < 0.9 * model_vocab as f64 {
            return Err(ModelError::TokenizerMismatch(format!(
                "{what}: the tokenizer has {n} tokens but the model's vocabulary has {model_vocab} rows; \
                 is this the tokenizer the model was trained with?"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_bpe_round_trips() {
        // A toy vocabulary: every byte-level character of "hello world" and two merges.
        let mut tokens: Vec<String> = "helowrd".chars().map(|c| c.to_string()).collect();
        tokens.push("Ġ".into()); // the byte-level space
        tokens.push("he".into());
        tokens.push("ll".into());
        tokens.push("<|endoftext|>".into());
        let merges = vec!["h e".to_string(), "l l".to_string()];
        let t = ModelTokenizer::byte_level_bpe(&tokens, &merges, &[10]).unwrap();
        let ids = t.encode("hello world").unwrap();
        assert_eq!(t.decode(&ids).unwrap(), "hello world");
        assert_eq!(ids[0], 8, "he merged");
        assert_eq!(t.encode("<|endoftext|>").unwrap(), vec![10]);
        assert!(t.check_fits(11, "toy").is_ok());
        assert!(t.check_fits(50_000, "toy").is_err());
    }
}
