//! The code lexer on arbitrary text in every language: lexemes are
//! non-empty, inside the input, on char boundaries, in order and disjoint;
//! the canonical stream and its fast paths agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recital_text::code::{self, Lang};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let lang = Lang::ALL[usize::from(pick) % Lang::ALL.len()];
    let input = String::from_utf8_lossy(rest);
    let mut end = 0;
    let mut texts = Vec::new();
    for lx in code::lexemes(&input, lang) {
        assert!(lx.src.start < lx.src.end && lx.src.end <= input.len(), "{lang:?}: {:?}", lx.src);
        assert!(input.is_char_boundary(lx.src.start) && input.is_char_boundary(lx.src.end));
        assert!(lx.src.start >= end, "{lang:?}: lexeme {:?} overlaps the previous one", lx.src);
        end = lx.src.end;
        texts.push(code::canonical_of(&input, &lx).to_string());
    }
    let ts = code::canonical(&input, lang);
    assert!(texts.iter().map(String::as_str).eq(ts.texts()));
    let mut scratch = recital_text::Scratch::default();
    let mut fast = Vec::new();
    code::for_each_canonical(&input, lang, &mut scratch, |t| fast.push(t.to_string()));
    assert_eq!(fast, texts);
    let mut at = Vec::new();
    code::for_each_canonical_at(&input, lang, &mut scratch, |_, o| at.push(o));
    assert!(at.iter().copied().eq(ts.tokens.iter().map(|t| t.src.start)));
});
