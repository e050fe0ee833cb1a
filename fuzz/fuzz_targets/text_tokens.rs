//! Normalisation and tokenisation of arbitrary text: every token's source
//! range is non-empty, inside the input, on char boundaries and monotone;
//! the normalised text is the tokens joined by single spaces; the fast path
//! yields the same tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let ts = recital_text::tokenize(&input);
    let (mut last_start, mut last_end) = (0, 0);
    let mut joined = String::new();
    for (i, t) in ts.tokens.iter().enumerate() {
        assert!(t.src.start < t.src.end && t.src.end <= input.len(), "token {i}: {:?}", t.src);
        assert!(input.is_char_boundary(t.src.start) && input.is_char_boundary(t.src.end));
        assert!(t.src.start >= last_start && t.src.end >= last_end, "token {i} goes back: {:?}", t.src);
        (last_start, last_end) = (t.src.start, t.src.end);
        let text = ts.text(i);
        assert!(!text.is_empty() && !text.contains(' '), "token {i}: {text:?}");
        if i > 0 {
            joined.push(' ');
        }
        joined.push_str(text);
    }
    assert_eq!(joined, ts.norm);
    let mut fast = Vec::new();
    recital_text::for_each_token(&input, &mut recital_text::Scratch::default(), |t| fast.push(t.to_string()));
    assert!(fast.iter().map(String::as_str).eq(ts.texts()), "fast path differs");
    // Normalising twice changes nothing more.
    let once = recital_text::normalize::normalize_str(&input);
    let _ = recital_text::spdx::identifier(&input);
    assert_eq!(recital_text::tokenize(&ts.norm).norm, ts.norm, "tokens of {once:?} are not a fixed point");
});
