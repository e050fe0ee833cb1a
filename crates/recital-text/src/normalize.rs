//! Text normalisation with an exact map back to the caller's bytes.
//!
//! # The per-cluster pipeline
//!
//! The input is cut into *units*: extended grapheme clusters (UAX #29) of the
//! input once default-ignorable characters are set aside. Each unit goes
//! through the pipeline ([`normalize_str`] runs it on one string):
//!
//! 1. **Punctuation fold** ([`fold_punct`]): curly and prime quotes become `'`
//!    or `"`, the dash family becomes `-`. Done *before* NFKC because NFKC
//!    turns `″` into two primes, which would then give two tokens.
//! 2. **NFKC**: compatibility forms (`ＡＢＣ`, `ﬁ`, `²`, `①`) become plain
//!    letters and digits.
//! 3. **Full case fold** (`caseless`): `HeLLo` = `hello`, `ß` = `ss`. This
//!    defeats the ALL-CAPS evasion that beat verbatim filters.
//! 4. **Drop default-ignorables** ([`is_ignorable`]): zero-width characters,
//!    soft hyphen, bidi controls, variation selectors, tag characters. They are
//!    invisible, so a copy can carry any number of them.
//! 5. **TR39 confusable skeleton** (`unicode_security::skeleton`): Cyrillic
//!    `раураl` = Latin `paypal`. ASCII digits and two ASCII marks are exempt
//!    ([`SKELETON_EXEMPT`]): the skeleton sends `0` to `o` and `1` to `l`,
//!    which splits `3.14` into three tokens (UAX #29 keeps `.` only between
//!    digits) while `3.25` stays one, and it splits one mark into several
//!    tokens (`"` → `''`, `%` → `°/₀`). Letters keep the full skeleton:
//!    `m` becomes `rn`, `I` and `|` become `l`.
//! 6. **Case fold again** (some of the skeleton's prototypes are capitals)
//!    and **NFC** (the skeleton leaves NFD).
//!
//! The pipeline is repeated until it stops changing the unit (at most
//! [`MAX_ROUNDS`]; every single code point settles within two: `٪` goes to
//! `°/₀`, and `₀` needs NFKC once more), so the result is a
//! fixpoint and normalising normalised text changes nothing. Finally a unit
//! whose whole result is the skeleton of an exempt mark (`''` from `“`, `״`,
//! `〃`…; `°/0` from `٪`, `﹪`…) becomes that mark ([`OVERRIDES`]).
//!
//! # Why per cluster, and what "exact offsets" means here
//!
//! Working per cluster lets `e` + U+0301 compose to `é` while every
//! normalised character still maps to one contiguous range of source bytes:
//! the whole unit it came from. A unit that expands (`½` → `1/2`, `ﷺ` → four
//! words) maps *all* its output to its one source range; nothing finer is
//! true.
//!
//! Units are not always single clusters. When the outputs of two neighbouring
//! units would fuse into one cluster of the normalised text (compatibility
//! jamo `ㄱ` `ㅏ` become conjoining jamo that compose to `가`), the two are
//! merged and normalised together, so that normalising the output again
//! gives the same text. Merging stops at [`MAX_MERGED_BYTES`] so adversarial
//! input cannot make it quadratic; past that cap (a run of more than 64
//! bytes that keeps fusing) normalising twice may differ from once.
//!
//! # The ASCII fast path
//!
//! An ASCII byte followed by another ASCII byte (or the end) is a cluster of
//! its own, and its result is looked up in a table built once, lazily, by
//! running each of the 128 characters through the slow path. ASCII text
//! therefore costs one table look-up per byte and allocates nothing, and
//! gives exactly what the slow path gives (tested for all 128 characters and
//! for random strings). Non-ASCII stretches go to the slow path in *chunks*
//! that end just before an ASCII character known to start a new cluster.
//!
//! The slow path memoises the result of each short unit per [`crate::Scratch`]
//! (text in any script repeats a few thousand distinct clusters), and checks
//! whether two outputs fuse only where a unit changed. That took Russian
//! and Chinese text from 2–3 MB/s to 20–30 MB/s.

use std::ops::Range;
use std::sync::OnceLock;

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Most pipeline rounds run on one unit before its result is taken as is.
/// Every single code point reaches a fixpoint in at most two.
pub const MAX_ROUNDS: usize = 4;

/// Units are not merged (see the module doc) beyond this many source bytes.
pub const MAX_MERGED_BYTES: usize = 64;

/// `Default_Ignorable_Code_Point` from `DerivedCoreProperties.txt`, Unicode
/// 16.0.0 (unchanged since 9.0), as inclusive ranges sorted by start.
///
/// Hard-coded rather than taken from a crate so that the set is visible here
/// and changes only with [`crate::NORMALIZER_VERSION`]. A test checks it
/// against the set `unicode_security::skeleton` drops.
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),   // SOFT HYPHEN
    (0x034F, 0x034F),   // COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),   // ARABIC LETTER MARK
    (0x115F, 0x1160),   // HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),   // KHMER VOWEL INHERENT AQ..AA
    (0x180B, 0x180F),   // MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),   // ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),   // LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),   // WORD JOINER.., LRI, RLI, FSI, PDI, deprecated format chars
    (0x3164, 0x3164),   // HANGUL FILLER
    (0xFE00, 0xFE0F),   // VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),   // ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xFFA0, 0xFFA0),   // HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),   // reserved
    (0x1BCA0, 0x1BCA3), // SHORTHAND FORMAT CONTROLS
    (0x1D173, 0x1D17A), // MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF), // LANGUAGE TAG, TAG characters, VARIATION SELECTOR-17..256, reserved
];

/// Format characters that are not default-ignorable but are invisible all
/// the same and dropped with them: the interlinear annotation controls.
const EXTRA_FORMAT: (u32, u32) = (0xFFF9, 0xFFFB);

/// Whether `c` is dropped by normalisation: a default-ignorable code point
/// (Unicode 16.0) or an interlinear annotation control.
pub fn is_ignorable(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x00AD {
        return false;
    }
    if (EXTRA_FORMAT.0..=EXTRA_FORMAT.1).contains(&cp) {
        return true;
    }
    DEFAULT_IGNORABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Folds quote and dash variants to their ASCII mark, before NFKC.
///
/// The skeleton already sends most of them to `'` or `-`, but not all in one
/// token each: `“` becomes `''`, `„` stays `„`, `—` becomes `ー` (katakana
/// prolonged sound mark), and NFKC splits `″` into two primes.
pub fn fold_punct(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{2036}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        _ => c,
    }
}

/// ASCII characters that skip the confusable skeleton: the digits, which
/// the skeleton turns into letters (`0` → `o`, `1` → `l`, breaking numbers
/// such as `3.14` into several tokens), and two marks it would turn into
/// several tokens (`"` → `''`, `%` → `°/₀`).
pub const SKELETON_EXEMPT: &[char] = &['"', '%', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

#[inline]
fn is_skeleton_exempt(c: char) -> bool {
    c.is_ascii_digit() || c == '"' || c == '%'
}

/// A unit whose whole normalised result is the first string becomes the
/// second: what the skeleton makes of marks confusable with an exempt mark.
pub const OVERRIDES: &[(&str, &str)] = &[("''", "\""), ("°/0", "%")];

/// Reusable buffers for [`normalize_unit`].
#[derive(Default, Debug)]
pub(crate) struct PipeBufs {
    tmp: String,
    skel: String,
    round: String,
}

/// Maps a non-ASCII capital letter that is confusable with an ASCII capital
/// (Greek `Η`, Cyrillic `Р`, …) to that ASCII capital.
///
/// Why: case folding runs before the skeleton (the skeleton maps `I` to `l` but
/// `i` to itself, so folding after it would break case-insensitivity), and
/// folding first sends a capital homoglyph to a *lowercase* letter that need not
/// look like the lowercase Latin one (`Η` → `η`, whose skeleton is `n̩`, while
/// `H` → `h`). Choosing the ASCII capital first makes `ΗΕLLΟ` equal `HELLO`.
pub fn capital_homoglyph(c: char) -> char {
    if c.is_ascii() || !c.is_uppercase() {
        return c;
    }
    static TABLE: OnceLock<Vec<(String, char)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        ('A'..='Z')
            .map(|l| (unicode_security::skeleton(l.encode_utf8(&mut [0; 4])).collect::<String>(), l))
            .collect()
    });
    let mut buf = [0u8; 4];
    let sk: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
    table.iter().find(|(s, _)| *s == sk).map(|&(_, l)| l).unwrap_or(c)
}

/// True for combining marks (General Category M): accents, diacritics,
/// enclosing marks. They are dropped after decomposition.
///
/// Why: adding or removing diacritics (`cafe` → `café`, Zalgo stacks) leaves a
/// text a reader still calls the same, and is a cheap evasion; search engines
/// fold them for the same reason. Folding them on both sides only merges
/// spellings (`cote`/`côte`), which costs a copy detector nothing.
fn is_combining_mark(c: char) -> bool {
    !c.is_ascii() && unicode_normalization::char::is_combining_mark(c)
}

/// One round of the pipeline: `src` → `out` (cleared first).
fn pipeline_once(src: &str, tmp: &mut String, skel: &mut String, out: &mut String) {
    tmp.clear();
    tmp.extend(
        src.chars()
            .map(capital_homoglyph)
            .map(fold_punct)
            .nfkc()
            .default_case_fold()
            .filter(|&c| !is_ignorable(c))
            .nfd()
            .filter(|&c| !is_combining_mark(c)),
    );
    skel.clear();
    let mut rest = tmp.as_str();
    while !rest.is_empty() {
        match rest.char_indices().find(|&(_, c)| is_skeleton_exempt(c)) {
            Some((i, c)) => {
                skel.extend(unicode_security::skeleton(&rest[..i]));
                skel.push(c);
                rest = &rest[i + c.len_utf8()..];
            }
            None => {
                skel.extend(unicode_security::skeleton(rest));
                rest = "";
            }
        }
    }
    out.clear();
    out.extend(skel.chars().default_case_fold().nfd().filter(|&c| !is_combining_mark(c)).nfc());
}

/// Normalises one unit (see the module doc): the pipeline to a fixpoint,
/// then [`OVERRIDES`]. `out` is cleared first.
pub(crate) fn normalize_unit(src: &str, bufs: &mut PipeBufs, out: &mut String) {
    let PipeBufs { tmp, skel, round } = bufs;
    pipeline_once(src, tmp, skel, out);
    for _ in 1..MAX_ROUNDS {
        pipeline_once(out, tmp, skel, round);
        if *round == *out {
            break;
        }
        std::mem::swap(out, round);
    }
    if let Some((_, to)) = OVERRIDES.iter().find(|(from, _)| *out == *from) {
        out.clear();
        out.push_str(to);
    }
}

/// Normalises a string as one unit and returns the result: for tests and
/// for building the ASCII table.
pub fn normalize_str(src: &str) -> String {
    let mut out = String::new();
    normalize_unit(src, &mut PipeBufs::default(), &mut out);
    out
}

/// The normalised form of every ASCII character, computed once by the slow
/// path.
struct AsciiTable {
    out: [String; 128],
    /// Whether the byte's result is exactly one non-whitespace ASCII byte
    /// (the common case the hot loop handles inline), and which.
    single: [Option<u8>; 128],
}

fn ascii_table() -> &'static AsciiTable {
    static TABLE: OnceLock<AsciiTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let out: [String; 128] =
            std::array::from_fn(|b| normalize_str(char::from(b as u8).encode_utf8(&mut [0; 4])));
        let single = std::array::from_fn(|b| match out[b].as_bytes() {
            [x] if x.is_ascii() && !x.is_ascii_whitespace() && *x != 0x0B => Some(*x),
            _ => None,
        });
        AsciiTable { out, single }
    })
}

/// The table's result for one ASCII byte (for tests and documentation).
pub fn ascii_normalized(b: u8) -> Option<&'static str> {
    ascii_table().out.get(usize::from(b)).map(String::as_str)
}

/// One stretch of a run's normalised text and the source bytes it came from:
/// the run's bytes from `norm` up to the next `Seg` map to `src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seg {
    pub norm: usize,
    pub src: Range<usize>,
}

/// A unit in a slow-path chunk: its range in the filtered chunk, its source
/// range and its output range in `NormScratch::outbuf`.
#[derive(Debug, Clone)]
struct Unit {
    filt: Range<usize>,
    src: Range<usize>,
    out: Range<usize>,
}

/// Buffers reused across calls.
#[derive(Default, Debug)]
pub(crate) struct NormScratch {
    run: String,
    segs: Vec<Seg>,
    filt: String,
    /// For each char of `filt`: its byte offset in `filt` and source range.
    fsrc: Vec<(usize, usize, usize)>,
    units: Vec<Unit>,
    outbuf: String,
    unit_out: String,
    joinbuf: String,
    bufs: PipeBufs,
    cache: UnitCache,
}

/// Memo of [`normalize_unit`] for short units: text in most scripts repeats
/// a few thousand distinct clusters, and the pipeline costs far more than a
/// hash look-up. Bounded: cleared when full.
#[derive(Default, Debug)]
struct UnitCache {
    map: foldhash::HashMap<Box<str>, (u32, u32)>,
    arena: String,
    /// Whether two characters fuse into one cluster, for pairs whose answer
    /// does not depend on what precedes them (see [`UnitCache::fuses`]).
    pairs: foldhash::HashMap<(char, char), bool>,
}

impl UnitCache {
    /// Units longer than this (in bytes) are not memoised.
    const MAX_KEY: usize = 16;
    /// Entries kept before the cache is cleared.
    const MAX_ENTRIES: usize = 1 << 15;

    /// `normalize_unit(src)` into `out`, from the memo when possible.
    fn normalize(&mut self, src: &str, bufs: &mut PipeBufs, out: &mut String) {
        if src.len() > Self::MAX_KEY {
            return normalize_unit(src, bufs, out);
        }
        if let Some(&(a, b)) = self.map.get(src) {
            out.clear();
            out.push_str(&self.arena[a as usize..b as usize]);
            return;
        }
        normalize_unit(src, bufs, out);
        if self.map.len() >= Self::MAX_ENTRIES {
            self.map.clear();
            self.arena.clear();
        }
        let a = self.arena.len();
        self.arena.push_str(out);
        // The arena holds at most MAX_ENTRIES short results, far below 4 GiB.
        self.map.insert(src.into(), (a as u32, self.arena.len() as u32));
    }

    /// Whether `a` and `b`, concatenated, have no cluster boundary between
    /// them.
    ///
    /// The answer depends only on the last char of `a` and the first of `b`
    /// except for regional indicators (pairing counts from the start of a
    /// run) and Indic conjuncts (rule GB9c looks back through marks to a
    /// virama); those are checked on the whole strings, the rest memoised
    /// per pair.
    fn fuses(&mut self, a: &str, b: &str, joinbuf: &mut String) -> bool {
        let (Some(l), Some(f)) = (a.chars().next_back(), b.chars().next()) else {
            return false;
        };
        // An ASCII character never composes with a neighbour across units (no
        // ASCII character is a combining one), and the ASCII fast path never
        // fuses: a unit next to ASCII stays apart in both paths (a Prepend
        // character such as U+0600 before `"` would otherwise fuse here only).
        if l.is_ascii() || f.is_ascii() {
            return false;
        }
        let context = |c: char| matches!(c, '\u{0900}'..='\u{0DFF}' | '\u{1F1E6}'..='\u{1F1FF}');
        if context(l) || context(f) {
            return !boundary_between(a, b, joinbuf);
        }
        if let Some(&fuse) = self.pairs.get(&(l, f)) {
            return fuse;
        }
        let fuse = !boundary_between(l.encode_utf8(&mut [0; 4]), f.encode_utf8(&mut [0; 4]), joinbuf);
        if self.pairs.len() >= Self::MAX_ENTRIES {
            self.pairs.clear();
        }
        self.pairs.insert((l, f), fuse);
        fuse
    }
}

/// Collects normalised characters into a whitespace-free run and hands each
/// finished run to the consumer.
struct Emitter<'s, F> {
    run: &'s mut String,
    segs: &'s mut Vec<Seg>,
    map: bool,
    /// Whether the current unit already has a `Seg` in this run.
    seg_open: bool,
    on_run: F,
}

impl<F: FnMut(&str, &[Seg])> Emitter<'_, F> {
    #[inline]
    fn flush(&mut self) {
        if !self.run.is_empty() {
            (self.on_run)(self.run, self.segs);
            self.run.clear();
            self.segs.clear();
        }
        self.seg_open = false;
    }

    /// Emits the output of one unit.
    fn unit(&mut self, out: &str, src: Range<usize>) {
        self.seg_open = false;
        for c in out.chars() {
            if c.is_whitespace() {
                self.flush();
            } else {
                if self.map && !self.seg_open {
                    self.segs.push(Seg { norm: self.run.len(), src: src.clone() });
                    self.seg_open = true;
                }
                self.run.push(c);
            }
        }
    }
}

/// Whether a grapheme boundary separates `a` from `b` in `a + b`.
fn boundary_between(a: &str, b: &str, buf: &mut String) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    buf.clear();
    buf.push_str(a);
    buf.push_str(b);
    buf.grapheme_indices(true).any(|(i, _)| i == a.len())
}

/// End of the slow-path chunk that starts at `start`: the offset of the first
/// ASCII character after it that certainly starts a new cluster once
/// ignorables are dropped, or the end of the input.
fn chunk_end(input: &str, start: usize) -> usize {
    let mut last_kept: Option<char> = None;
    let mut buf = [0u8; 8];
    let mut it = input[start..].char_indices();
    if let Some((_, c)) = it.next() {
        if !is_ignorable(c) {
            last_kept = Some(c);
        }
    }
    for (off, c) in it {
        if c.is_ascii() {
            let starts_cluster = match last_kept {
                None => true,
                Some(l) => {
                    let n = l.encode_utf8(&mut buf).len();
                    buf[n] = c as u8;
                    // Both parts are whole chars, so this is valid UTF-8.
                    std::str::from_utf8(&buf[..n + 1])
                        .map(|s| s.graphemes(true).nth(1).is_some())
                        .unwrap_or(true)
                }
            };
            if starts_cluster {
                return start + off;
            }
        }
        if !is_ignorable(c) {
            last_kept = Some(c);
        }
    }
    input.len()
}

impl NormScratch {
    /// Normalises `input`, handing every maximal whitespace-free run of the
    /// normalised text to `on_run` with its offset map (empty unless `map`).
    /// `slow_only` disables the ASCII fast path (for equivalence tests).
    pub(crate) fn for_each_run(
        &mut self,
        input: &str,
        map: bool,
        slow_only: bool,
        on_run: impl FnMut(&str, &[Seg]),
    ) {
        let table = ascii_table();
        let NormScratch { run, segs, filt, fsrc, units, outbuf, unit_out, joinbuf, bufs, cache } = self;
        run.clear();
        segs.clear();
        let mut em = Emitter { run, segs, map, seg_open: false, on_run };
        let bytes = input.as_bytes();
        let len = bytes.len();
        let mut i = 0;
        while i < len {
            let b = bytes[i];
            if !slow_only && b < 0x80 && (i + 1 == len || bytes[i + 1] < 0x80) {
                if let Some(x) = table.single[usize::from(b)] {
                    if map {
                        em.segs.push(Seg { norm: em.run.len(), src: i..i + 1 });
                    }
                    em.run.push(char::from(x));
                } else {
                    em.unit(&table.out[usize::from(b)], i..i + 1);
                }
                i += 1;
                continue;
            }
            let j = if slow_only { len } else { chunk_end(input, i) };
            slow_chunk(&input[i..j], i, &mut em, filt, fsrc, units, outbuf, unit_out, joinbuf, bufs, cache);
            i = j;
        }
        em.flush();
    }
}

/// The slow path over one chunk: drop ignorables, cut into clusters,
/// normalise each, merge units whose outputs would fuse, emit.
///
/// Two neighbouring outputs are not checked for fusing where both units
/// came out unchanged: their junction was a cluster boundary in the input
/// already.
#[allow(clippy::too_many_arguments)]
fn slow_chunk<F: FnMut(&str, &[Seg])>(
    chunk: &str,
    base: usize,
    em: &mut Emitter<'_, F>,
    filt: &mut String,
    fsrc: &mut Vec<(usize, usize, usize)>,
    units: &mut Vec<Unit>,
    outbuf: &mut String,
    unit_out: &mut String,
    joinbuf: &mut String,
    bufs: &mut PipeBufs,
    cache: &mut UnitCache,
) {
    filt.clear();
    fsrc.clear();
    for (off, c) in chunk.char_indices() {
        if !is_ignorable(c) {
            fsrc.push((filt.len(), base + off, base + off + c.len_utf8()));
            filt.push(c);
        }
    }
    units.clear();
    outbuf.clear();
    // Index into `fsrc` of the first char of the current cluster.
    let mut ci = 0;
    for (g_start, g) in filt.grapheme_indices(true) {
        let g_end = g_start + g.len();
        let first = ci;
        while ci < fsrc.len() && fsrc[ci].0 < g_end {
            ci += 1;
        }
        let Some(&(_, src_start, _)) = fsrc.get(first) else {
            break;
        };
        let src_end = fsrc.get(ci.wrapping_sub(1)).map_or(src_start, |t| t.2);
        let mut cur = Unit { filt: g_start..g_end, src: src_start..src_end, out: 0..0 };
        cache.normalize(g, bufs, unit_out);
        // Merge with earlier units while the outputs would fuse.
        if !unit_out.is_empty() {
            while let Some(k) = units.iter().rposition(|u| !u.out.is_empty()) {
                let prev = &units[k];
                let prev_out = &outbuf[prev.out.clone()];
                let fuse = !(prev.filt.end == cur.filt.start
                    && prev_out == &filt[prev.filt.clone()]
                    && *unit_out == filt[cur.filt.clone()])
                    && cache.fuses(prev_out, unit_out, joinbuf);
                if !fuse || cur.src.end - prev.src.start > MAX_MERGED_BYTES {
                    break;
                }
                cur.filt.start = prev.filt.start;
                cur.src.start = prev.src.start;
                outbuf.truncate(prev.out.start);
                units.truncate(k);
                cache.normalize(&filt[cur.filt.clone()], bufs, unit_out);
            }
        }
        let o = outbuf.len();
        outbuf.push_str(unit_out);
        cur.out = o..outbuf.len();
        units.push(cur);
    }
    for u in units.iter() {
        em.unit(&outbuf[u.out.clone()], u.src.clone());
    }
}
