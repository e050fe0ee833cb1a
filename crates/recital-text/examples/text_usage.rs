//! `recital-text`: the normalised tokens that every index and scan uses, and
//! the canonical code lexemes. Evasions (case, invisible characters,
//! homoglyphs, compatibility forms) fold to the same tokens, and each token
//! keeps its byte range in the input as given.
//!
//! `cargo run -p recital-text --example text_usage`

use recital_text::code::{canonical, Lang};

fn main() {
    let plain = "To be, or not to be";
    let evasive = "TO B\u{200B}E, ОR NOT ｔｏ be"; // a zero-width space, a Cyrillic О, fullwidth letters
    let a = recital_text::tokenize(plain);
    let b = recital_text::tokenize(evasive);
    println!("{:?}", a.texts().collect::<Vec<_>>());
    println!("{:?}", b.texts().collect::<Vec<_>>());
    assert_eq!(a.texts().collect::<Vec<_>>(), b.texts().collect::<Vec<_>>());
    for t in &b.tokens {
        println!("  {:?} <- bytes {:?} {:?}", &b.norm[t.norm.clone()], t.src, &evasive[t.src.clone()]);
    }

    // Code: identifiers, numbers and strings become placeholders, so a renamed
    // copy has the same canonical lexemes as its source.
    let f = canonical("int add(int a, int b) { return a + b; }", Lang::C);
    let g = canonical("int plus(int x, int y) { return x + y; }", Lang::C);
    println!("{}", f.norm);
    assert_eq!(f.norm, g.norm);
}
