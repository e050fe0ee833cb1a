//! Wire formats: where each channel of a model API's answer lives in its
//! JSON, and how the answer is written back once filtered. Transport-free,
//! so that the proxy (answers as they arrive from the upstream) and the CLI
//! (answers saved to a file) rewrite them with the same code.

pub mod openai;
pub mod responses;
