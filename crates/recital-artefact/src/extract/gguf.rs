//! GGUF (llama.cpp's model file): every string in the metadata, string
//! arrays (a tokenizer's vocabulary and merges) as one segment each with
//! the element of every piece, then the tensor infos and data as bytes.
//!
//! A small reader of our own rather than a crate: the GGUF crates on
//! crates.io (`gguf`, `gguf-rs`) decode the whole metadata into memory,
//! allocating what the file declares before checking it against the file,
//! and do not report where each value lies; candle's reader needs the
//! `candle` feature's slow build. The format is a short list of types
//! (<https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>): we read
//! it as a stream, check every declared length against what is left of the
//! file, and keep one value at a time.

use std::io::Read;

use super::{strings, Ctx, Src};
use crate::error::Result;
use crate::place::{Encoding, Format, Place, Sink};

/// The longest string value read (longer ones are refused as implausible).
const MAX_STRING: u64 = 256 << 20;
/// Arrays nest at most this deep.
const MAX_NESTING: usize = 4;

const STRING: u32 = 8;
const ARRAY: u32 = 9;

/// Bytes of a fixed-size value of type `t`.
fn fixed_size(t: u32) -> Option<u64> {
    Some(match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

struct Reader<'c, 'x, 's, 'r> {
    ctx: &'c Ctx<'x>,
    src: &'s mut Src<'r>,
    big_endian: bool,
    /// Version 1 wrote counts and lengths as 32 bits.
    narrow: bool,
}

impl Reader<'_, '_, '_, '_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        let at = self.src.pos;
        let mut b = [0u8; N];
        self.src.exact(&mut b).map_err(|e| self.ctx.read_err(at, e))?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.bytes::<4>()?;
        Ok(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    fn u64(&mut self) -> Result<u64> {
        if self.narrow {
            return self.u32().map(u64::from);
        }
        let b = self.bytes::<8>()?;
        Ok(if self.big_endian { u64::from_be_bytes(b) } else { u64::from_le_bytes(b) })
    }

    /// A length or count at `at`, checked: `unit` bytes each must fit in
    /// what is left of the file (or under `cap` where the length is unknown).
    fn checked(&self, n: u64, unit: u64, at: u64, what: &str, cap: u64) -> Result<u64> {
        let need = n.checked_mul(unit.max(1));
        let left = self.src.remaining();
        match (need, left) {
            (Some(need), Some(left)) if need <= left => Ok(n),
            (Some(need), None) if need <= cap => Ok(n),
            _ => Err(self.ctx.err(
                at,
                format!(
                    "{what} declares {n} × {unit} bytes, more than {}",
                    left.map_or(format!("{cap} (the limit)"), |l| format!("the {l} bytes left in the file"))
                ),
            )),
        }
    }

    /// A string: its offset and bytes.
    fn string(&mut self, what: &str) -> Result<(u64, Vec<u8>)> {
        let at = self.src.pos;
        let n = self.u64()?;
        let n = self.checked(n, 1, at, what, MAX_STRING)?;
        if n > MAX_STRING {
            return Err(self
                .ctx
                .err(at, format!("{what} declares a string of {n} bytes (at most {MAX_STRING})")));
        }
        let start = self.src.pos;
        let mut buf = Vec::new();
        // Grows with the bytes that arrive, not with the declared length.
        let got = (&mut *self.src).take(n).read_to_end(&mut buf).map_err(|e| self.ctx.read_err(start, e))?;
        if (got as u64) < n {
            return Err(self
                .ctx
                .err(start, format!("{what}: string of {n} bytes declared, the data ends after {got}")));
        }
        Ok((start, buf))
    }
}

/// Pushes one string value as a piece.
fn piece(sink: &mut dyn Sink, at: u64, bytes: &[u8], field: &str, index: Option<u64>) -> Result<()> {
    let (text, encoding) = match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), Encoding::Utf8),
        Err(_) => (String::from_utf8_lossy(bytes), Encoding::Decoded),
    };
    sink.text(
        &text,
        Place { offset: Some(at), index, field: Some(field.to_string()), encoding, ..Place::default() },
    )
}

pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
    let members = ctx.members.clone();
    {
        let mut magic = [0u8; 4];
        src.exact(&mut magic).map_err(|e| ctx.read_err(0, e))?;
        let mut r = Reader { ctx, src, big_endian: false, narrow: false };
        let version = r.u32()?;
        if version > 0xFFFF && version.swap_bytes() <= 0xFFFF {
            r.big_endian = true;
        }
        let version = if r.big_endian { version.swap_bytes() } else { version };
        if !(1..=3).contains(&version) {
            return Err(ctx.err(4, format!("GGUF version {version} (versions 1 to 3 are read)")));
        }
        r.narrow = version == 1;
        let _tensors = r.u64()?;
        let at = r.src.pos;
        let kvs = r.u64()?;
        // A key-value pair takes at least 12 bytes.
        let kvs = r.checked(kvs, 12, at, "the metadata count", 1 << 24)?;
        for _ in 0..kvs {
            let (_, key) = r.string("a metadata key")?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let t = r.u32()?;
            value(&mut r, &key, t, 0, &members, sink)?;
        }
    }
    // Tensor infos and data: names and anything else printable.
    strings::extract(ctx, src, sink)
}

/// Reads one value of type `t` under `key`; strings and string arrays go to
/// the sink, everything else is skipped.
fn value(
    r: &mut Reader<'_, '_, '_, '_>,
    key: &str,
    t: u32,
    depth: usize,
    members: &[crate::place::Member],
    sink: &mut dyn Sink,
) -> Result<()> {
    let at = r.src.pos;
    match t {
        STRING => {
            let (start, bytes) = r.string(key)?;
            sink.begin(Format::Gguf, members)?;
            piece(sink, start, &bytes, key, None)?;
            sink.end()
        }
        ARRAY => {
            if depth >= MAX_NESTING {
                return Err(r.ctx.err(at, format!("{key}: arrays nested more than {MAX_NESTING} deep")));
            }
            let et = r.u32()?;
            let count_at = r.src.pos;
            let n = r.u64()?;
            match (et, fixed_size(et)) {
                (STRING, _) => {
                    let n = r.checked(n, 8, count_at, key, 1 << 32)?;
                    sink.begin(Format::Gguf, members)?;
                    for i in 0..n {
                        let (start, bytes) = r.string(key)?;
                        piece(sink, start, &bytes, key, Some(i))?;
                        sink.gap()?;
                    }
                    sink.end()
                }
                (_, Some(size)) => {
                    let n = r.checked(n, size, count_at, key, u64::MAX)?;
                    r.src.skip(n * size).map_err(|e| r.ctx.read_err(count_at + 8, e))
                }
                (ARRAY, _) => {
                    let n = r.checked(n, 12, count_at, key, 1 << 32)?;
                    (0..n).try_for_each(|_| value(r, key, ARRAY, depth + 1, members, sink))
                }
                _ => Err(r.ctx.err(at, format!("{key}: unknown array element type {et}"))),
            }
        }
        _ => match fixed_size(t) {
            Some(size) => r.src.skip(size).map_err(|e| r.ctx.read_err(at, e)),
            None => Err(r.ctx.err(at.saturating_sub(4), format!("{key}: unknown value type {t}"))),
        },
    }
}
