//! Text mode: golden cases written by hand, and properties over arbitrary
//! input.

use proptest::prelude::*;

use crate::normalize::{ascii_normalized, is_ignorable, normalize_str};
use crate::{for_each_token, tokenize, tokenize_with, Scratch, TokenStream};

fn texts(ts: &TokenStream) -> Vec<String> {
    ts.texts().map(str::to_owned).collect()
}

/// Tokens by the fast path, with one `Scratch` reused across all calls on
/// the thread, so that memoised units from earlier inputs are exercised.
fn fast_texts(input: &str) -> Vec<String> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    }
    let mut out = Vec::new();
    SCRATCH.with_borrow_mut(|sc| for_each_token(input, sc, |t| out.push(t.to_owned())));
    out
}

/// Asserts the tokens of `input`: each as (normalised text, source slice).
#[track_caller]
fn golden(input: &str, want: &[(&str, &str)]) {
    let ts = tokenize(input);
    let got: Vec<(&str, &str)> =
        ts.tokens.iter().map(|t| (&ts.norm[t.norm.clone()], &input[t.src.clone()])).collect();
    assert_eq!(got, want, "input {input:?}");
    assert_eq!(fast_texts(input), texts(&ts), "fast path, input {input:?}");
    check_invariants(input, &ts);
}

/// Token texts of `input`.
fn toks(input: &str) -> Vec<String> {
    texts(&tokenize(input))
}

// ---------------------------------------------------------------- golden

#[test]
fn case_folding() {
    golden("HeLLo", &[("hello", "HeLLo")]);
    assert_eq!(toks("HeLLo"), toks("hello"));
    assert_eq!(toks("STRASSE Straße"), ["strasse", "strasse"]);
    assert_eq!(toks("ΣΟΦΊΑ"), toks("σοφία"));
    assert_eq!(tokenize("ΣΟΦΊΑ").tokens[0].src, 0.."ΣΟΦΊΑ".len());
}

#[test]
fn nfkc_compatibility_forms() {
    golden("ＡＢＣ", &[("abc", "ＡＢＣ")]);
    golden("ﬁne", &[("fine", "ﬁne")]);
    golden("x² + y³", &[("x2", "x²"), ("+", "+"), ("y3", "y³")]);
    golden("ｈｅｌｐ！", &[("help", "ｈｅｌｐ"), ("!", "！")]);
    assert_eq!(toks("Ⓐbc"), toks("abc"));
}

#[test]
fn zero_width_inside_a_word() {
    golden("pass\u{200B}word", &[("password", "pass\u{200B}word")]);
    golden("pass\u{200C}wo\u{200D}rd", &[("password", "pass\u{200C}wo\u{200D}rd")]);
    golden("\u{FEFF}pass\u{2060}word", &[("password", "pass\u{2060}word")]);
    golden("\u{200B}", &[]);
    golden("a \u{200B} b", &[("a", "a"), ("b", "b")]);
}

#[test]
fn soft_hyphen_and_variation_selectors() {
    golden("co\u{AD}operate", &[("cooperate", "co\u{AD}operate")]);
    golden("hello\u{FE0F}", &[("hello", "hello")]);
    golden("ab\u{E0041}cd", &[("abcd", "ab\u{E0041}cd")]);
}

#[test]
fn bidi_controls() {
    golden("\u{202E}abc\u{202C}", &[("abc", "abc")]);
    golden("ab\u{200F}cd", &[("abcd", "ab\u{200F}cd")]);
    golden("\u{2066}good\u{2069} \u{200E}bye", &[("good", "good"), ("bye", "bye")]);
    golden("a\u{202A}\u{202B}\u{202D}b", &[("ab", "a\u{202A}\u{202B}\u{202D}b")]);
}

#[test]
fn confusables() {
    // Cyrillic р а у and Latin l.
    assert_eq!(toks("раураl"), toks("paypal"));
    assert_eq!(toks("PayPal"), toks("paypal"));
    golden("раураl", &[("paypal", "раураl")]);
    // Greek omicron.
    assert_eq!(toks("gοοgle"), toks("google"));
    golden("gοοgle", &[("google", "gοοgle")]);
    // Mixed scripts inside one word (Cyrillic е and о).
    assert_eq!(toks("hеllо"), toks("hello"));
    // Capital homoglyphs map to the ASCII capital before case folding, so a
    // capital Greek eta is an H (folding first would give eta, confusable with n).
    assert_eq!(toks("Ηello"), toks("hello"));
    // ALL CAPS spelled with Greek and Cyrillic capitals.
    assert_eq!(toks("ΤΗΕ ΒΟΟΚ ОF ЕХОDUS"), toks("the book of exodus"));
    assert_eq!(toks("ΙN THE BEGΙNNΙNG"), toks("in the beginning"));
    // Lowercase Latin stays itself.
    assert_eq!(toks("hello"), vec!["hello".to_string()]);
}

#[test]
fn whitespace_variants() {
    golden(
        "one\r\ntwo\tthree\u{A0}four\u{3000}five\u{2029}six",
        &[
            ("one", "one"),
            ("two", "two"),
            ("three", "three"),
            ("four", "four"),
            ("five", "five"),
            ("six", "six"),
        ],
    );
    golden("  \r\n\t ", &[]);
    golden("", &[]);
}

#[test]
fn combining_marks() {
    golden("e\u{301}", &[("e", "e\u{301}")]);
    // Diacritics fold away entirely: adding accents is no disguise.
    assert_eq!(toks("cafe"), toks("café"));
    assert_eq!(toks("Z\u{0336}a\u{0317}l\u{0301}g\u{0351}o"), toks("zalgo"));
    assert_eq!(toks("cafe\u{301}"), toks("café"));
    golden("cafe\u{301} noir", &[("cafe", "cafe\u{301}"), ("noir", "noir")]);
    // A combining mark that composes across a dropped zero-width space.
    golden("e\u{200B}\u{301}", &[("e", "e\u{200B}\u{301}")]);
    // Canonical reordering: same marks in another order.
    assert_eq!(toks("a\u{323}\u{302}"), toks("a\u{302}\u{323}"));
}

#[test]
fn emoji() {
    // A modifier sequence is one cluster: both tokens carry its range.
    golden("hi 👍🏽!", &[("hi", "hi"), ("👍", "👍🏽"), ("🏽", "👍🏽"), ("!", "!")]);
    // A ZWJ sequence falls apart once the joiners are dropped.
    golden("👨\u{200D}👩\u{200D}👧", &[("👨", "👨"), ("👩", "👩"), ("👧", "👧")]);
    // A trailing variation selector is dropped, outside the token.
    // A flag is one cluster and two regional-indicator tokens.
    golden("🇫🇷!", &[("🇫", "🇫🇷"), ("🇷", "🇫🇷"), ("!", "!")]);
    golden("ok❤\u{FE0F}", &[("ok", "ok"), ("❤", "❤")]);
}

#[test]
fn regional_indicators_do_not_depend_on_context() {
    // UAX #29 would pair the first F with the second once the mark is
    // attached; regional indicators are cut out instead.
    check_all("🇫\u{301}🇫🇷\u{b3e}\u{308}\u{323}");
}

#[test]
fn right_to_left() {
    // The skeleton maps Hebrew vav and Arabic alef to Latin l: TR39 data,
    // applied to both sides of every comparison alike.
    golden("שלום, עולם!", &[("שלlם", "שלום"), (",", ","), ("עlלם", "עולם"), ("!", "!")]);
    golden("مرحبا بالعالم", &[("مرحبl", "مرحبا"), ("بlلعlلم", "بالعالم")]);
    // Embedded in LTR text with isolates, which are dropped.
    golden("say \u{2067}שלום\u{2069} now", &[("say", "say"), ("שלlם", "שלום"), ("now", "now")]);
}

#[test]
fn quotes_and_dashes() {
    golden(
        "‘a’ ‛b′ `c'",
        &[
            ("'", "‘"),
            ("a", "a"),
            ("'", "’"),
            ("'", "‛"),
            ("b", "b"),
            ("'", "′"),
            ("'", "`"),
            ("c", "c"),
            ("'", "'"),
        ],
    );
    golden(
        "“a” „b″ \"c\"",
        &[
            ("\"", "“"),
            ("a", "a"),
            ("\"", "”"),
            ("\"", "„"),
            ("b", "b"),
            ("\"", "″"),
            ("\"", "\""),
            ("c", "c"),
            ("\"", "\""),
        ],
    );
    golden("– — ‒ − -", &[("-", "–"), ("-", "—"), ("-", "‒"), ("-", "−"), ("-", "-")]);
    assert_eq!(toks("don’t"), toks("don't"));
    assert_eq!(toks("don't"), ["don't"]);
    // Confusable with the exempt marks: Hebrew gershayim, Arabic percent.
    assert_eq!(toks("״"), ["\""]);
    assert_eq!(toks("50٪"), toks("50%"));
    assert_eq!(toks("50%"), ["50", "%"]);
}

#[test]
fn punctuation_tokens() {
    golden("!!", &[("!", "!"), ("!", "!")]);
    golden("Hi, you...", &[("hi", "Hi"), (",", ","), ("you", "you"), (".", "."), (".", "."), (".", ".")]);
    golden("…", &[(".", "…"), (".", "…"), (".", "…")]);
    golden("e.g. 3.14", &[("e.g", "e.g"), (".", "."), ("3.14", "3.14")]);
    golden("1,000", &[("1,000", "1,000")]);
}

#[test]
fn expansions_share_their_cluster() {
    golden("½", &[("1", "½"), ("/", "½"), ("2", "½")]);
    golden("a½b", &[("a1", "a½"), ("/", "½"), ("2b", "½b")]);
}

#[test]
fn skeleton_surprises() {
    // Documented in the crate docs: what TR39 does to ASCII.
    assert_eq!(toks("Mom"), ["rnorn"]);
    assert_eq!(toks("corn"), toks("com"));
    assert_eq!(toks("I|l1"), ["ill1"]);
    // Digits are exempt from the skeleton.
    assert_eq!(toks("2010"), ["2010"]);
    assert_eq!(toks("3.14"), ["3.14"]);
}

#[test]
fn hangul_compatibility_jamo_compose() {
    // Two compatibility jamo are two clusters in the input, but their
    // normalised forms compose: they are normalised as one unit.
    let ts = tokenize("ㄱㅏ");
    assert_eq!(texts(&ts), toks("가"));
    assert_eq!(ts.tokens[0].src, 0.."ㄱㅏ".len());
}

// ------------------------------------------------------ fast path tables

#[test]
fn ascii_table_matches_slow_path() {
    for b in 0u8..128 {
        let c = char::from(b);
        let s = c.to_string();
        assert_eq!(ascii_normalized(b), Some(normalize_str(&s).as_str()), "{c:?}");
        let mut sc = Scratch::default();
        let fast = tokenize_with(&s, &mut sc, false);
        let slow = tokenize_with(&s, &mut sc, true);
        assert_eq!(fast.tokens, slow.tokens, "{c:?}");
        assert_eq!(texts(&fast), texts(&slow), "{c:?}");
        // In context, too.
        let s = format!("x{c}y{c}{c}");
        let fast = tokenize_with(&s, &mut sc, false);
        let slow = tokenize_with(&s, &mut sc, true);
        assert_eq!(fast.tokens, slow.tokens, "{s:?}");
        assert_eq!(texts(&fast), texts(&slow), "{s:?}");
    }
    // Every ASCII character normalises to ASCII.
    for b in 0u8..128 {
        assert!(ascii_normalized(b).unwrap().is_ascii(), "{b}");
    }
}

#[test]
fn ignorable_table_matches_unicode_security() {
    // The skeleton drops exactly the default-ignorables (its own table, a
    // later Unicode version): ours must agree, except for our extras.
    for cp in 0..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else { continue };
        let dropped = unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).next().is_none();
        let extra = (0xFFF9..=0xFFFB).contains(&cp);
        assert_eq!(is_ignorable(c) && !extra, dropped, "U+{cp:04X}");
    }
}

#[test]
fn every_code_point_settles() {
    // The pipeline reaches a fixpoint for every single code point, and the
    // result normalises to itself.
    for cp in (0..=0x10FFFFu32).step_by(7) {
        let Some(c) = char::from_u32(cp) else { continue };
        let once = normalize_str(c.encode_utf8(&mut [0; 4]));
        assert_eq!(normalize_str(&once), once, "U+{cp:04X}");
    }
}

// ------------------------------------------------------------ properties

/// Checks the offset invariants of a stream over `input`.
#[track_caller]
fn check_invariants(input: &str, ts: &TokenStream) {
    let mut prev: Option<&std::ops::Range<usize>> = None;
    for (i, t) in ts.tokens.iter().enumerate() {
        let text = &ts.norm[t.norm.clone()];
        assert!(!text.is_empty(), "empty token {i} in {input:?}");
        assert!(!text.chars().any(char::is_whitespace), "{text:?}");
        assert!(t.src.start < t.src.end, "empty src {i} in {input:?}");
        assert!(t.src.end <= input.len());
        assert!(input.is_char_boundary(t.src.start) && input.is_char_boundary(t.src.end));
        if let Some(p) = prev {
            assert!(
                t.src.start >= p.start && t.src.end >= p.end,
                "src not monotone at {i}: {p:?} then {:?} in {input:?}",
                t.src
            );
        }
        prev = Some(&t.src);
    }
}

/// The source slices of a stream, overlapping ones merged: the pieces of
/// input that the tokens came from.
fn source_groups(ts: &TokenStream) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for t in &ts.tokens {
        match groups.last_mut() {
            Some(g) if t.src.start < g.end => g.end = g.end.max(t.src.end),
            _ => groups.push(t.src.clone()),
        }
    }
    groups
}

fn check_all(input: &str) {
    let ts = tokenize(input);
    check_invariants(input, &ts);
    let want = texts(&ts);
    // Fast path without offsets.
    assert_eq!(fast_texts(input), want, "for_each_token, input {input:?}");
    // Slow path only: same tokens and offsets.
    let slow = tokenize_with(input, &mut Scratch::default(), true);
    assert_eq!(texts(&slow), want, "slow path, input {input:?}");
    assert_eq!(slow.tokens, ts.tokens, "slow path offsets, input {input:?}");
    // The offset map is exact: the source pieces alone give the same tokens.
    let pieces: Vec<&str> = source_groups(&ts).into_iter().map(|g| &input[g]).collect();
    let rejoined = pieces.join(" ");
    assert_eq!(toks(&rejoined), want, "re-tokenised {pieces:?} from {input:?}");
    // Normalisation is idempotent on token text.
    for t in &want {
        assert_eq!(toks(t), [t.as_str()], "token {t:?} from {input:?}");
    }
}

/// Pieces that exercise the slow path and its corners.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]{1,8}",
        "[ .,;:'\"!?()\\-_%|`]{1,3}",
        Just("\r\n".to_owned()),
        Just("\t".to_owned()),
        Just("\u{301}".to_owned()),
        Just("\u{308}\u{323}".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("\u{200D}".to_owned()),
        Just("\u{AD}".to_owned()),
        Just("\u{FE0F}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("👍🏽".to_owned()),
        Just("👨\u{200D}👩".to_owned()),
        Just("🇫🇷".to_owned()),
        Just("\u{1F1EB}".to_owned()),
        Just("שלום".to_owned()),
        Just("مرحبا".to_owned()),
        Just("раураl".to_owned()),
        Just("Ωο".to_owned()),
        Just("ㄱㅏ".to_owned()),
        Just("가".to_owned()),
        Just("\u{1100}\u{1161}".to_owned()),
        Just("½".to_owned()),
        Just("¨".to_owned()),
        Just("ﷺ".to_owned()),
        Just("“”„″–—".to_owned()),
        Just("\u{A0}\u{3000}".to_owned()),
        Just("ß İ ﬁ".to_owned()),
        Just("\u{600}".to_owned()),
        Just("\u{B3E}".to_owned()),
        Just("漢字".to_owned()),
        Just("ｶﾞ".to_owned()),
        any::<char>().prop_map(String::from),
    ]
}

fn mixed() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|v| v.concat())
}

/// Cases per property: `RECITAL_PROPTEST_CASES` or 512.
pub(crate) fn cases() -> u32 {
    std::env::var("RECITAL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_strings(s in any::<String>()) {
        check_all(&s);
    }

    #[test]
    fn mixed_strings(s in mixed()) {
        check_all(&s);
    }

    #[test]
    fn ascii_strings(s in "[ -~\t\r\n]{0,64}") {
        check_all(&s);
    }

    #[test]
    fn ascii_segmenter_matches_uax29(s in "[!-~]{0,40}") {
        use unicode_segmentation::UnicodeSegmentation;
        let mut ours = Vec::new();
        crate::tokenize::ascii_segments(s.as_bytes(), |r, _| ours.push(r));
        let theirs: Vec<_> = s
            .split_word_bound_indices()
            .map(|(i, w)| i..i + w.len())
            .collect();
        prop_assert_eq!(ours, theirs);
    }
}

#[test]
fn pathological_inputs_finish() {
    // Long clusters, long runs without whitespace, merge chains: each must
    // stay (near) linear. 64 KiB each keeps the test fast in debug builds.
    let n = 64 << 10;
    let cases = [
        format!("a{}", "\u{301}".repeat(n / 2)),
        "\u{301}".repeat(n / 2),
        "🇫".repeat(n / 4),
        "ㄱ".repeat(n / 3),
        "ㄱㅏ".repeat(n / 6),
        "%".repeat(n),
        "½".repeat(n / 2),
        "\u{200B}".repeat(n / 3),
        format!("{}x", "\u{600}".repeat(n / 2)),
        "क्ष".repeat(n / 9),
        "ﷺ".repeat(n / 3),
    ];
    for s in &cases {
        let t = std::time::Instant::now();
        let ts = tokenize(s);
        check_invariants(s, &ts);
        assert_eq!(fast_texts(s), texts(&ts));
        let el = t.elapsed();
        assert!(el.as_secs() < 20, "{:?}… took {el:?}", s.chars().take(4).collect::<String>());
    }
}
