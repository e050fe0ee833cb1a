//! Where a file keeps its C2PA manifest store: JPEG APP11 segments, a PNG
//! `caBX` chunk, or the whole of a sidecar `.c2pa` file.

use std::borrow::Cow;
use std::collections::BTreeMap;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The file formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    /// A bare manifest store (a sidecar `.c2pa` file).
    Store,
}

impl Format {
    /// The format of `bytes`, by their first bytes; `None` for others.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\xff\xd8") {
            Some(Format::Jpeg)
        } else if bytes.starts_with(PNG_SIGNATURE) {
            Some(Format::Png)
        } else if bytes.get(4..8) == Some(b"jumb") {
            Some(Format::Store)
        } else {
            None
        }
    }

    /// Where the store is, for messages.
    pub fn place(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG APP11 segments",
            Format::Png => "PNG caBX chunk",
            Format::Store => "manifest store",
        }
    }
}

/// The manifest store's bytes in `bytes` of `format`: `Ok(None)` when the
/// file carries none.
pub(crate) fn store(bytes: &[u8], format: Format) -> Result<Option<Cow<'_, [u8]>>, String> {
    match format {
        Format::Jpeg => jpeg(bytes).map(|s| s.map(Cow::Owned)),
        Format::Png => png(bytes).map(|s| s.map(Cow::Borrowed)),
        Format::Store => Ok(Some(Cow::Borrowed(bytes))),
    }
}

/// The C2PA store of a JPEG. It is JUMBF in APP11 segments (ISO 19566-5
/// Annex B): each payload is `JP`, a box instance number, a sequence
/// number, then a piece of the superbox; every piece after the first
/// repeats the superbox's header, which is dropped when they are joined.
/// Segments stop at the first scan (SOS): metadata comes before it.
fn jpeg(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut instances: BTreeMap<u16, Vec<(u32, &[u8])>> = BTreeMap::new();
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xff {
            return Err(format!("byte {at}: JPEG marker expected"));
        }
        let marker = bytes[at + 1];
        if marker == 0xff || marker == 0x01 || (0xd0..=0xd7).contains(&marker) {
            // Fill byte, or a marker without a length.
            at += if marker == 0xff { 1 } else { 2 };
            continue;
        }
        if marker == 0xda || marker == 0xd9 {
            break;
        }
        let len = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        let payload = bytes
            .get(at + 4..at + 2 + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| format!("byte {at}: JPEG segment of {len} bytes runs past the end"))?;
        if marker == 0xeb && payload.len() >= 8 && payload.starts_with(b"JP") {
            let instance = u16::from_be_bytes([payload[2], payload[3]]);
            let seq = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
            instances.entry(instance).or_default().push((seq, &payload[8..]));
        }
        at += 2 + len;
    }
    let stores: Vec<Vec<u8>> = instances.into_values().filter_map(|pieces| join(pieces)).collect();
    // A JPEG may hold other JUMBF (not C2PA); the C2PA store is labelled `c2pa`.
    Ok(stores.into_iter().find(|s| is_c2pa_store(s)))
}

/// The superbox from its pieces, in sequence order; `None` when a piece
/// after the first is too short to repeat the header.
fn join(mut pieces: Vec<(u32, &[u8])>) -> Option<Vec<u8>> {
    pieces.sort_by_key(|(seq, _)| *seq);
    let (_, first) = pieces.first()?;
    let header = if first.get(..4) == Some(&[0, 0, 0, 1]) { 16 } else { 8 };
    let mut out = first.to_vec();
    for (_, p) in &pieces[1..] {
        out.extend_from_slice(p.get(header..)?);
    }
    Some(out)
}

/// Whether `store` starts with a `jumb` box whose description is C2PA's
/// (type UUID `c2pa…`).
fn is_c2pa_store(store: &[u8]) -> bool {
    let jumd = if store.get(..4) == Some(&[0, 0, 0, 1]) { 16 } else { 8 };
    store.get(4..8) == Some(b"jumb") && store.get(jumd + 8..jumd + 12) == Some(b"c2pa")
}

/// The `caBX` chunk of a PNG; chunks stop at `IEND`.
fn png(bytes: &[u8]) -> Result<Option<&[u8]>, String> {
    let mut at = PNG_SIGNATURE.len();
    while at < bytes.len() {
        let head = bytes.get(at..at + 8).ok_or_else(|| format!("byte {at}: truncated PNG chunk header"))?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let data = bytes
            .get(at + 8..)
            .and_then(|rest| rest.get(..len))
            .ok_or_else(|| format!("byte {at}: PNG chunk of {len} bytes runs past the end"))?;
        match kind {
            b"caBX" => return Ok(Some(data)),
            b"IEND" => break,
            _ => {}
        }
        at = at + 12 + len;
    }
    Ok(None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::c2pa::jumbf::tests::{boxed, superbox};

    /// A JPEG holding `store` in APP11 segments of at most `piece` bytes of
    /// the store each (as ISO 19566-5 splits it).
    pub(crate) fn jpeg_with(store: &[u8], piece: usize) -> Vec<u8> {
        let mut out = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00".to_vec();
        let header = &store[..8];
        for (i, chunk) in store.chunks(piece.max(1)).enumerate() {
            let mut payload = b"JP\x00\x01".to_vec();
            payload.extend_from_slice(&(i as u32 + 1).to_be_bytes());
            if i > 0 {
                payload.extend_from_slice(header);
            }
            payload.extend_from_slice(chunk);
            out.extend_from_slice(&[0xff, 0xeb]);
            out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
            out.extend_from_slice(&payload);
        }
        out.extend_from_slice(b"\xff\xda\x00\x02\x00\xff\xd9");
        out
    }

    /// A PNG (no image data worth the name) with `store` in a caBX chunk.
    pub(crate) fn png_with(store: &[u8]) -> Vec<u8> {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0; 4]);
            c
        };
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        out.extend(chunk(b"caBX", store));
        out.extend(chunk(b"IEND", b""));
        out
    }

    fn a_store() -> Vec<u8> {
        superbox(b"c2pa", "c2pa", &[boxed(b"cbor", &[0xa0; 300])])
    }

    #[test]
    fn jpeg_pieces_are_joined_in_sequence_order() {
        let s = a_store();
        for piece in [64, 100, 1000] {
            let j = jpeg_with(&s, piece);
            assert_eq!(Format::sniff(&j), Some(Format::Jpeg));
            assert_eq!(store(&j, Format::Jpeg).unwrap().as_deref(), Some(&s[..]), "piece {piece}");
        }
        let plain = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02".to_vec();
        assert_eq!(store(&plain, Format::Jpeg).unwrap(), None);
    }

    #[test]
    fn png_chunk_is_found() {
        let s = a_store();
        let p = png_with(&s);
        assert_eq!(Format::sniff(&p), Some(Format::Png));
        assert_eq!(store(&p, Format::Png).unwrap().as_deref(), Some(&s[..]));
        assert_eq!(Format::sniff(&s), Some(Format::Store));
        assert_eq!(Format::sniff(b"GIF89a"), None);
    }

    #[test]
    fn truncated_carriers_are_errors() {
        let j = jpeg_with(&a_store(), 100);
        let e = store(&j[..60], Format::Jpeg).unwrap_err();
        assert!(e.contains("runs past the end"), "{e}");
        let p = png_with(&a_store());
        assert!(store(&p[..40], Format::Png).unwrap_err().contains("PNG chunk"));
        let mut huge = p.clone();
        huge[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(store(&huge, Format::Png).is_err());
    }
}
