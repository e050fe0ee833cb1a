//! NumPy `.npy` arrays of token ids (kNN-LM datastores keep the corpus as
//! one: the next token of every context), decoded with the model's
//! tokenizer. A 1-D array is one segment; a 2-D array one segment per row.
//!
//! The header is a Python dict literal (`{'descr': '<i4', 'fortran_order':
//! False, 'shape': (1000,), }`); its few fields are parsed here, and the
//! data it declares is checked against the file before any is read.

use std::path::Path;

use super::{strings, Ctx, Src};
use crate::error::{ArtefactError, Result};
use crate::place::{Format, Place, Sink};

/// Token ids decoded together (a piece of the segment: its `index` is the
/// first id's).
const CHUNK: usize = 64;
/// The longest header read.
const MAX_HEADER: u32 = 1 << 20;

/// A tokenizer that turns token ids back into text.
pub struct TokenDecoder {
    inner: tokenizers::Tokenizer,
}

impl std::fmt::Debug for TokenDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenDecoder").finish_non_exhaustive()
    }
}

impl TokenDecoder {
    /// Reads a Hugging Face `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| ArtefactError::Tokenizer(format!("{}: {e}", path.display())))?;
        Ok(Self { inner })
    }

    /// The text of `ids`.
    fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| ArtefactError::Tokenizer(e.to_string()))
    }

    /// Whether decoded stretches are joined as they are (a decoder that
    /// restores spaces, as byte-level BPE's does) or with a space (a
    /// tokenizer without one joins its tokens with spaces).
    fn joins_bare(&self) -> bool {
        self.inner.get_decoder().is_some()
    }
}

/// The header's fields that matter here.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    big_endian: bool,
    signed: bool,
    size: usize,
    shape: Vec<u64>,
}

/// Parses the header dict.
fn parse_header(h: &str) -> Result<Header, String> {
    let field = |name: &str| -> Result<&str, String> {
        let key = format!("'{name}':");
        let at = h.find(&key).ok_or_else(|| format!("the header has no {name:?}"))?;
        Ok(h[at + key.len()..].trim_start())
    };
    let descr = field("descr")?;
    let descr =
        descr.strip_prefix('\'').and_then(|d| d.split('\'').next()).ok_or("'descr' is not a string")?;
    let (order, kind) = match descr.as_bytes() {
        [o @ (b'<' | b'>' | b'|' | b'='), k @ ..] => (*o, k),
        k => (b'=', k),
    };
    let (signed, size) = match kind {
        [b'i', n] => (true, *n),
        [b'u', n] => (false, *n),
        _ => return Err(format!("dtype {descr:?} is not an integer type (token ids are)")),
    };
    let size = match size {
        b'1' => 1,
        b'2' => 2,
        b'4' => 4,
        b'8' => 8,
        _ => return Err(format!("dtype {descr:?} is not an integer type (token ids are)")),
    };
    let fortran = field("fortran_order")?.starts_with("True");
    let shape = field("shape")?;
    let inner = shape.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or("'shape' is not a tuple")?;
    let shape: Vec<u64> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L').parse::<u64>().map_err(|_| format!("shape entry {s:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    if shape.len() > 2 {
        return Err(format!("a {}-D array (token ids come as 1-D or 2-D)", shape.len()));
    }
    if fortran && shape.len() == 2 {
        return Err("a Fortran-order 2-D array (rows would not be contiguous)".into());
    }
    Ok(Header { big_endian: order == b'>', signed, size, shape })
}

impl Header {
    fn id(&self, b: &[u8]) -> Option<u32> {
        let mut w = [0u8; 8];
        let v: i128 = if self.big_endian {
            w[8 - self.size..].copy_from_slice(b);
            let u = u64::from_be_bytes(w);
            self.extend(u)
        } else {
            w[..self.size].copy_from_slice(b);
            self.extend(u64::from_le_bytes(w))
        };
        u32::try_from(v).ok()
    }

    /// The value of `size` raw bytes, sign-extended if signed.
    fn extend(&self, u: u64) -> i128 {
        let bits = 8 * self.size as u32;
        if self.signed && bits < 64 && u >> (bits - 1) & 1 == 1 {
            u as i128 - (1i128 << bits)
        } else if self.signed && bits == 64 {
            u as i64 as i128
        } else {
            u as i128
        }
    }
}

pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
    let mut pre = [0u8; 8];
    src.exact(&mut pre).map_err(|e| ctx.read_err(0, e))?;
    let major = pre[6];
    let hlen = if major == 1 {
        let mut b = [0u8; 2];
        src.exact(&mut b).map_err(|e| ctx.read_err(8, e))?;
        u16::from_le_bytes(b) as u32
    } else if major == 2 || major == 3 {
        let mut b = [0u8; 4];
        src.exact(&mut b).map_err(|e| ctx.read_err(8, e))?;
        u32::from_le_bytes(b)
    } else {
        return Err(ctx.err(6, format!(".npy format version {major} (versions 1 to 3 are read)")));
    };
    if hlen > MAX_HEADER || src.remaining().is_some_and(|l| u64::from(hlen) > l) {
        return Err(ctx.err(
            8,
            format!(".npy header of {hlen} bytes declared, more than the file or {MAX_HEADER} bytes"),
        ));
    }
    let hstart = src.pos;
    let mut raw = vec![0u8; hlen as usize];
    src.exact(&mut raw).map_err(|e| ctx.read_err(hstart, e))?;
    let header = std::str::from_utf8(&raw)
        .map_err(|_| "the header is not text".to_string())
        .and_then(parse_header)
        .map_err(|why| ctx.err(hstart, format!("invalid .npy header: {why}")))?;
    let count = header.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    let bytes = count.and_then(|c| c.checked_mul(header.size as u64));
    let data_at = src.pos;
    match (bytes, src.remaining()) {
        (None, _) => return Err(ctx.err(hstart, format!("shape {:?} overflows", header.shape))),
        (Some(b), Some(left)) if b > left => {
            return Err(ctx.err(
                data_at,
                format!("shape {:?} declares {b} bytes of data, only {left} follow", header.shape),
            ))
        }
        _ => {}
    }
    let Some(tok) = ctx.opts.tokenizer.clone() else {
        ctx.summary.warnings.push(format!(
            "{}{}: token-id array read as bytes (give a tokenizer to decode it)",
            ctx.path.display(),
            crate::place::members_label(&ctx.members)
        ));
        return strings::extract(ctx, src, sink);
    };
    let count = count.unwrap_or(0);
    let (rows, per_row) = match header.shape[..] {
        [r, c] => (r, c),
        [n] => (1, n),
        _ => (1, 1), // a 0-D array: one id
    };
    let members = ctx.members.clone();
    let mut ids = TokenStream { ctx, src, header: &header, data_at, next: 0, count };
    for row in 0..rows {
        sink.begin(Format::Npy, &members)?;
        decode_row(&mut ids, &tok, row, per_row, rows > 1, sink)?;
        sink.end()?;
    }
    Ok(())
}

/// The array's ids, read as they are needed.
struct TokenStream<'a, 'c, 's, 'r> {
    ctx: &'a Ctx<'c>,
    src: &'s mut Src<'r>,
    header: &'a Header,
    data_at: u64,
    next: u64,
    count: u64,
}

impl TokenStream<'_, '_, '_, '_> {
    /// Up to `n` next ids (negative or too large ones dropped: padding).
    fn take(&mut self, n: u64, out: &mut Vec<u32>) -> Result<()> {
        let n = n.min(self.count - self.next);
        let mut buf = vec![0u8; n as usize * self.header.size];
        let at = self.src.pos;
        self.src.exact(&mut buf).map_err(|e| self.ctx.read_err(at, e))?;
        out.extend(buf.chunks_exact(self.header.size).filter_map(|b| self.header.id(b)));
        self.next += n;
        Ok(())
    }
}

/// Decodes one row in stretches of [`CHUNK`] ids. A stretch whose text ends
/// inside a character (byte-level BPE splits them) keeps its last ids for
/// the next.
fn decode_row(
    s: &mut TokenStream<'_, '_, '_, '_>,
    tok: &TokenDecoder,
    row: u64,
    per_row: u64,
    two_d: bool,
    sink: &mut dyn Sink,
) -> Result<()> {
    let mut ids: Vec<u32> = Vec::new();
    let mut first = s.next;
    let end = s.next + per_row;
    let mut pushed = false;
    while s.next < end || !ids.is_empty() {
        if s.next < end {
            s.take((CHUNK as u64).min(end - s.next), &mut ids)?;
        }
        let mut keep = 0;
        let mut text = tok.decode(&ids)?;
        while s.next < end && text.ends_with('\u{FFFD}') && keep < 3 && keep + 1 < ids.len() {
            keep += 1;
            text = tok.decode(&ids[..ids.len() - keep])?;
        }
        if pushed && !tok.joins_bare() {
            text.insert(0, ' ');
        }
        let index = if two_d { first - row * per_row } else { first };
        let place = Place {
            offset: Some(s.data_at + first * s.header.size as u64),
            row: two_d.then_some(row + 1),
            index: Some(index),
            ..Place::default()
        };
        sink.text(&text, place)?;
        pushed = true;
        let used = ids.len() - keep;
        ids.drain(..used);
        first = s.next - ids.len() as u64;
        if s.next >= end && keep == 0 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_bad_ones_say_why() {
        let h = parse_header("{'descr': '<i4', 'fortran_order': False, 'shape': (1000,), }").unwrap();
        assert_eq!(h, Header { big_endian: false, signed: true, size: 4, shape: vec![1000] });
        let h = parse_header("{'descr': '>u2', 'fortran_order': False, 'shape': (3, 7), }").unwrap();
        assert_eq!((h.big_endian, h.signed, h.size, h.shape), (true, false, 2, vec![3, 7]));
        assert!(parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")
            .unwrap_err()
            .contains("not an integer"));
        assert!(parse_header("{'descr': '<i4', 'shape': (3,), }").unwrap_err().contains("fortran_order"));
        assert!(parse_header("{'descr': '<i4', 'fortran_order': False, 'shape': (x,), }").is_err());
        assert!(parse_header("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2, 3), }").is_err());
    }

    #[test]
    fn ids_are_read_in_their_byte_order_and_sign() {
        let le = Header { big_endian: false, signed: true, size: 2, shape: vec![] };
        assert_eq!(le.id(&[0x34, 0x12]), Some(0x1234));
        assert_eq!(le.id(&[0xff, 0xff]), None); // -1: padding
        let be = Header { big_endian: true, signed: false, size: 4, shape: vec![] };
        assert_eq!(be.id(&[0, 0, 1, 2]), Some(0x102));
    }
}
