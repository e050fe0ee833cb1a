//! The guard against the filter it stands in for, on a real index.
//!
//! - **Oracle**: at any point of a copying output, every vocabulary token
//!   that would make the finished text a copy the policy redacts (found by
//!   scanning `text + piece` with recital-detect and deciding with the
//!   policy, token by token) is among the guard's banned tokens.
//! - **A determined copier**: a stand-in model that always continues the
//!   protected passage from wherever the output last matched it, in plain,
//!   capitalised or split ALL-CAPS pieces, never leaves a redacted copy in
//!   its guarded output; it still writes, and rolls back when stuck.
//! - **No effect on the rest**: copying a permissively licensed document, or
//!   writing text of no document, gives the same tokens with and without
//!   the guard.

use proptest::prelude::*;
use recital_detect::{scan, Input};
use recital_guard::{Advice, DecodeGuard, GuardOptions, GuardSession, Vocab};
use recital_index::{BuildOptions, DocInput, DocMode, Index, Rights};
use recital_policy::{Action, Policy, Request};

const WORDS: &[&str] = &[
    "amber",
    "harbour",
    "quietly",
    "lantern",
    "orchard",
    "meridian",
    "velvet",
    "copper",
    "whistle",
    "granite",
    "meadow",
    "silver",
    "thistle",
    "cathedral",
    "ember",
    "falcon",
    "juniper",
    "marrow",
    "pebble",
    "saffron",
    "tundra",
    "vessel",
    "willow",
    "zephyr",
    "beacon",
    "cobalt",
    "driftwood",
    "fennel",
    "gossamer",
    "hollow",
];

/// Deterministic pseudo-prose: unique to its seed, with commas and stops.
fn prose(seed: u64, words: usize) -> Vec<String> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    for i in 0..words {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push(WORDS[((x >> 33) as usize) % WORDS.len()].to_string());
        if i % 11 == 10 {
            out.push(if (x >> 20).is_multiple_of(2) { ",".into() } else { ".".into() });
        }
    }
    out
}

fn join(words: &[String]) -> String {
    let mut s = String::new();
    for w in words {
        if !s.is_empty() && w != "," && w != "." {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

fn rights(license: &str) -> Rights {
    Rights {
        license: license.into(),
        holder: None,
        url: None,
        tdm_opt_out: false,
        jurisdictions: Vec::new(),
        category: None,
        tdm_policy: None,
        iscc: None,
        provenance: Vec::new(),
    }
}

/// How the copier spells a word.
#[derive(Debug, Clone, Copy)]
enum Form {
    Plain,
    Capital,
    SplitCaps,
}

/// A word-piece vocabulary: each word plain, capitalised, in upper-case
/// halves and in lower-case halves, and punctuation.
struct Pieces {
    vocab: Vocab,
    texts: Vec<String>,
}

fn pieces() -> Pieces {
    let mut texts: Vec<String> = vec!["<eos>".into(), ",".into(), ".".into(), " ".into()];
    for w in WORDS {
        let cap = format!("{}{}", w[..1].to_uppercase(), &w[1..]);
        let up = w.to_uppercase();
        let (a, b) = up.split_at(w.len() / 2);
        let (la, lb) = w.split_at(w.len() / 2);
        for t in [
            format!(" {w}"),
            format!(" {cap}"),
            format!(" {a}"),
            b.to_string(),
            format!(" {la}"),
            lb.to_string(),
        ] {
            if !texts.contains(&t) {
                texts.push(t);
            }
        }
    }
    let mut bytes: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
    bytes[0] = Vec::new();
    Pieces { vocab: Vocab::from_pieces(bytes).unwrap(), texts }
}

impl Pieces {
    fn id(&self, text: &str) -> u32 {
        self.texts.iter().position(|t| t == text).unwrap_or_else(|| panic!("no piece {text:?}")) as u32
    }

    /// The pieces that spell `word` after a space, in `form`.
    fn spell(&self, word: &str, form: Form) -> Vec<u32> {
        if word == "," || word == "." {
            return vec![self.id(word)];
        }
        match form {
            Form::Plain => vec![self.id(&format!(" {word}"))],
            Form::Capital => vec![self.id(&format!(" {}{}", word[..1].to_uppercase(), &word[1..]))],
            Form::SplitCaps => {
                let up = word.to_uppercase();
                let (a, b) = up.split_at(word.len() / 2);
                vec![self.id(&format!(" {a}")), self.id(b)]
            }
        }
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    index: Index,
    pieces: Pieces,
    /// The GPL document's words, and the MIT document's.
    gpl: Vec<String>,
    mit: Vec<String>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let gpl = prose(1, 900);
    let mit = prose(2, 900);
    let (gt, mt) = (join(&gpl), join(&mit));
    let docs = [
        DocInput {
            id: "gpl",
            path: Some("gpl.txt"),
            text: &gt,
            mode: DocMode::Text,
            rights: rights("GPL-3.0-only"),
        },
        DocInput { id: "mit", path: Some("mit.txt"), text: &mt, mode: DocMode::Text, rights: rights("MIT") },
    ];
    let idx = dir.path().join("idx");
    recital_index::build_docs(&idx, &docs, &BuildOptions::default()).unwrap();
    let index = Index::open(&idx).unwrap();
    Fixture { _dir: dir, index, pieces: pieces(), gpl, mit }
}

fn guard(fx: &Fixture) -> DecodeGuard {
    let options =
        GuardOptions { jurisdiction: "DE".into(), exempt_context: false, ..GuardOptions::default() };
    DecodeGuard::new(fx.index.clone(), fx.pieces.vocab.clone(), Policy::builtin_default(), options).unwrap()
}

/// Whether the policy redacts or blocks anything in `text`.
fn prevented(index: &Index, text: &str) -> bool {
    let policy = Policy::builtin_default();
    let report = scan(index, &Input::decode(text.as_bytes()).unwrap(), &policy.scan_options()).unwrap();
    let d = policy.decide(&report, &Request::from_jurisdiction("DE"));
    if std::env::var("GUARD_DEBUG").is_ok() {
        for (sp, sd) in report.spans.iter().zip(&d.spans) {
            eprintln!(
                "span {:?} tokens {} {:?} {:?}: {}",
                sp.kind,
                sp.tokens,
                sd.action,
                sp.byte_start..sp.byte_end,
                sp.text
            );
        }
    }
    matches!(d.action, Action::Redact | Action::Block)
}

/// A stand-in model that copies `doc`: it continues the document after the
/// longest end of the output's words that occurs in it (from `from` when
/// nothing does), in `form`, and otherwise writes free words. Its scores
/// put nearly all the mass on that choice.
struct Copier<'a> {
    pieces: &'a Pieces,
    doc: &'a [String],
    from: usize,
    form: Form,
}

impl Copier<'_> {
    fn scores(&self, text: &str, step: usize) -> Vec<f32> {
        let n = self.pieces.texts.len();
        let mut s: Vec<f32> = (0..n).map(|i| ((i * 7919 + step * 104729) % 97) as f32 / 97.0).collect();
        s[0] = -10.0;
        for (rank, id) in self.wanted(text).into_iter().enumerate() {
            s[id as usize] = 20.0 - rank as f32;
        }
        s
    }

    /// The pieces the copier wants next, best first.
    fn wanted(&self, text: &str) -> Vec<u32> {
        let words: Vec<String> = recital_text::tokenize(text).texts().map(str::to_string).collect();
        let open = text.chars().next_back().is_some_and(char::is_alphanumeric);
        // An unfinished split word: finish it with its second half.
        if open {
            if let Some(last) = words.last() {
                for w in WORDS {
                    let up = w.to_uppercase();
                    let (a, b) = up.split_at(w.len() / 2);
                    if last == &recital_text::tokenize(a).norm {
                        return vec![self.pieces.id(b)];
                    }
                }
            }
        }
        // Compared as recital normalises them (its look-alike folding
        // writes `m` as `rn`).
        let doc: Vec<String> = self.doc.iter().map(|w| recital_text::tokenize(w).norm).collect();
        let next = (1..=words.len().min(40))
            .rev()
            .find_map(|k| {
                let tail = &words[words.len() - k..];
                // The occurrence at or after where it started copying, if
                // any: a copier keeps its place.
                let mut at = doc.windows(k).enumerate().filter(|(_, w)| *w == tail).map(|(p, _)| p + k);
                let first = at.next()?;
                Some(std::iter::once(first).chain(at).find(|&p| p > self.from).unwrap_or(first))
            })
            .unwrap_or(self.from);
        self.doc.get(next).map(|w| self.pieces.spell(w, self.form)).into_iter().flatten().take(1).collect()
    }
}

/// Softmax mass of `banned` under `scores`.
fn mass(scores: &[f32], banned: &[u32]) -> f64 {
    let max = scores.iter().cloned().fold(f32::MIN, f32::max);
    let e: Vec<f64> = scores.iter().map(|&x| ((x - max) as f64).exp()).collect();
    let total: f64 = e.iter().sum();
    banned.iter().map(|&b| e[b as usize]).sum::<f64>() / total
}

/// Greedy decoding of `steps` tokens, guarded or not; the tokens and the
/// rollbacks made.
fn generate(copier: &Copier<'_>, session: Option<&mut GuardSession>, steps: usize) -> (Vec<u32>, usize) {
    let vocab = &copier.pieces.vocab;
    let mut tokens: Vec<u32> = Vec::new();
    let text_of =
        |t: &[u32]| String::from_utf8(t.iter().flat_map(|&i| vocab.piece(i).to_vec()).collect()).unwrap();
    let Some(session) = session else {
        for step in 0..steps {
            let s = copier.scores(&text_of(&tokens), step);
            tokens.push(argmax(&s, &[]));
        }
        return (tokens, 0);
    };
    let mut step = 0;
    let mut calls = 0;
    while tokens.len() < steps && calls < steps * 20 {
        calls += 1;
        let s = copier.scores(&text_of(&tokens), step);
        let banned = session.banned();
        if std::env::var("GUARD_DEBUG").is_ok() && !banned.is_empty() {
            let names: Vec<&str> = banned.iter().map(|&b| copier.pieces.texts[b as usize].as_str()).collect();
            eprintln!("at {} banned {:?} after {:?}", tokens.len(), names, session.text());
        }
        match session.advise(mass(&s, &banned)) {
            Advice::Rollback { keep } => {
                tokens.truncate(keep);
                continue;
            }
            Advice::Sample => {
                let t = argmax(&s, &banned);
                tokens.push(t);
                session.push(t);
                step += 1;
            }
        }
        assert_eq!(session.tokens(), &tokens[..]);
    }
    let r = session.rollbacks();
    (tokens, r)
}

fn argmax(s: &[f32], banned: &[u32]) -> u32 {
    (0..s.len() as u32)
        .filter(|i| banned.binary_search(i).is_err())
        .max_by(|&a, &b| s[a as usize].total_cmp(&s[b as usize]))
        .unwrap()
}

fn text(fx: &Fixture, tokens: &[u32]) -> String {
    String::from_utf8(tokens.iter().flat_map(|&i| fx.pieces.vocab.piece(i).to_vec()).collect()).unwrap()
}

#[test]
fn unguarded_the_copier_copies_and_guarded_it_does_not() {
    let fx = fixture();
    let g = guard(&fx);
    for form in [Form::Plain, Form::Capital, Form::SplitCaps] {
        let copier = Copier { pieces: &fx.pieces, doc: &fx.gpl, from: 100, form };
        let (plain, _) = generate(&copier, None, 160);
        assert!(
            prevented(&fx.index, &text(&fx, &plain)),
            "{form:?}: the stand-in copies without the guard: {}",
            text(&fx, &plain)
        );
        let mut session = g.session(None);
        let (guarded, rollbacks) = generate(&copier, Some(&mut session), 160);
        let out = text(&fx, &guarded);
        assert!(!prevented(&fx.index, &out), "{form:?}: guarded output still copies: {out}");
        assert_eq!(guarded.len(), 160, "{form:?}: the guard lets the model finish");
        assert!(rollbacks > 0, "{form:?}: a copier with all its mass on the copy is rolled back");
    }
}

#[test]
fn permissive_and_unrelated_text_are_untouched() {
    let fx = fixture();
    let g = guard(&fx);
    // MIT copies are annotated, not redacted: not prevented.
    let copier = Copier { pieces: &fx.pieces, doc: &fx.mit, from: 50, form: Form::Plain };
    let (plain, _) = generate(&copier, None, 150);
    let mut session = g.session(None);
    let (guarded, rollbacks) = generate(&copier, Some(&mut session), 150);
    assert_eq!(plain, guarded);
    assert_eq!(rollbacks, 0);
    // A document of its own: the guard bans nothing along the way.
    let own = prose(77, 200);
    let copier = Copier { pieces: &fx.pieces, doc: &own, from: 0, form: Form::Capital };
    let mut session = g.session(None);
    for step in 0..150 {
        assert!(session.banned().is_empty(), "nothing banned at step {step}");
        let s = copier.scores(&session.text(), step);
        session.push(argmax(&s, &[]));
    }
}

#[test]
fn the_prompt_may_be_repeated_when_context_is_exempt() {
    let fx = fixture();
    let prompt = join(&fx.gpl[100..200]);
    let options = GuardOptions { jurisdiction: "DE".into(), exempt_context: true, ..GuardOptions::default() };
    let g = DecodeGuard::new(fx.index.clone(), fx.pieces.vocab.clone(), Policy::builtin_default(), options)
        .unwrap();
    let copier = Copier { pieces: &fx.pieces, doc: &fx.gpl, from: 100, form: Form::Plain };
    let (plain, _) = generate(&copier, None, 80);
    let mut session = g.session(Some(&prompt));
    let (guarded, _) = generate(&copier, Some(&mut session), 80);
    assert_eq!(plain, guarded, "a copy of the prompt is the user's own text");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Every token that would make the text a redacted copy is banned.
    #[test]
    fn every_token_the_filter_would_redact_is_banned(
        from in 0usize..600,
        copied in 40usize..56,
        edit in proptest::option::of(5usize..35),
        form in 0usize..3,
    ) {
        let form = [Form::Plain, Form::Capital, Form::SplitCaps][form];
        let fx = fixture();
        let g = guard(&fx);
        // A copy of `copied` words of the GPL document, maybe with one word
        // changed, written plain, capitalised or in split capitals.
        let mut words: Vec<String> = fx.gpl[from..from + copied].to_vec();
        if let Some(e) = edit {
            words[e] = if words[e] == "amber" { "tundra".into() } else { "amber".into() };
        }
        let mut session = g.session(None);
        let mut written = String::new();
        for w in &words {
            for id in fx.pieces.spell(w, form) {
                session.push(id);
                written.push_str(std::str::from_utf8(fx.pieces.vocab.piece(id)).unwrap());
            }
        }
        prop_assume!(!prevented(&fx.index, &written));
        let banned = session.banned();
        for id in 1..fx.pieces.vocab.len() as u32 {
            let next = format!("{written}{}", std::str::from_utf8(fx.pieces.vocab.piece(id)).unwrap());
            if prevented(&fx.index, &next) {
                prop_assert!(banned.contains(&id), "{:?} after {} words is redacted but not banned", fx.pieces.texts[id as usize], copied);
            }
        }
    }
}
