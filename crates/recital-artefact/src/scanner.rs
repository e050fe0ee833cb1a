//! The scanning side of the [`Sink`]: segments are scanned in windows that
//! overlap, so that memory stays bounded however long a segment is, and a
//! copy that crosses a window's edge is reported once.
//!
//! Window `k` covers text `[s_k, s_k + window)` and the next starts
//! `overlap` bytes before it ends. A copy no longer than `overlap` that
//! crosses an edge lies wholly inside the next window; a longer one is seen
//! in pieces, each at least `overlap` long (so each past the policy's
//! thresholds), which overlap and are merged. A copy is held back until no
//! later window can reach it.

use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_index::Index;
use recital_policy::{Policy, Request};

use crate::copy::ArtefactCopy;
use crate::error::Result;
use crate::place::{Encoding, Format, Member, Place, Sink};

/// Default window: 256 KiB of text.
pub const DEFAULT_WINDOW: usize = 256 << 10;
/// Default overlap between windows: 16 KiB (thousands of tokens, past any
/// policy threshold).
pub const DEFAULT_OVERLAP: usize = 16 << 10;

/// What a scanner has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Segments scanned.
    pub segments: u64,
    /// Bytes of text extracted.
    pub text_bytes: u64,
    /// Windows handed to the scanner.
    pub windows: u64,
}

/// A piece of the current segment: its start in the segment's text, its
/// start in UTF-16 units, and where it came from.
struct Piece {
    start: usize,
    utf16: usize,
    place: Place,
}

/// The segment being read.
struct Segment {
    format: Format,
    members: Vec<Member>,
    /// Text not yet dropped, from `base`.
    buf: String,
    base: usize,
    base_chars: usize,
    base_utf16: usize,
    /// UTF-16 units pushed so far.
    utf16: usize,
    /// Segment text up to here has been scanned.
    scanned_to: usize,
    pieces: Vec<Piece>,
    /// Copies a later window may still extend.
    pending: Vec<ArtefactCopy>,
}

/// Scans the text extractors push into it against an index, decides on each
/// copy with a policy, and collects the copies.
pub struct ArtefactScanner<'a> {
    index: &'a Index,
    policy: &'a Policy,
    opts: ScanOptions,
    jurisdiction: String,
    window: usize,
    overlap: usize,
    file: String,
    seg: Option<Segment>,
    copies: Vec<ArtefactCopy>,
    stats: ScanStats,
}

impl<'a> ArtefactScanner<'a> {
    /// A scanner with the default window; `jurisdiction` is the one the
    /// artefact would be distributed in.
    pub fn new(index: &'a Index, policy: &'a Policy, opts: ScanOptions, jurisdiction: &str) -> Result<Self> {
        opts.validate()?;
        Ok(Self {
            index,
            policy,
            opts,
            jurisdiction: jurisdiction.to_string(),
            window: DEFAULT_WINDOW,
            overlap: DEFAULT_OVERLAP,
            file: String::new(),
            seg: None,
            copies: Vec::new(),
            stats: ScanStats::default(),
        })
    }

    /// Sets the window and the overlap (at least 64 bytes, at most a quarter
    /// of the window: smaller ones are raised, larger ones lowered).
    pub fn with_window(mut self, window: usize, overlap: usize) -> Self {
        self.window = window.max(256);
        self.overlap = overlap.clamp(64, self.window / 4);
        self
    }

    /// Names the file that the copies found from now on lie in.
    pub fn set_file(&mut self, name: &str) {
        self.file = name.to_string();
    }

    /// The copies found since the last call, in the order they were
    /// finished, one for each set of readings of the same bytes (call it
    /// once per file).
    pub fn take_copies(&mut self) -> Vec<ArtefactCopy> {
        let mut copies = std::mem::take(&mut self.copies);
        crate::copy::drop_other_readings(&mut copies);
        copies
    }

    /// What has been scanned so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// Scans the current window (all of the buffer when `last`), keeps the
    /// overlap, and finishes the copies no later window can reach.
    fn advance(&mut self, last: bool) -> Result<()> {
        let Some(seg) = self.seg.as_mut() else { return Ok(()) };
        let cut = if last { seg.buf.len() } else { cut_point(&seg.buf, self.window, self.window / 16) };
        if seg.base + cut > seg.scanned_to && !seg.buf[..cut].trim().is_empty() {
            self.stats.windows += 1;
            let found =
                scan_window(self.index, self.policy, &self.opts, &self.jurisdiction, &self.file, seg, cut)?;
            for c in found {
                match seg.pending.iter_mut().find(|p| p.overlaps(&c)) {
                    Some(p) => p.absorb(c),
                    None => seg.pending.push(c),
                }
            }
        }
        seg.scanned_to = seg.scanned_to.max(seg.base + cut);
        if last {
            self.copies.append(&mut seg.pending);
            return Ok(());
        }
        let keep = floor_boundary(&seg.buf, cut.saturating_sub(self.overlap));
        let next_start = seg.base + keep;
        let (done, held): (Vec<ArtefactCopy>, Vec<ArtefactCopy>) =
            seg.pending.drain(..).partition(|c| c.span.byte_end <= next_start);
        self.copies.extend(done);
        seg.pending = held;
        let dropped = &seg.buf[..keep];
        seg.base_chars += dropped.chars().count();
        seg.base_utf16 += dropped.encode_utf16().count();
        seg.buf.drain(..keep);
        seg.base = next_start;
        // The piece the buffer now starts inside stays: its place is needed.
        let first = seg.pieces.partition_point(|p| p.start <= seg.base).saturating_sub(1);
        seg.pieces.drain(..first);
        Ok(())
    }
}

/// Scans `seg.buf[..cut]`; its copies (not boilerplate) with their decisions,
/// offsets made relative to the segment.
fn scan_window(
    index: &Index,
    policy: &Policy,
    opts: &ScanOptions,
    jurisdiction: &str,
    file: &str,
    seg: &Segment,
    cut: usize,
) -> Result<Vec<ArtefactCopy>> {
    let input = Input::decode(&seg.buf.as_bytes()[..cut])?;
    let report = scan(index, &input, opts)?;
    let decision = policy.decide(&report, &Request::from_jurisdiction(jurisdiction));
    let mut out = Vec::new();
    for (mut span, mut d) in report.spans.into_iter().zip(decision.spans) {
        if span.kind == SpanKind::Boilerplate {
            continue;
        }
        span.byte_start += seg.base;
        span.byte_end += seg.base;
        span.char_start += seg.base_chars;
        span.char_end += seg.base_chars;
        span.utf16_start += seg.base_utf16;
        span.utf16_end += seg.base_utf16;
        d.byte_start = span.byte_start;
        d.byte_end = span.byte_end;
        let place = place_of(seg, span.byte_start, span.utf16_start);
        out.push(ArtefactCopy {
            file: file.to_string(),
            members: seg.members.clone(),
            format: seg.format,
            place,
            span,
            decision: d,
        });
    }
    Ok(out)
}

/// The place of the segment's byte `at` (UTF-16 unit `at_utf16`): its
/// piece's, with the offset moved to the byte itself where the encoding
/// maps text positions to bytes.
fn place_of(seg: &Segment, at: usize, at_utf16: usize) -> Place {
    let i = seg.pieces.partition_point(|p| p.start <= at).saturating_sub(1);
    let Some(p) = seg.pieces.get(i) else { return Place::default() };
    let mut place = p.place.clone();
    place.offset = place.offset.map(|o| match place.encoding {
        Encoding::Utf8 => o + (at - p.start) as u64,
        e if e.is_utf16() => o + 2 * at_utf16.saturating_sub(p.utf16) as u64,
        _ => o,
    });
    place
}

/// The largest char boundary at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Where to end a window of about `window` bytes: after the last whitespace
/// in its final `slack` bytes, else at a char boundary (a word cut in two is
/// whole in the next window, which overlaps).
fn cut_point(s: &str, window: usize, slack: usize) -> usize {
    let end = floor_boundary(s, window);
    let from = floor_boundary(s, end.saturating_sub(slack));
    match s[from..end].rfind(char::is_whitespace) {
        Some(i) if from + i > 0 => from + i + 1,
        _ => end,
    }
}

/// Control characters (NUL included) become spaces of the same length, so
/// that the scanner takes the text and byte offsets stay put.
fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Sink for ArtefactScanner<'_> {
    fn begin(&mut self, format: Format, members: &[Member]) -> Result<()> {
        if self.seg.is_some() {
            self.end()?;
        }
        self.stats.segments += 1;
        self.seg = Some(Segment {
            format,
            members: members.to_vec(),
            buf: String::new(),
            base: 0,
            base_chars: 0,
            base_utf16: 0,
            utf16: 0,
            scanned_to: 0,
            pieces: Vec::new(),
            pending: Vec::new(),
        });
        Ok(())
    }

    fn text(&mut self, text: &str, place: Place) -> Result<()> {
        let Some(seg) = self.seg.as_mut() else { return Ok(()) };
        let text = sanitize(text);
        seg.pieces.push(Piece { start: seg.base + seg.buf.len(), utf16: seg.utf16, place });
        if place_needs_utf16(seg) {
            seg.utf16 += text.encode_utf16().count();
        }
        seg.buf.push_str(&text);
        self.stats.text_bytes += text.len() as u64;
        while self.seg.as_ref().is_some_and(|s| s.buf.len() >= self.window) {
            self.advance(false)?;
        }
        Ok(())
    }

    fn gap(&mut self) -> Result<()> {
        if let Some(seg) = self.seg.as_mut() {
            seg.buf.push('\n');
            if place_needs_utf16(seg) {
                seg.utf16 += 1;
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        self.advance(true)?;
        self.seg = None;
        Ok(())
    }
}

/// Whether the segment's pieces need UTF-16 positions (only UTF-16 sources
/// do; counting them costs a pass over the text).
fn place_needs_utf16(seg: &Segment) -> bool {
    seg.pieces.last().is_some_and(|p| p.place.encoding.is_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_points_fall_after_whitespace_on_char_boundaries() {
        let s = "aaaa bbbb cccc";
        assert_eq!(cut_point(s, 12, 4), 10);
        assert_eq!(cut_point("ééééé", 5, 0), 4);
        assert_eq!(floor_boundary("aé", 2), 1);
    }

    #[test]
    fn controls_become_spaces_of_equal_length() {
        let s = "a\0b\u{85}c\n";
        let t = sanitize(s);
        assert_eq!(t.len(), s.len());
        assert_eq!(t, "a b  c\n");
    }
}
