//! # recital-model
//!
//! The language models recital's memorisation audit queries, behind one
//! trait, [`LanguageModel`]: encode and decode text, score a continuation
//! (per-token log-probabilities and, white-box, the μ/σ of the next-token
//! distribution that Min-K%++ needs), and generate greedily or by seeded
//! sampling.
//!
//! Backends:
//! - [`openai::Endpoint`]: any OpenAI-compatible `/v1/completions` endpoint
//!   with `logprobs` (vLLM, `recital model serve`, llama-cpp-python), with
//!   retries and an on-disk response cache. Always built.
//! - `candle` (cargo feature `candle`): local weights — GPT-2 safetensors
//!   (our own implementation, which also trains the canary lab's tiny
//!   model), Llama-family safetensors, and GGUF files of the Llama family.
//!   candle takes ~10 minutes to build cold on 2 cores, so the rest of the
//!   workspace builds without it.
//!
//! [`serve`] puts any of them behind the completions API with `echo` and
//! prompt log-probabilities, which is how the endpoint backend is tested
//! against a real model, and how an auditor can share one loaded model.
//!
//! [`open`] picks the backend from what the user names: a URL, a `.gguf`
//! file, or a model directory.
#![deny(missing_docs)]

#[cfg(feature = "candle")]
pub mod candle;
pub mod error;
pub mod model;
pub mod openai;
pub mod serve;
pub mod tokenizer;

pub use error::{ModelError, Result};
pub use model::{
    banned_mass, Access, DecodeHook, Decoding, DistStats, Generated, LanguageModel, ModelInfo, Scored,
};

/// Opens what `spec` names: an `http(s)://` endpoint (with `endpoint`
/// options), or a local model file or directory (needs the `candle`
/// feature).
pub fn open(spec: &str, endpoint: openai::EndpointOptions) -> Result<Box<dyn LanguageModel>> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Ok(Box::new(openai::Endpoint::connect(spec, endpoint)?));
    }
    open_local(std::path::Path::new(spec))
}

#[cfg(feature = "candle")]
fn open_local(path: &std::path::Path) -> Result<Box<dyn LanguageModel>> {
    candle::open_path(path)
}

#[cfg(not(feature = "candle"))]
fn open_local(path: &std::path::Path) -> Result<Box<dyn LanguageModel>> {
    Err(ModelError::Unsupported {
        spec: path.display().to_string(),
        why: "this recital was built without local models; rebuild with `--features candle` or give an http(s):// endpoint"
            .into(),
    })
}
