//! The decode-time guard with `recital-guard`, without a model: index the
//! bundled sample prose with Hamlet under a proprietary licence, give the
//! guard a word-level vocabulary, and let a stand-in "model" that wants to
//! recite Hamlet in capitals write 120 words. At each step it masks the
//! banned ids and takes its next choice; when the guard says to roll back,
//! it rewinds. The output keeps going, and what it copies stays under the
//! policy's threshold.
//!
//! `cargo run -p recital-guard --example guard_usage`

use std::collections::HashMap;
use std::path::Path;

use recital_guard::{Advice, DecodeGuard, GuardOptions, Vocab};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};
use recital_policy::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rights.jsonl");
    std::fs::write(&rules, "{\"path\": \"shakespeare/*\", \"license\": \"LicenseRef-Proprietary\"}\n")?;
    let opts = IngestOptions { rights: RightsRules::load(&rules)?, ..Default::default() };
    recital_index::build(&dir.path().join("i"), &[sample.join("prose")], &opts, &BuildOptions::default())?;
    let index = Index::open(&dir.path().join("i"))?;

    // The "model" recites this passage, word by word, in capitals.
    let hamlet = std::fs::read_to_string(sample.join("prose/shakespeare/hamlet.txt"))?;
    let at = hamlet.find("To be, or not to be").unwrap_or(0);
    let passage: Vec<String> =
        hamlet[at..].split_whitespace().take(120).map(|w| format!(" {}", w.to_uppercase())).collect();
    // A vocabulary of those words and some others to say instead.
    let mut pieces: Vec<String> = vec![" and".into(), " so".into(), " on".into(), " indeed".into()];
    for w in &passage {
        if !pieces.contains(w) {
            pieces.push(w.clone());
        }
    }
    let ids: HashMap<&str, u32> = pieces.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)).collect();
    let vocab = Vocab::from_pieces(pieces.iter().map(|p| p.as_bytes().to_vec()).collect())?;

    let guard = DecodeGuard::new(index, vocab, Policy::builtin_default(), GuardOptions::default())?;
    let mut session = guard.session(None);
    let mut steps = 0;
    while session.tokens().len() < passage.len() && steps < 10 * passage.len() {
        steps += 1;
        // The model's preference: the next word of the passage (from where
        // its output last matched it), then the filler words.
        let next = &passage[session.tokens().len() % passage.len()];
        let banned = session.banned();
        let wanted = ids[next.as_str()];
        let mass = if banned.contains(&wanted) { 0.95 } else { 0.0 };
        match session.advise(mass) {
            // A model would rewind its KV cache to `keep` tokens here.
            Advice::Rollback { .. } => {}
            Advice::Sample => {
                let pick =
                    std::iter::once(wanted).chain(0..4).find(|id| !banned.contains(id)).unwrap_or(wanted);
                session.push(pick);
            }
        }
    }
    println!("written: {}", session.text());
    println!(
        "rollbacks: {}, longest copy (tokens, threshold): {:?}",
        session.rollbacks(),
        session.longest_copy()
    );
    Ok(())
}
