//! Runs of printable text in bytes of no known structure, like `strings`:
//! UTF-8 (any printable character) and UTF-16 in both byte orders and both
//! alignments.
//!
//! UTF-16 runs hold the scripts of most written text (Latin, Greek,
//! Cyrillic, Armenian, Hebrew, Arabic, the Indic scripts, Thai, Hangul, and
//! Chinese and Japanese with their punctuation and full-width forms), one
//! script per run besides the common Latin-1 and punctuation. That keeps
//! random bytes from reading as long runs: about a third of all 16-bit units
//! are CJK ideographs, and a run of mixed scripts would take them all.
//! Any text in UTF-16 also reads as something in the other byte order or
//! one byte off; [`Runs::reported`] tells most of those readings from text.
//! What it cannot tell is CJK text one byte off, which reads as other
//! ideographs (a unit's high byte is still a character's): such a run is
//! scanned too, and being no text, finds no copy. It costs time, not a
//! false or double report.
//!
//! The bytes are read in fixed-size blocks; each decoder carries its state
//! (a partial character, the run so far) across a block's edge instead of
//! overlapping blocks, so memory is one block plus the runs being built. A
//! run is handed to the sink in pieces once it is long, so a text file of
//! any size is one segment scanned in windows.
//!
//! Where the stream is a whole file, gzip and zstd magic numbers inside it
//! are noted and those members opened after the pass
//! ([`super::compressed::embedded`]).

use memchr::memmem;

use super::compressed::{self, GZIP_MAGIC, ZSTD_MAGIC};
use super::{Ctx, Src};
use crate::error::Result;
use crate::place::{Encoding, Format, Member, Place, Sink};

const BLOCK: usize = 1 << 20;
/// A run is pushed to the sink once this much of it is buffered.
const FLUSH: usize = 64 << 10;
/// Most embedded members tried per file.
const MAX_MEMBERS: usize = 4096;

pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
    let mut runs = Runs::new(ctx.opts.min_run, ctx.members.clone());
    let find_members = ctx.members.is_empty() && ctx.opts.embedded_members && ctx.opts.max_depth > 0;
    let mut candidates: Vec<(u64, &'static str)> = Vec::new();
    let mut buf = vec![0u8; BLOCK];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let at = src.pos;
        let n = read_block(src, &mut buf).map_err(|e| ctx.read_err(at, e))?;
        if n == 0 {
            break;
        }
        let block = &buf[..n];
        if find_members && candidates.len() < MAX_MEMBERS {
            magic_in(&carry, block, at, &mut candidates);
            carry.clear();
            carry.extend_from_slice(&block[n.saturating_sub(3)..]);
        }
        for (i, &b) in block.iter().enumerate() {
            runs.byte(b, at + i as u64, sink)?;
        }
    }
    runs.finish(sink)?;
    if candidates.len() >= MAX_MEMBERS {
        ctx.summary.warnings.push(format!(
            "{}: more than {MAX_MEMBERS} compressed-member signatures; only the first {MAX_MEMBERS} were tried",
            ctx.path.display()
        ));
    }
    candidates.truncate(MAX_MEMBERS);
    for (offset, kind) in candidates {
        compressed::embedded(ctx, offset, kind, sink)?;
    }
    Ok(())
}

/// Fills `buf` as far as the stream allows.
fn read_block(src: &mut Src<'_>, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match std::io::Read::read(src, &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Offsets of gzip and zstd magic numbers in `block` (at `at`), including
/// those that begin in the last bytes of the previous block (`carry`).
fn magic_in(carry: &[u8], block: &[u8], at: u64, out: &mut Vec<(u64, &'static str)>) {
    let mut edge = carry.to_vec();
    edge.extend_from_slice(&block[..block.len().min(3)]);
    let edge_at = at - carry.len() as u64;
    for (magic, kind) in [(GZIP_MAGIC, "gzip"), (ZSTD_MAGIC, "zstd")] {
        for i in memmem::find_iter(&edge, magic).filter(|&i| i < carry.len()) {
            out.push((edge_at + i as u64, kind));
        }
        out.extend(memmem::find_iter(block, magic).map(|i| (at + i as u64, kind)));
    }
    out.sort_unstable();
}

/// Whether `c` belongs in a UTF-8 run.
fn printable(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// The script of a UTF-16 unit that may stand in a run. Units of two
/// scripts other than [`Script::Common`] do not share a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    /// ASCII, Latin-1, Latin Extended (Additional too) and general punctuation.
    Common,
    /// IPA, combining marks, Greek (polytonic too), Cyrillic, Armenian.
    Alphabet,
    Hebrew,
    Arabic,
    Indic,
    Thai,
    Hangul,
    /// Han ideographs, kana, CJK and full-width punctuation.
    Cjk,
}

impl Script {
    /// Written with spaces between words, so a run without them is another
    /// reading of bytes rather than text.
    fn spaced(self) -> bool {
        !matches!(self, Script::Cjk | Script::Thai)
    }
}

/// The script of UTF-16 code unit `u`, if it belongs in a UTF-16 run.
/// Surrogates never do: supplementary characters are rare in text, and the
/// pairs would let random bytes through.
fn script16(u: u16) -> Option<Script> {
    Some(match u {
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0xA0..=0x024F | 0x1E00..=0x1EFF | 0x2000..=0x206F => {
            Script::Common
        }
        0x0250..=0x058F | 0x1F00..=0x1FFF => Script::Alphabet,
        0x0590..=0x05FF => Script::Hebrew,
        0x0600..=0x06FF | 0x0750..=0x077F => Script::Arabic,
        0x0900..=0x0DFF => Script::Indic,
        0x0E00..=0x0E7F => Script::Thai,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7A3 => Script::Hangul,
        // Full-width punctuation and digits, not letters: 0xFF before ASCII
        // (padding) would read as a full-width letter.
        0x3000..=0x30FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xFF01..=0xFF20
        | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65 => Script::Cjk,
        _ => return None,
    })
}

/// One run being built.
#[derive(Default)]
struct Run {
    /// Offset of its first byte.
    start: u64,
    text: String,
    chars: usize,
    /// What its UTF-16 units say about it ([`Runs::reported`]).
    units: Units,
    /// ASCII spaces in it.
    spaces: usize,
    /// Already handed (in part) to the sink.
    open: bool,
    /// A UTF-16 run shorter than the shortest reported: its units, not yet
    /// in `text` and `units`.
    short: Vec<u16>,
}

/// Counts over a run's UTF-16 units.
#[derive(Clone, Copy, Default)]
struct Units {
    /// Units above U+00FF, and whether the first and the last are: the edge
    /// units of another reading of text join a neighbouring byte to it.
    wide: usize,
    first_wide: bool,
    last_wide: bool,
    /// Its script other than [`Script::Common`], if any.
    script: Option<Script>,
    /// Units whose low byte is the previous unit's.
    same_low: usize,
    last_low: Option<u8>,
    /// Units other than U+0020 with a 0x20 byte.
    space_bytes: usize,
}

impl Units {
    fn add(&mut self, u: u16, script: Script, first: bool) {
        let wide = u > 0xFF;
        self.wide += usize::from(wide);
        self.first_wide |= first && wide;
        self.last_wide = wide;
        if script != Script::Common {
            self.script = Some(script);
        }
        let [low, high] = u.to_le_bytes();
        self.same_low += usize::from(self.last_low == Some(low));
        self.last_low = Some(low);
        self.space_bytes += usize::from(u != 0x20 && (low == 0x20 || high == 0x20));
    }

    /// Some unit inside the run (not at an edge) is above U+00FF.
    fn inner_wide(&self) -> bool {
        self.wide > usize::from(self.first_wide) + usize::from(self.last_wide)
    }
}

impl Run {
    fn push(&mut self, c: char, at: u64) {
        if self.chars == 0 {
            self.start = at;
        }
        self.text.push(c);
        self.chars += 1;
        self.spaces += usize::from(c == ' ');
    }

    /// Empties the run, keeping its buffers.
    fn reset(&mut self) {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let mut short = std::mem::take(&mut self.short);
        short.clear();
        *self = Run { text, short, ..Run::default() };
    }

    /// Takes the units of a short UTF-16 run into its text and counts.
    fn take_short(&mut self) {
        let mut short = std::mem::take(&mut self.short);
        let start = self.start;
        self.chars = 0;
        for (k, &u) in short.iter().enumerate() {
            let script = script16(u).expect("a run holds units of a script");
            self.units.add(u, script, k == 0);
            self.push(char::from_u32(u as u32).expect("script16 excludes surrogates"), start + 2 * k as u64);
        }
        short.clear();
        self.short = short;
    }
}

/// Which decoder a run belongs to: 0 UTF-8, 1–2 UTF-16LE at even/odd
/// offsets, 3–4 UTF-16BE at even/odd offsets.
type Which = usize;

/// The five decoders and the one run that may hold the sink.
struct Runs {
    min_run: usize,
    members: Vec<Member>,
    runs: [Run; 5],
    /// Bytes of a UTF-8 sequence begun, and how many it needs.
    partial: ([u8; 4], usize, usize),
    /// The first byte of each UTF-16 alignment's current unit.
    half: [Option<u8>; 2],
    /// The run whose segment is open in the sink.
    owner: Option<Which>,
}

impl Runs {
    fn new(min_run: usize, members: Vec<Member>) -> Self {
        Runs {
            min_run: min_run.max(1),
            members,
            runs: Default::default(),
            partial: ([0; 4], 0, 0),
            half: [None, None],
            owner: None,
        }
    }

    fn byte(&mut self, b: u8, at: u64, sink: &mut dyn Sink) -> Result<()> {
        self.utf8(b, at, sink)?;
        // A unit of one alignment starts at this byte; the other's ends here.
        let starts = (at % 2) as usize;
        let ends = 1 - starts;
        if let Some(first) = self.half[ends].take() {
            self.utf16(1 + ends, u16::from_le_bytes([first, b]), at - 1, sink)?;
            self.utf16(3 + ends, u16::from_be_bytes([first, b]), at - 1, sink)?;
        }
        self.half[starts] = Some(b);
        Ok(())
    }

    fn utf8(&mut self, b: u8, at: u64, sink: &mut dyn Sink) -> Result<()> {
        let (mut bytes, have, need) = self.partial;
        if need > 0 {
            if b & 0xC0 == 0x80 {
                bytes[have] = b;
                if have + 1 < need {
                    self.partial = (bytes, have + 1, need);
                    return Ok(());
                }
                self.partial = ([0; 4], 0, 0);
                let start = at + 1 - need as u64;
                return match std::str::from_utf8(&bytes[..need]).ok().and_then(|s| s.chars().next()) {
                    Some(c) if printable(c) => {
                        self.runs[0].push(c, start);
                        self.flush_if_long(0, sink)
                    }
                    _ => self.end(0, sink),
                };
            }
            self.partial = ([0; 4], 0, 0);
            self.end(0, sink)?;
        }
        match b {
            0x20..=0x7E | b'\t' | b'\n' | b'\r' => {
                self.runs[0].push(b as char, at);
                self.flush_if_long(0, sink)
            }
            0xC2..=0xF4 => {
                let need = if b < 0xE0 {
                    2
                } else if b < 0xF0 {
                    3
                } else {
                    4
                };
                self.partial = ([b, 0, 0, 0], 1, need);
                Ok(())
            }
            _ => self.end(0, sink),
        }
    }

    fn utf16(&mut self, which: Which, u: u16, at: u64, sink: &mut dyn Sink) -> Result<()> {
        let Some(script) = script16(u) else {
            return self.end(which, sink);
        };
        let current = self.runs[which].units.script;
        if script != Script::Common && current.is_some_and(|c| c != script) {
            self.end(which, sink)?;
        }
        let run = &mut self.runs[which];
        if run.chars + 1 < self.min_run {
            // Most runs in bytes that are not text end within a few units:
            // until one could be reported, its units are only kept.
            if run.chars == 0 {
                run.start = at;
            }
            run.short.push(u);
            run.chars += 1;
            if script != Script::Common {
                run.units.script = Some(script);
            }
            return Ok(());
        }
        if !run.short.is_empty() {
            run.take_short();
        }
        run.units.add(u, script, run.chars == 0);
        run.push(char::from_u32(u as u32).expect("script16 excludes surrogates"), at);
        self.flush_if_long(which, sink)
    }

    fn encoding(&self, which: Which) -> Encoding {
        match which {
            0 => Encoding::Utf8,
            1 | 2 if self.runs[which].units.inner_wide() => Encoding::Utf16le,
            1 | 2 => Encoding::Utf16,
            _ => Encoding::Utf16be,
        }
    }

    /// Whether a run is text rather than another reading of the same bytes.
    /// - A big-endian run of Latin-1 only is the little-endian decoder's run
    ///   one byte later: reported once, by that decoder. Its edge units join
    ///   a neighbouring byte to the text, so only inner units count.
    /// - ASCII read as UTF-16 is mostly CJK ideographs (`th` is U+6874), and
    ///   its spaces are halves of units (`e ` is U+2065): text has few units
    ///   with a 0x20 byte besides the space itself.
    /// - Text of one 256-character block (Cyrillic, Thai) read in the other
    ///   byte order, or ASCII read that way (`a` as U+6100), is units that
    ///   share their low byte: a run where most units repeat the previous
    ///   unit's low byte is such a reading.
    /// - Text of one block also reads as that block one byte off, but there
    ///   its spaces become letters: a run of a script written with spaces
    ///   must have them, as text does.
    fn reported(&self, which: Which) -> bool {
        let run = &self.runs[which];
        let units = &run.units;
        if which == 0 || !units.inner_wide() {
            return which < 3;
        }
        let spaced = units.script.is_none_or(Script::spaced);
        units.same_low * 2 <= run.chars
            && units.space_bytes * 10 <= run.chars
            && (!spaced || run.spaces * 20 >= run.chars)
    }

    /// Hands a long run's text to the sink, opening its segment.
    /// A long run that is not text is dropped, so that memory stays one
    /// block whatever the file holds.
    fn flush_if_long(&mut self, which: Which, sink: &mut dyn Sink) -> Result<()> {
        if self.runs[which].text.len() < FLUSH {
            return Ok(());
        }
        if !self.runs[which].open && !self.reported(which) {
            self.runs[which].reset();
            return Ok(());
        }
        if self.owner.is_some_and(|o| o != which) {
            // Two long runs at once (rare): the older one's segment ends here.
            let o = self.owner.take().expect("checked");
            self.runs[o].open = false;
            sink.end()?;
        }
        self.hand_over(which, sink)
    }

    fn hand_over(&mut self, which: Which, sink: &mut dyn Sink) -> Result<()> {
        let encoding = self.encoding(which);
        let run = &mut self.runs[which];
        if !run.open {
            sink.begin(Format::Strings, &self.members)?;
            run.open = true;
            self.owner = Some(which);
        }
        let place = Place { offset: Some(run.start), encoding, ..Place::default() };
        sink.text(&run.text, place)?;
        let written = if encoding.is_utf16() { 2 * run.text.encode_utf16().count() } else { run.text.len() };
        run.start += written as u64;
        run.text.clear();
        Ok(())
    }

    /// Ends decoder `which`'s run: a long enough one is scanned.
    fn end(&mut self, which: Which, sink: &mut dyn Sink) -> Result<()> {
        let run = &self.runs[which];
        if run.chars == 0 {
            return Ok(());
        }
        if run.open || (run.chars >= self.min_run && self.reported(which)) {
            if !run.open && self.owner.is_some() {
                let o = self.owner.take().expect("checked");
                self.runs[o].open = false;
                sink.end()?;
            }
            if !self.runs[which].text.is_empty() {
                self.hand_over(which, sink)?;
            }
            sink.end()?;
            self.owner = None;
        }
        self.runs[which].reset();
        Ok(())
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<()> {
        for which in 0..5 {
            self.end(which, sink)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::Member;

    /// Segments as (format, text, first place) — a sink for tests.
    #[derive(Default)]
    struct Collect {
        segs: Vec<(String, Place)>,
        open: bool,
    }

    impl Sink for Collect {
        fn begin(&mut self, _: Format, _: &[Member]) -> Result<()> {
            assert!(!self.open, "segments do not nest");
            self.open = true;
            self.segs.push((String::new(), Place::default()));
            Ok(())
        }
        fn text(&mut self, text: &str, place: Place) -> Result<()> {
            let s = self.segs.last_mut().unwrap();
            if s.0.is_empty() {
                s.1 = place;
            }
            s.0.push_str(text);
            Ok(())
        }
        fn gap(&mut self) -> Result<()> {
            Ok(())
        }
        fn end(&mut self) -> Result<()> {
            assert!(self.open);
            self.open = false;
            Ok(())
        }
    }

    fn runs_of(bytes: &[u8], min_run: usize) -> Vec<(String, Place)> {
        let mut sink = Collect::default();
        let mut runs = Runs::new(min_run, Vec::new());
        for (i, &b) in bytes.iter().enumerate() {
            runs.byte(b, i as u64, &mut sink).unwrap();
        }
        runs.finish(&mut sink).unwrap();
        sink.segs
    }

    #[test]
    fn utf8_runs_keep_their_offsets() {
        let mut bytes = vec![0u8, 1, 2];
        bytes.extend_from_slice("Grüße aus Köln, said the letter".as_bytes());
        bytes.extend_from_slice(&[0xff, 0, 7]);
        let segs = runs_of(&bytes, 8);
        assert_eq!(segs.len(), 1, "{segs:?}");
        assert_eq!(segs[0].0, "Grüße aus Köln, said the letter");
        assert_eq!(segs[0].1.offset, Some(3));
        assert_eq!(segs[0].1.encoding, Encoding::Utf8);
    }

    #[test]
    fn utf16_runs_in_both_orders_and_alignments() {
        let text = "Hello there, general Kenobi";
        for (odd, be) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut bytes = vec![0xffu8; 5 + odd as usize];
            let start = bytes.len() as u64;
            for u in text.encode_utf16() {
                bytes.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            bytes.extend_from_slice(&[0xff; 5]);
            let segs = runs_of(&bytes, 10);
            assert_eq!(segs.len(), 1, "odd {odd} be {be}: {segs:?}");
            assert_eq!(segs[0].1.encoding, Encoding::Utf16);
            if be {
                // Latin-1 only: read as little-endian one byte late, so the
                // run's edges are the neighbouring bytes' (0xff 0x00 is ÿ).
                assert_eq!(segs[0].0, format!("ÿ{}", &text[..text.len() - 1]));
                assert_eq!(segs[0].1.offset, Some(start - 1));
            } else {
                assert_eq!(segs[0].0, text);
                assert_eq!(segs[0].1.offset, Some(start));
            }
        }
        let cyr = "Мой дядя самых честных правил";
        let mut bytes = vec![0xffu8; 3];
        for u in cyr.encode_utf16() {
            bytes.extend_from_slice(&u.to_be_bytes());
        }
        let segs = runs_of(&bytes, 10);
        assert_eq!(segs.len(), 1, "{segs:?}");
        assert_eq!(
            (segs[0].0.as_str(), segs[0].1.encoding, segs[0].1.offset),
            (cyr, Encoding::Utf16be, Some(3))
        );
    }

    /// Each text in UTF-16, in both orders and alignments between random
    /// bytes, is one segment: itself, in its own encoding and place. Other
    /// readings of the same bytes share no four characters with it, except
    /// for kana and Thai without spaces: characters that share their high
    /// byte read as themselves
    /// in the other byte order one byte off (copies of such readings are
    /// made one by `copy::drop_other_readings`).
    #[test]
    fn utf16_text_of_every_script_is_one_run() {
        let texts = [
            ("道可道，非常道。名可名，非常名。無名天地之始；有名萬物之母。", false),
            ("いろはにほへと　ちりぬるを　わかよたれそ　つねならむ、うゐのおくやま", true),
            ("동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세", false),
            ("בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ וְהָאָרֶץ הָיְתָה תֹהוּ", false),
            ("في البدء خلق الله السماوات والأرض وكانت الأرض خربة وخالية", false),
            ("Μῆνιν ἄειδε θεὰ Πηληϊάδεω Ἀχιλῆος οὐλομένην, ἣ μυρί᾽ Ἀχαιοῖς", false),
            ("कर्मण्येवाधिकारस्ते मा फलेषु कदाचन मा कर्मफलहेतुर्भूर्मा ते सङ्गोऽस्त्वकर्मणि", false),
            ("กรุงเทพมหานครอมรรัตนโกสินทร์มหินทรายุธยามหาดิลกภพนพรัตน์", true),
        ];
        for (text, shifted_is_text) in texts {
            let chars: Vec<char> = text.chars().collect();
            for (odd, be) in [(false, false), (true, false), (false, true), (true, true)] {
                let mut x: u64 = 0x2545F4914F6CDD1D;
                let mut noise = |n: usize| -> Vec<u8> {
                    (0..n)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            x as u8 | 0x80
                        })
                        .collect()
                };
                let mut bytes = noise(4096 + odd as usize);
                let start = bytes.len() as u64;
                for u in text.encode_utf16() {
                    bytes.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
                }
                bytes.extend(noise(4096));
                let segs = runs_of(&bytes, 24);
                let want = if be { Encoding::Utf16be } else { Encoding::Utf16le };
                // Random neighbours may read as characters of the same
                // script and join the run: the text is where its place says.
                let found: Vec<_> = segs.iter().filter(|(t, _)| t.contains(text)).collect();
                assert_eq!(found.len(), 1, "{text} odd {odd} be {be}: {segs:?}");
                let (t, place) = found[0];
                let before = t[..t.find(text).unwrap()].encode_utf16().count() as u64;
                assert!(before <= 3, "{t}");
                assert_eq!((place.encoding, place.offset.map(|o| o + 2 * before)), (want, Some(start)));
                for (t, _) in segs.iter().filter(|(t, _)| !t.contains(text) && !shifted_is_text) {
                    for w in chars.windows(4) {
                        assert!(!t.contains(&w.iter().collect::<String>()), "{t} holds {w:?}");
                    }
                }
            }
        }
    }

    /// ASCII and Latin-1 in UTF-16 read in the other byte order are CJK
    /// ideographs (`a` is U+6100); those readings are not runs.
    #[test]
    fn swapped_readings_are_not_runs() {
        let text = "It is a truth universally acknowledged, that a single man";
        for be in [false, true] {
            let mut bytes = vec![0xffu8; 7];
            for u in text.encode_utf16() {
                bytes.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            bytes.extend_from_slice(&[0xff; 7]);
            let segs = runs_of(&bytes, 24);
            assert_eq!(segs.len(), 1, "be {be}: {segs:?}");
        }
    }

    #[test]
    fn long_runs_are_handed_over_in_pieces() {
        let text = "word ".repeat(FLUSH / 2);
        let segs = runs_of(text.as_bytes(), 8);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].0, text);
    }

    #[test]
    fn random_bytes_give_few_runs() {
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let bytes: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(runs_of(&bytes, 24).is_empty());
    }

    #[test]
    fn magic_numbers_across_a_block_edge_are_found() {
        let mut out = Vec::new();
        magic_in(&[0, 0x1f, 0x8b], &[0x08, 0, 0x28, 0xb5, 0x2f, 0xfd], 100, &mut out);
        assert_eq!(out, vec![(98, "gzip"), (102, "zstd")]);
    }
}
