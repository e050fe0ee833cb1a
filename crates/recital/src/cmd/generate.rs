//! `recital model generate`: a local model's generation, optionally under
//! the decode-time guard (`recital-guard`), through the model crate's
//! [`DecodeHook`].

use anyhow::Context;
use recital_guard::{Advice, DecodeGuard, GuardOptions, GuardSession, Vocab};
use recital_model::{DecodeHook, Decoding, LanguageModel};
use serde::Serialize;

use crate::cli::ModelGenerateArgs;

/// A guard session as the model crate's hook.
struct Hook<'a> {
    session: &'a mut GuardSession,
    guarded_steps: usize,
}

impl DecodeHook for Hook<'_> {
    fn banned(&mut self) -> Vec<u32> {
        let b = self.session.banned();
        self.guarded_steps += usize::from(!b.is_empty());
        b
    }

    fn advise(&mut self, banned_mass: f64) -> Option<usize> {
        match self.session.advise(banned_mass) {
            Advice::Sample => None,
            Advice::Rollback { keep } => Some(keep),
        }
    }

    fn push(&mut self, token: u32) {
        self.session.push(token);
    }
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    text: String,
    tokens: Vec<u32>,
    guarded: bool,
    guarded_steps: usize,
    rollbacks: usize,
}

pub fn run(a: ModelGenerateArgs) -> anyhow::Result<()> {
    let prompt = match (&a.prompt, &a.prompt_file) {
        (Some(p), _) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        (None, None) => anyhow::bail!("give --prompt or --prompt-file"),
    };
    let spec = a.model.display().to_string();
    let model =
        recital_model::open(&spec, Default::default()).with_context(|| format!("opening model {spec}"))?;
    let context = model.encode(&prompt)?;
    let decoding = if a.temperature > 0.0 {
        Decoding::Sample { temperature: a.temperature, seed: a.seed }
    } else {
        Decoding::Greedy
    };
    let report = match &a.guard_index {
        None => {
            let g = model.generate(&context, a.max_tokens, decoding)?;
            let text = model.decode(&g.tokens)?;
            Report {
                schema: "recital.generate/1",
                text,
                tokens: g.tokens,
                guarded: false,
                guarded_steps: 0,
                rollbacks: 0,
            }
        }
        Some(dir) => {
            let guard = guard_for(&a, dir, model.as_ref())?;
            let mut session = guard.session((!a.no_context_exemption).then_some(prompt.as_str()));
            let mut hook = Hook { session: &mut session, guarded_steps: 0 };
            let g = model.generate_guarded(&context, a.max_tokens, decoding, &mut hook)?;
            let guarded_steps = hook.guarded_steps;
            Report {
                schema: "recital.generate/1",
                text: model.decode(&g.tokens)?,
                tokens: g.tokens,
                guarded: true,
                guarded_steps,
                rollbacks: session.rollbacks(),
            }
        }
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.text);
        if report.guarded {
            eprintln!("guard: {} steps with bans, {} rollbacks", report.guarded_steps, report.rollbacks);
        }
    }
    Ok(())
}

fn guard_for(
    a: &ModelGenerateArgs,
    dir: &std::path::Path,
    model: &dyn LanguageModel,
) -> anyhow::Result<DecodeGuard> {
    let index =
        recital_index::Index::open(dir).with_context(|| format!("opening index {}", dir.display()))?;
    let policy = match &a.policy {
        Some(p) => {
            recital_policy::Policy::load(p).with_context(|| format!("reading policy {}", p.display()))?
        }
        None => recital_policy::Policy::builtin_default(),
    };
    let options = GuardOptions {
        jurisdiction: a.jurisdiction.clone().unwrap_or_default(),
        exempt_context: !a.no_context_exemption,
        ..GuardOptions::default()
    };
    Ok(DecodeGuard::new(index, vocab_of(model)?, policy, options)?)
}

/// Each id's text as written after another token: decoded behind an anchor
/// and cut off after it, so SentencePiece's leading space is kept.
fn vocab_of(model: &dyn LanguageModel) -> anyhow::Result<Vocab> {
    let anchor = model.encode("a")?.first().copied().context("the tokenizer encodes \"a\" as nothing")?;
    let head = model.decode(&[anchor])?;
    let n = model.info().vocab_size as u32;
    let mut pieces = Vec::with_capacity(n as usize);
    for id in 0..n {
        let text = model.decode(&[anchor, id]).unwrap_or_default();
        pieces.push(text.strip_prefix(head.as_str()).unwrap_or("").as_bytes().to_vec());
    }
    Ok(Vocab::from_pieces(pieces)?)
}
