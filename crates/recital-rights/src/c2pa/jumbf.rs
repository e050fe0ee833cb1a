//! JUMBF (ISO/IEC 19566-5) boxes, as far as a C2PA manifest store needs
//! them: superboxes (`jumb`) with their description (`jumd`: type UUID and
//! label) and content boxes (`cbor`, `json`, …).
//!
//! Every length is checked against the bytes that are there before it is
//! used, and nesting is bounded, so a truncated or hostile store gives an
//! error naming the byte offset, never a panic or a huge allocation.

/// Superboxes nest deeper than this only in a hostile store (a C2PA store
/// is four levels: store, manifest, assertion store, assertion).
const MAX_DEPTH: usize = 16;

/// A superbox's first four type-UUID bytes, which name its C2PA role (the
/// other twelve are the fixed ISO suffix).
pub(crate) type Kind4 = [u8; 4];

/// One `jumb` superbox: its description, and its children in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SuperBox<'a> {
    /// The first four bytes of the type UUID (`c2pa`, `c2ma`, `c2as`, `cbor`…).
    pub kind: Kind4,
    /// The label (`c2pa`, `urn:c2pa:…`, `c2pa.training-mining`), empty if none.
    pub label: String,
    pub children: Vec<Child<'a>>,
}

/// A box inside a superbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Child<'a> {
    Super(SuperBox<'a>),
    /// A content box: its four-character type and its payload.
    Content(Kind4, &'a [u8]),
}

impl<'a> SuperBox<'a> {
    /// The superbox that `bytes` is, which must be exactly one `jumb` box.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        let mut boxes = Boxes { bytes, at: 0, base: 0 };
        let b = boxes.next_box()?.ok_or("no JUMBF box")?;
        if &b.kind != b"jumb" {
            return Err(format!("not a JUMBF superbox: box type {}", show(&b.kind)));
        }
        Self::parse_body(b.payload, b.at, 0)
    }

    /// The child superboxes.
    pub fn supers(&self) -> impl Iterator<Item = &SuperBox<'a>> {
        self.children.iter().filter_map(|c| match c {
            Child::Super(s) => Some(s),
            Child::Content(..) => None,
        })
    }

    /// The child superbox labelled `label`, if any.
    pub fn child(&self, label: &str) -> Option<&SuperBox<'a>> {
        self.supers().find(|s| s.label == label)
    }

    /// The first content box of the superbox, with its type.
    pub fn content(&self) -> Option<(Kind4, &'a [u8])> {
        self.children.iter().find_map(|c| match c {
            Child::Content(k, b) => Some((*k, *b)),
            Child::Super(_) => None,
        })
    }

    /// `body` is the superbox's payload, starting at `offset` of the store.
    fn parse_body(body: &'a [u8], offset: usize, depth: usize) -> Result<Self, String> {
        if depth > MAX_DEPTH {
            return Err(format!("byte {offset}: JUMBF boxes nested deeper than {MAX_DEPTH}"));
        }
        let mut boxes = Boxes { bytes: body, at: 0, base: offset };
        let d = boxes.next_box()?.ok_or_else(|| format!("byte {offset}: empty JUMBF superbox"))?;
        if &d.kind != b"jumd" {
            return Err(format!("byte {}: a JUMBF superbox starts with {}, not jumd", d.at, show(&d.kind)));
        }
        let (uuid_head, label) = description(d.payload, d.at)?;
        let mut children = Vec::new();
        while let Some(b) = boxes.next_box()? {
            children.push(if &b.kind == b"jumb" {
                Child::Super(Self::parse_body(b.payload, b.at, depth + 1)?)
            } else {
                Child::Content(b.kind, b.payload)
            });
        }
        Ok(SuperBox { kind: uuid_head, label, children })
    }
}

/// The type UUID's head and the label of a `jumd` payload: UUID (16 bytes),
/// toggles (1), then a NUL-terminated UTF-8 label when toggle bit 1 is set.
fn description(d: &[u8], at: usize) -> Result<(Kind4, String), String> {
    let too_short = || format!("byte {at}: JUMBF description box of {} bytes", d.len());
    let uuid_head: Kind4 = d.get(..4).and_then(|h| h.try_into().ok()).ok_or_else(too_short)?;
    let toggles = *d.get(16).ok_or_else(too_short)?;
    if toggles & 0x02 == 0 {
        return Ok((uuid_head, String::new()));
    }
    let rest = &d[17..];
    let end =
        rest.iter().position(|&b| b == 0).ok_or_else(|| format!("byte {at}: JUMBF label without its NUL"))?;
    let label =
        std::str::from_utf8(&rest[..end]).map_err(|_| format!("byte {at}: JUMBF label is not UTF-8"))?;
    Ok((uuid_head, label.to_string()))
}

/// One box: its type, its payload, and where the payload starts in the store.
struct RawBox<'a> {
    kind: Kind4,
    payload: &'a [u8],
    at: usize,
}

/// The boxes laid end to end in `bytes` (which start at `base` of the store).
struct Boxes<'a> {
    bytes: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Boxes<'a> {
    /// The next box, if any.
    fn next_box(&mut self) -> Result<Option<RawBox<'a>>, String> {
        let rest = &self.bytes[self.at..];
        if rest.is_empty() {
            return Ok(None);
        }
        let start = self.base + self.at;
        let header = rest.get(..8).ok_or_else(|| format!("byte {start}: truncated box header"))?;
        let lbox = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
        let kind: Kind4 = [header[4], header[5], header[6], header[7]];
        let (len, head) = match lbox {
            0 => (rest.len() as u64, 8),
            1 => {
                let x = rest.get(8..16).ok_or_else(|| format!("byte {start}: truncated box length"))?;
                (u64::from_be_bytes(x.try_into().expect("8 bytes")), 16)
            }
            n => (n, 8),
        };
        if len < head as u64 || len > rest.len() as u64 {
            return Err(format!(
                "byte {start}: {} box claims {len} bytes, {} are there",
                show(&kind),
                rest.len()
            ));
        }
        let len = len as usize;
        self.at += len;
        Ok(Some(RawBox { kind, payload: &rest[head..len], at: start + head }))
    }
}

/// A box type for messages (`jumb`, or its bytes escaped).
fn show(kind: &Kind4) -> String {
    kind.escape_ascii().to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A box of `kind` around `payload`.
    pub(crate) fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// A superbox of type `uuid_head` labelled `label` around `children`.
    pub(crate) fn superbox(uuid_head: &[u8; 4], label: &str, children: &[Vec<u8>]) -> Vec<u8> {
        let mut d = uuid_head.to_vec();
        d.extend_from_slice(&[0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71, 0x03]);
        d.extend_from_slice(label.as_bytes());
        d.push(0);
        let mut body = boxed(b"jumd", &d);
        for c in children {
            body.extend_from_slice(c);
        }
        boxed(b"jumb", &body)
    }

    #[test]
    fn nested_boxes_parse_with_labels() {
        let store = superbox(b"c2pa", "c2pa", &[superbox(b"c2ma", "urn:x", &[boxed(b"cbor", b"\xa0")])]);
        let s = SuperBox::parse(&store).unwrap();
        assert_eq!((&s.kind, s.label.as_str()), (b"c2pa", "c2pa"));
        let m = s.child("urn:x").unwrap();
        assert_eq!(m.content(), Some((*b"cbor", &b"\xa0"[..])));
    }

    #[test]
    fn lengths_that_lie_are_errors_with_the_offset() {
        let mut store = superbox(b"c2pa", "c2pa", &[boxed(b"cbor", b"abc")]);
        let inner = store.len() - 11;
        store[inner..inner + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = SuperBox::parse(&store).unwrap_err();
        assert!(e.contains("cbor box claims 4294967295 bytes"), "{e}");
        let e = SuperBox::parse(&store[..20]).unwrap_err();
        assert!(e.contains("jumb box claims"), "{e}");
        // A 64-bit length beyond the input, and one shorter than its header.
        let mut big = vec![0, 0, 0, 1];
        big.extend_from_slice(b"jumb");
        big.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(SuperBox::parse(&big).unwrap_err().contains("claims"));
        assert!(SuperBox::parse(&[0, 0, 0, 3, b'j', b'u', b'm', b'b']).is_err());
        assert!(SuperBox::parse(b"").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let mut b = boxed(b"cbor", b"");
        for _ in 0..40 {
            b = superbox(b"cbor", "x", &[b]);
        }
        assert!(SuperBox::parse(&b).unwrap_err().contains("nested deeper"));
    }
}
