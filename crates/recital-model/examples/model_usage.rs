//! `recital-model`: one trait over local models (candle, feature `candle`)
//! and OpenAI-compatible endpoints. Score how likely a model finds a
//! continuation, token by token, and let it complete a prefix greedily: the
//! two questions a memorisation audit asks.
//!
//! `cargo run -p recital-model --example model_usage -- http://localhost:8000/v1 [TOKENIZER.json]`
//! (with `--features candle`: a `.gguf` file or a model directory instead of a URL)

use recital_model::openai::EndpointOptions;
use recital_model::Decoding;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(spec) = args.next() else {
        eprintln!(
            "usage: model_usage MODEL (an endpoint URL, a .gguf file or a model directory) [TOKENIZER.json]"
        );
        std::process::exit(2);
    };
    let options = EndpointOptions { tokenizer: args.next().map(Into::into), ..Default::default() };
    let model = recital_model::open(&spec, options)?;
    let info = model.info();
    println!("{} ({}, {}): {}", info.source, info.backend, info.architecture, info.access.describe());

    let prefix = model.encode("To be, or not to be, that is")?;
    let suffix = model.encode(" the question")?;
    let scored = model.score(&prefix, &suffix)?;
    println!("log p(\" the question\" | prefix) per token: {:?}", scored.log_probs);

    let out = model.generate(&prefix, 8, Decoding::Greedy)?;
    println!("greedy: {:?}", model.decode(&out.tokens)?);
    Ok(())
}
