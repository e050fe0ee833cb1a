//! Which kind of memorisation a memorised sequence is (research note §9 and
//! §12.29; DESIGN §3 "Audit").
//!
//! The rule is Prashanth et al. 2024 (*Recite, Reconstruct, Recollect*;
//! `EleutherAI/semantic-memorization`), tried in order:
//!
//! 1. **recitation** if the sequence's duplicate count in the corpus is at
//!    least τ (default 6, the training CLI's `--sequence_duplication_threshold
//!    6`, i.e. "more than 5");
//! 2. **reconstruction** if it is templated or predictable: a periodic
//!    repetition of tokens, an arithmetic progression of the numbers in its
//!    text (the two detectors below, after `filters/highly_repetitive.py` and
//!    `filters/pattern_incrementing.py`), or — the note's extension — a
//!    reference model that never saw the corpus also completes it;
//! 3. **out-of-distribution** (our refinement of the long tail, DESIGN §3) if
//!    it is a high-entropy, canary-like string: few dictionary-like words and
//!    near-maximal character entropy (see [`TaxonomyConfig`]);
//! 4. **recollection** otherwise: rare, long-tail memorisation (Feldman's
//!    regime).
//!
//! [`MEMORISATION_TYPES`] maps each category to the memorisation types of
//! note §9 as data. Every detector's result is kept in the
//! [`Classification`], so a report can show why a sequence got its label and
//! what else it matched (a canary inserted 32 times is recitation *and*
//! out-of-distribution).

use serde::{Deserialize, Serialize};

/// The four categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Highly duplicated in the corpus.
    Recitation,
    /// Templated or predictable without having memorised it.
    Reconstruction,
    /// Rare: neither duplicated nor predictable nor random.
    Recollection,
    /// A random, high-entropy string (canary, key, identifier).
    OutOfDistribution,
}

/// What the counterfactual memorisation of a category is expected to be (note
/// §9.4: would a model trained without this sequence still produce it?).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterfactualExpectation {
    /// Low: models that did not see this copy still produce it (they saw the
    /// other copies, or can infer it).
    Low,
    /// High: only models trained on it produce it.
    High,
}

/// A category's place in the memorisation types of note §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemorisationType {
    /// The category.
    pub category: Category,
    /// Stable name for reports.
    pub name: &'static str,
    /// The label Prashanth et al.'s three-way rule gives it.
    pub prashanth_label: &'static str,
    /// The regime of note §9 it belongs to.
    pub regime: &'static str,
    /// Whether it is long-tail memorisation in Feldman's (2020) sense.
    pub feldman_long_tail: bool,
    /// Expected counterfactual memorisation (Zhang et al. 2023).
    pub counterfactual: CounterfactualExpectation,
    /// Where the type is defined.
    pub source: &'static str,
}

/// The mapping from categories to the memorisation types of note §9, as
/// data.
pub const MEMORISATION_TYPES: [MemorisationType; 4] = [
    MemorisationType {
        category: Category::Recitation,
        name: "recitation",
        prashanth_label: "recitation",
        regime: "duplicated (\"overfitting\") memorisation: the sequence is frequent in the training data",
        feldman_long_tail: false,
        counterfactual: CounterfactualExpectation::Low,
        source: "note §9.3 (Prashanth et al. 2024), §9.4 (Zhang et al. 2023: common memorisation)",
    },
    MemorisationType {
        category: Category::Reconstruction,
        name: "reconstruction",
        prashanth_label: "reconstruction",
        regime: "predictable / templated (\"generalisation\"): reproduced by pattern, not by recall",
        feldman_long_tail: false,
        counterfactual: CounterfactualExpectation::Low,
        source: "note §9.2–9.3 (semantic-memorization pattern filters; GPT-2 baseline of Carlini 2022)",
    },
    MemorisationType {
        category: Category::Recollection,
        name: "recollection",
        prashanth_label: "recollection",
        regime: "rare, long-tail memorisation of a sequence seen few times (Feldman's regime)",
        feldman_long_tail: true,
        counterfactual: CounterfactualExpectation::High,
        source: "note §9.1 (Feldman 2020; Feldman & Zhang 2020), §9.3",
    },
    MemorisationType {
        category: Category::OutOfDistribution,
        name: "out_of_distribution",
        prashanth_label: "recollection",
        regime: "random, high-entropy strings such as canaries and secrets (\"idiotic\" memorisation): \
                 the extreme of the long tail, useless for generalisation",
        feldman_long_tail: true,
        counterfactual: CounterfactualExpectation::High,
        source: "DESIGN §3 Audit; note §5 (Secret Sharer canaries), §9.1",
    },
];

impl Category {
    /// The category's entry in [`MEMORISATION_TYPES`].
    pub fn memorisation_type(self) -> &'static MemorisationType {
        match self {
            Self::Recitation => &MEMORISATION_TYPES[0],
            Self::Reconstruction => &MEMORISATION_TYPES[1],
            Self::Recollection => &MEMORISATION_TYPES[2],
            Self::OutOfDistribution => &MEMORISATION_TYPES[3],
        }
    }
}

/// Thresholds of the classifier. The defaults are documented per field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyConfig {
    /// τ: duplicates at or above which a sequence is recitation. Default 6
    /// (note §12.29).
    pub duplicate_threshold: u64,
    /// A periodic repetition must hold at least this many full copies of its
    /// unit. Default 2 (the reference tries 2 to 5 copies).
    pub min_period_repeats: usize,
    /// …and cover at least this many tokens. Default 4.
    pub min_periodic_tokens: usize,
    /// Tokens that may be skipped at the end of the sequence before the
    /// repetition (it may be cut mid-unit and end with a stray token or two).
    /// Default 2, the reference's `rem = 2`. Up to half the sequence may be
    /// skipped at the start, as in the reference.
    pub max_trailing_skip: usize,
    /// An arithmetic progression must hold at least this many numbers in
    /// total. Default 4.
    pub arithmetic_min_numbers: usize,
    /// …and at least this many terms in each interleaved progression. Default 3.
    pub arithmetic_min_terms: usize,
    /// Largest interleaving of progressions tried: 2 finds "1.1 1.2 2.1 2.2
    /// 3.1 3.2"-style patterns (as two progressions of stride 2). Default 2.
    pub arithmetic_max_stride: usize,
    /// Digits must be at least this fraction of the characters for the
    /// numbers to be the pattern. Default 0.05 (the reference's threshold).
    pub min_digit_fraction: f64,
    /// Out-of-distribution needs a dictionary-like word fraction below this.
    /// Default 0.5.
    pub ood_max_dictionary_fraction: f64,
    /// …and a normalised character entropy at or above this. Default 0.8.
    pub ood_min_normalised_entropy: f64,
    /// …over at least this many non-space characters. Default 8.
    pub ood_min_chars: usize,
}

impl Default for TaxonomyConfig {
    fn default() -> Self {
        Self {
            duplicate_threshold: 6,
            min_period_repeats: 2,
            min_periodic_tokens: 4,
            max_trailing_skip: 2,
            arithmetic_min_numbers: 4,
            arithmetic_min_terms: 3,
            arithmetic_max_stride: 2,
            min_digit_fraction: 0.05,
            ood_max_dictionary_fraction: 0.5,
            ood_min_normalised_entropy: 0.8,
            ood_min_chars: 8,
        }
    }
}

/// What is known about one memorised sequence.
#[derive(Debug, Clone, Copy)]
pub struct SequenceEvidence<'a> {
    /// Its tokens (any tokenizer; only equality is used).
    pub tokens: &'a [u32],
    /// Its text (for numbers, words and characters).
    pub text: &'a str,
    /// Exact occurrences in the corpus, c(s) (note §12.28).
    pub duplicate_count: u64,
    /// Whether a reference model that never saw the corpus also completes it
    /// (greedily extracts it from the same prefix).
    pub reference_model_extracts: bool,
}

/// A periodic stretch of tokens: `tokens[offset..end]` has period `period`
/// (`tokens[i] = tokens[i + period]` throughout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periodicity {
    /// Tokens skipped at the start.
    pub offset: usize,
    /// One past the last periodic token.
    pub end: usize,
    /// Length of the repeating unit.
    pub period: usize,
}

impl Periodicity {
    /// How many copies of the unit the stretch holds (may be fractional).
    pub fn repeats(&self) -> f64 {
        (self.end - self.offset) as f64 / self.period as f64
    }
}

/// The smallest period of `s` by the prefix function (KMP): `|s| − π(|s|)`.
fn smallest_period(s: &[u32]) -> usize {
    let mut pi = vec![0usize; s.len()];
    for i in 1..s.len() {
        let mut k = pi[i - 1];
        while k > 0 && s[i] != s[k] {
            k = pi[k - 1];
        }
        if s[i] == s[k] {
            k += 1;
        }
        pi[i] = k;
    }
    s.len() - pi.last().copied().unwrap_or(0)
}

/// Finds a periodic repetition (after `highly_repetitive.py`): a window
/// `tokens[offset..end]`, with `offset < len/2` and at most
/// `max_trailing_skip` tokens dropped at the end, that consists of at least
/// `min_period_repeats` full copies of a unit and at least
/// `min_periodic_tokens` tokens. Of all such windows, the longest (then the
/// one with the shortest unit, then the earliest) is returned.
pub fn find_periodic_repetition(tokens: &[u32], config: &TaxonomyConfig) -> Option<Periodicity> {
    let n = tokens.len();
    let min_len = config.min_periodic_tokens.max(2);
    let min_repeats = config.min_period_repeats.max(2);
    let mut best: Option<Periodicity> = None;
    for offset in 0..n.div_ceil(2) {
        for skip in 0..=config.max_trailing_skip {
            let Some(end) = n.checked_sub(skip) else {
                break;
            };
            if end <= offset || end - offset < min_len {
                continue;
            }
            let window = &tokens[offset..end];
            let period = smallest_period(window);
            if window.len() >= min_repeats * period {
                let candidate = Periodicity { offset, end, period };
                let better = match best {
                    None => true,
                    Some(b) => {
                        let (cl, bl) = (end - offset, b.end - b.offset);
                        cl > bl || (cl == bl && period < b.period)
                    }
                };
                if better {
                    best = Some(candidate);
                }
            }
        }
    }
    best
}

/// The numbers in a text, read much as the reference's
/// `replace_non_numeric_with_whitespace` reads them: maximal runs of ASCII
/// digits, with one `.` between digits read as a decimal point ("3.14").
/// Where the reference gives up on decimals for the whole text when one is
/// malformed, this reads "1.2.3" as 1.2 and 3. Signs are not read
/// ("2020-01-02" is 2020, 1, 2).
pub fn extract_numbers(text: &str) -> Vec<f64> {
    let bytes = text.as_bytes();
    let mut numbers = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
        if let Ok(v) = text[start..i].parse::<f64>() {
            numbers.push(v);
        }
        // A '.' right after a decimal number is not read again as a point.
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
        }
    }
    numbers
}

/// A run of numbers made of `stride` interleaved arithmetic progressions:
/// `numbers[j] − numbers[j − stride] = differences[(j − start) % stride]` for
/// every `j` in `start + stride .. start + len`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArithmeticRun {
    /// Index of the first number of the run.
    pub start: usize,
    /// Numbers in the run.
    pub len: usize,
    /// Number of interleaved progressions.
    pub stride: usize,
    /// Common difference of each progression (at least one non-zero).
    pub differences: Vec<f64>,
}

fn same_difference(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Finds the longest run of interleaved arithmetic progressions (strides 1
/// to `arithmetic_max_stride`) with at least `arithmetic_min_numbers`
/// numbers, `arithmetic_min_terms` terms per progression and a non-zero
/// difference in at least one progression (constant numbers are repetition,
/// found by [`find_periodic_repetition`]). Ties go to the smaller stride.
pub fn find_arithmetic_run(numbers: &[f64], config: &TaxonomyConfig) -> Option<ArithmeticRun> {
    let n = numbers.len();
    let mut best: Option<ArithmeticRun> = None;
    for stride in 1..=config.arithmetic_max_stride.max(1) {
        let min_len = config.arithmetic_min_numbers.max(stride * config.arithmetic_min_terms.max(2));
        if n < 2 * stride {
            continue;
        }
        for start in 0..=n - 2 * stride {
            let differences: Vec<f64> =
                (0..stride).map(|r| numbers[start + stride + r] - numbers[start + r]).collect();
            if differences.iter().all(|d| *d == 0.0) {
                continue;
            }
            let mut end = start + stride;
            while end < n
                && same_difference(numbers[end] - numbers[end - stride], differences[(end - start) % stride])
            {
                end += 1;
            }
            let len = end - start;
            if len >= min_len && best.as_ref().is_none_or(|b| len > b.len) {
                best = Some(ArithmeticRun { start, len, stride, differences });
            }
        }
    }
    best
}

/// Shannon entropy in bits per character of the non-whitespace characters.
pub fn char_entropy_bits(text: &str) -> f64 {
    let mut counts: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Character entropy divided by the most `n` characters can have,
/// `log₂ min(n, 256)`: 1 when every character is different. Raw entropy is
/// bounded by the length and the alphabet, so a raw threshold would call every
/// short string or digit string low-entropy; normalised, a random 8-digit PIN
/// scores 0.9–1.0 and English prose about 0.75–0.8 (prose's ~4.1 bits against
/// 5–8 possible).
pub fn normalised_char_entropy(text: &str) -> f64 {
    let n = text.chars().filter(|c| !c.is_whitespace()).count();
    if n < 2 {
        return 0.0;
    }
    char_entropy_bits(text) / (n.min(256) as f64).log2()
}

/// Whether a word looks like a dictionary word without a dictionary: all
/// letters; lower, Title or UPPER case (not "xKqZ"); and, if longer than 3
/// letters, containing a vowel (`aeiouy`, or any non-ASCII letter, whose
/// script we do not judge).
pub fn is_dictionary_like(word: &str) -> bool {
    if word.is_empty() || !word.chars().all(char::is_alphabetic) {
        return false;
    }
    let rest_lower = word.chars().skip(1).all(|c| !c.is_uppercase());
    let all_upper = word.chars().all(|c| !c.is_lowercase());
    if !(rest_lower || all_upper) {
        return false;
    }
    word.chars().count() <= 3
        || word
            .chars()
            .any(|c| !c.is_ascii() || matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
}

/// Fraction of the whitespace-separated words (stripped of surrounding
/// punctuation; empty ones skipped) that are [`is_dictionary_like`]. `None`
/// when there are no words.
pub fn dictionary_like_fraction(text: &str) -> Option<f64> {
    let mut words = 0usize;
    let mut like = 0usize;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if word.is_empty() {
            continue;
        }
        words += 1;
        if is_dictionary_like(word) {
            like += 1;
        }
    }
    (words > 0).then(|| like as f64 / words as f64)
}

/// The classification of one sequence with every detector's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The category, by the rule in the module documentation.
    pub category: Category,
    /// Duplicate count given.
    pub duplicate_count: u64,
    /// Whether `duplicate_count ≥ τ`.
    pub duplicated: bool,
    /// The periodic repetition found, if any.
    pub periodicity: Option<Periodicity>,
    /// The arithmetic run found, if any (only when digits are at least
    /// `min_digit_fraction` of the characters).
    pub arithmetic: Option<ArithmeticRun>,
    /// Whether a reference model also completes it (given).
    pub reference_model_extracts: bool,
    /// Whether any reconstruction evidence holds.
    pub templated: bool,
    /// Normalised character entropy.
    pub normalised_entropy: f64,
    /// Dictionary-like word fraction (`None`: no words).
    pub dictionary_fraction: Option<f64>,
    /// Whether the out-of-distribution test holds.
    pub out_of_distribution: bool,
}

/// Classifies a memorised sequence (see the module documentation for the
/// rule and its order).
pub fn classify(evidence: &SequenceEvidence<'_>, config: &TaxonomyConfig) -> Classification {
    let duplicated = evidence.duplicate_count >= config.duplicate_threshold;
    let periodicity = find_periodic_repetition(evidence.tokens, config);
    let total_chars = evidence.text.chars().count();
    let digits = evidence.text.chars().filter(char::is_ascii_digit).count();
    let arithmetic = if total_chars > 0 && digits as f64 / total_chars as f64 >= config.min_digit_fraction {
        find_arithmetic_run(&extract_numbers(evidence.text), config)
    } else {
        None
    };
    let templated = periodicity.is_some() || arithmetic.is_some() || evidence.reference_model_extracts;
    let normalised_entropy = normalised_char_entropy(evidence.text);
    let dictionary_fraction = dictionary_like_fraction(evidence.text);
    let non_space = evidence.text.chars().filter(|c| !c.is_whitespace()).count();
    let out_of_distribution = non_space >= config.ood_min_chars
        && normalised_entropy >= config.ood_min_normalised_entropy
        && dictionary_fraction.is_none_or(|f| f < config.ood_max_dictionary_fraction);
    let category = if duplicated {
        Category::Recitation
    } else if templated {
        Category::Reconstruction
    } else if out_of_distribution {
        Category::OutOfDistribution
    } else {
        Category::Recollection
    };
    Classification {
        category,
        duplicate_count: evidence.duplicate_count,
        duplicated,
        periodicity,
        arithmetic,
        reference_model_extracts: evidence.reference_model_extracts,
        templated,
        normalised_entropy,
        dictionary_fraction,
        out_of_distribution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence<'a>(tokens: &'a [u32], text: &'a str, duplicates: u64) -> SequenceEvidence<'a> {
        SequenceEvidence { tokens, text, duplicate_count: duplicates, reference_model_extracts: false }
    }

    /// Word ids of a text (one id per distinct word), as a stand-in tokenizer.
    fn ids(text: &str) -> Vec<u32> {
        let mut vocab: Vec<&str> = Vec::new();
        text.split_whitespace()
            .map(|w| match vocab.iter().position(|v| *v == w) {
                Some(i) => i as u32,
                None => {
                    vocab.push(w);
                    (vocab.len() - 1) as u32
                }
            })
            .collect()
    }

    #[test]
    fn periodic_repetition() {
        let cfg = TaxonomyConfig::default();
        let p = find_periodic_repetition(&[1, 2, 3, 1, 2, 3, 1, 2, 3], &cfg).unwrap();
        assert_eq!((p.offset, p.end, p.period), (0, 9, 3));
        assert_eq!(p.repeats(), 3.0);
        // A prefix before, a cut unit at the end, and one stray token.
        let p = find_periodic_repetition(&[9, 8, 5, 6, 5, 6, 5, 6, 5, 7], &cfg).unwrap();
        assert_eq!((p.offset, p.end, p.period), (2, 9, 2));
        assert!(find_periodic_repetition(&[1, 2, 3, 4, 5, 6, 7, 8], &cfg).is_none());
        assert!(find_periodic_repetition(&[1, 1, 2], &cfg).is_none(), "too short");
        // The repetition must start in the first half.
        assert!(find_periodic_repetition(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9], &cfg).is_none());
        assert_eq!(smallest_period(&[1, 2, 1, 2, 1]), 2);
        assert_eq!(smallest_period(&[1, 2, 3]), 3);
    }

    #[test]
    fn numbers_and_progressions() {
        assert_eq!(
            extract_numbers("a1 b22 3.5 x.7 1.2.3 2020-01-02"),
            vec![1.0, 22.0, 3.5, 7.0, 1.2, 3.0, 2020.0, 1.0, 2.0]
        );
        let cfg = TaxonomyConfig::default();
        let r = find_arithmetic_run(&[7.0, 10.0, 20.0, 30.0, 40.0, 3.0], &cfg).unwrap();
        assert_eq!((r.start, r.len, r.stride, r.differences.clone()), (1, 4, 1, vec![10.0]));
        // Decreasing.
        assert!(find_arithmetic_run(&[9.0, 8.0, 7.0, 6.0], &cfg).is_some());
        // Interleaved: section/page "1 5 2 5 3 5" → stride 2, differences (1, 0).
        let r = find_arithmetic_run(&[1.0, 5.0, 2.0, 5.0, 3.0, 5.0], &cfg).unwrap();
        assert_eq!((r.stride, r.differences.clone()), (2, vec![1.0, 0.0]));
        // Decimals with rounding: 0.1 steps.
        assert!(find_arithmetic_run(&extract_numbers("1.1 1.2 1.3 1.4"), &cfg).is_some());
        // Constant numbers are not an arithmetic run; three terms are too few.
        assert!(find_arithmetic_run(&[4.0, 4.0, 4.0, 4.0, 4.0], &cfg).is_none());
        assert!(find_arithmetic_run(&[1.0, 2.0, 3.0], &cfg).is_none());
        // A random PIN.
        assert!(find_arithmetic_run(&[3.0, 8.0, 1.0, 9.0, 2.0, 7.0, 4.0, 0.0], &cfg).is_none());
    }

    #[test]
    fn entropy_and_dictionary_words() {
        assert_eq!(char_entropy_bits("aaaa"), 0.0);
        assert_eq!(char_entropy_bits("ab ab"), 1.0);
        assert_eq!(normalised_char_entropy("38192740"), 1.0);
        let prose = "It was the best of times, it was the worst of times, it was the age of wisdom";
        assert!(normalised_char_entropy(prose) < 0.8, "{}", normalised_char_entropy(prose));
        assert!(is_dictionary_like("Hamlet") && is_dictionary_like("NASA") && is_dictionary_like("x"));
        assert!(!is_dictionary_like("xKqZ") && !is_dictionary_like("bcdfg") && !is_dictionary_like("a1"));
        assert!(is_dictionary_like("straße") && is_dictionary_like("город"));
        assert_eq!(dictionary_like_fraction("the 3 xqzt, is"), Some(0.5));
        assert_eq!(dictionary_like_fraction(" -- "), None);
    }

    #[test]
    fn classification_rule_order() {
        let cfg = TaxonomyConfig::default();
        let prose = "whether tis nobler in the mind to suffer the slings and arrows";
        let toks = ids(prose);
        // Duplicated beats everything.
        let c = classify(&evidence(&toks, prose, 6), &cfg);
        assert_eq!(c.category, Category::Recitation);
        assert!(c.duplicated && !c.templated);
        // Five duplicates: not recitation (τ = 6 means "more than 5").
        assert_eq!(classify(&evidence(&toks, prose, 5), &cfg).category, Category::Recollection);
        // A reference model completes it: reconstruction.
        let mut e = evidence(&toks, prose, 1);
        e.reference_model_extracts = true;
        assert_eq!(classify(&e, &cfg).category, Category::Reconstruction);
        // Incrementing numbers.
        let list = "item 1 item 2 item 3 item 4 item 5";
        let c = classify(&evidence(&ids("item one item two item three item four item five"), list, 0), &cfg);
        assert_eq!(c.category, Category::Reconstruction);
        assert!(c.arithmetic.is_some());
        // Repeated tokens.
        let rep = "0xff, 0xff, 0xff, 0xff, 0xff, 0xff";
        let c = classify(&evidence(&ids(rep), rep, 0), &cfg);
        assert_eq!((c.category, c.periodicity.map(|p| p.period)), (Category::Reconstruction, Some(1)));
        // A canary.
        let canary = "the pin of xqzt is 3 8 1 9 2 7 4 0";
        let c = classify(&evidence(&ids(canary), canary, 1), &cfg);
        assert_eq!(c.category, Category::OutOfDistribution, "{c:?}");
        assert!(c.category.memorisation_type().feldman_long_tail);
        // The same canary inserted 32 times is recitation, still flagged OOD.
        let c = classify(&evidence(&ids(canary), canary, 32), &cfg);
        assert_eq!(c.category, Category::Recitation);
        assert!(c.out_of_distribution);
        // A key-like string.
        let key = "sk-9fK2xQ7LmZ0pR4tV8wY1";
        assert_eq!(
            classify(&evidence(&[1, 2, 3, 4, 5, 6], key, 0), &cfg).category,
            Category::OutOfDistribution
        );
        // Ordinary code is not OOD.
        let code = "for (i = 0; i < n; i++) { total += values[i]; }";
        let c = classify(&evidence(&ids(code), code, 0), &cfg);
        assert_eq!(c.category, Category::Recollection, "{c:?}");
    }

    #[test]
    fn types_as_data() {
        for (i, t) in MEMORISATION_TYPES.iter().enumerate() {
            assert_eq!(t.category.memorisation_type(), &MEMORISATION_TYPES[i]);
        }
        assert_eq!(Category::OutOfDistribution.memorisation_type().prashanth_label, "recollection");
        assert_eq!(Category::Recitation.memorisation_type().counterfactual, CounterfactualExpectation::Low);
    }
}
