//! An order-preserving, prefix-free variable-length code for token ids.
//!
//! Why: a suffix array needs the token stream next to it, and with u32 tokens the
//! stream alone costs 4 bytes per token. Token ids are assigned by descending
//! frequency, so most tokens (punctuation, "the", `;`) get one byte and the stream
//! shrinks to ~1.3–1.6 bytes per token. The code is *order-preserving* (byte-wise
//! comparison of two encoded sequences equals comparison of the id sequences) and
//! *prefix-free*, so the suffix array can store byte offsets of token starts and
//! binary search compares raw bytes with `memcmp` — no decoding on the hot path.
//!
//! | first byte  | length | ids covered                         |
//! |-------------|--------|-------------------------------------|
//! | `0xxxxxxx`  | 1      | 0 ..= 127                           |
//! | `10xxxxxx`  | 2      | next 2^14                           |
//! | `110xxxxx`  | 3      | next 2^21                           |
//! | `1110xxxx`  | 4      | next 2^28                           |
//! | `11110000`  | 5      | the rest of u32                     |
//!
//! Payload bits are big-endian after subtracting the class base, which keeps byte
//! order equal to numeric order within a class, and class prefixes increase with the
//! class, which keeps it across classes.

const B1: u32 = 0x80;
const B2: u32 = B1 + (1 << 14);
const B3: u32 = B2 + (1 << 21);
const B4: u32 = B3 + (1 << 28);

/// Number of bytes `id` takes.
#[inline]
pub fn encoded_len(id: u32) -> usize {
    if id < B1 {
        1
    } else if id < B2 {
        2
    } else if id < B3 {
        3
    } else if id < B4 {
        4
    } else {
        5
    }
}

/// Length of the code that starts with byte `b`.
#[inline]
pub fn len_from_first(b: u8) -> usize {
    if b < 0x80 {
        1
    } else if b < 0xC0 {
        2
    } else if b < 0xE0 {
        3
    } else if b < 0xF0 {
        4
    } else {
        5
    }
}

/// Appends the code of `id` to `out`.
#[inline]
pub fn encode(id: u32, out: &mut Vec<u8>) {
    if id < B1 {
        out.push(id as u8);
    } else if id < B2 {
        let v = id - B1;
        out.extend_from_slice(&[0x80 | (v >> 8) as u8, v as u8]);
    } else if id < B3 {
        let v = id - B2;
        out.extend_from_slice(&[0xC0 | (v >> 16) as u8, (v >> 8) as u8, v as u8]);
    } else if id < B4 {
        let v = id - B3;
        out.extend_from_slice(&[0xE0 | (v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8, v as u8]);
    } else {
        let v = id - B4;
        out.push(0xF0);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Decodes the code at the start of `bytes`: `(id, length)`, or `None` when the
/// bytes end inside a code (a truncated or corrupt stream).
#[inline]
pub fn decode(bytes: &[u8]) -> Option<(u32, usize)> {
    let b0 = *bytes.first()?;
    let len = len_from_first(b0);
    let s = bytes.get(..len)?;
    let id = match len {
        1 => b0 as u32,
        2 => B1 + ((((b0 & 0x3F) as u32) << 8) | s[1] as u32),
        3 => B2 + ((((b0 & 0x1F) as u32) << 16) | ((s[1] as u32) << 8) | s[2] as u32),
        4 => B3 + ((((b0 & 0x0F) as u32) << 24) | ((s[1] as u32) << 16) | ((s[2] as u32) << 8) | s[3] as u32),
        _ => B4.wrapping_add(u32::from_be_bytes([s[1], s[2], s[3], s[4]])),
    };
    Some((id, len))
}

/// Encodes a whole id sequence.
pub fn encode_all(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2);
    for &id in ids {
        encode(id, &mut out);
    }
    out
}

/// Number of whole tokens in the common prefix of two encoded streams (each
/// starting at a token boundary).
#[inline]
pub fn common_prefix_tokens(a: &[u8], b: &[u8]) -> usize {
    let mut i = 0;
    let mut toks = 0;
    loop {
        let (Some(&x), Some(&y)) = (a.get(i), b.get(i)) else {
            return toks;
        };
        if x != y {
            return toks;
        }
        let len = len_from_first(x);
        if a.get(i..i + len) != b.get(i..i + len) || a.len() < i + len {
            return toks;
        }
        i += len;
        toks += 1;
    }
}

/// Byte length of the first `n` tokens of `bytes` (fewer if the stream ends).
#[inline]
pub fn byte_len_of_tokens(bytes: &[u8], n: usize) -> usize {
    let mut i = 0;
    for _ in 0..n {
        match bytes.get(i) {
            Some(&b) => i += len_from_first(b),
            None => break,
        }
    }
    i.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn boundary_ids() -> Vec<u32> {
        let mut v = vec![0, 1, 126, 127, 128, 129];
        for b in [B2, B3, B4] {
            v.extend_from_slice(&[b - 1, b, b + 1]);
        }
        v.extend_from_slice(&[u32::MAX - 1, u32::MAX]);
        v
    }

    #[test]
    fn round_trip_at_class_boundaries() {
        for id in boundary_ids() {
            let mut out = Vec::new();
            encode(id, &mut out);
            assert_eq!(out.len(), encoded_len(id), "len of {id}");
            assert_eq!(decode(&out), Some((id, out.len())), "id {id}");
            assert_eq!(decode(&out[..out.len() - 1]), None, "a truncated code of {id} must not decode");
        }
    }

    #[test]
    fn order_preserved_at_boundaries() {
        let ids = boundary_ids();
        for &a in &ids {
            for &b in &ids {
                assert_eq!(encode_all(&[a]).cmp(&encode_all(&[b])), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    fn any_id() -> impl Strategy<Value = u32> {
        prop_oneof![0u32..200, 0u32..20_000, 0u32..3_000_000, any::<u32>()]
    }

    proptest! {
        #[test]
        fn round_trip(ids in proptest::collection::vec(any_id(), 0..50)) {
            let bytes = encode_all(&ids);
            let mut i = 0;
            let mut back = Vec::new();
            while i < bytes.len() {
                let (id, len) = decode(&bytes[i..]).unwrap();
                back.push(id);
                i += len;
            }
            prop_assert_eq!(back, ids);
        }

        #[test]
        fn sequence_order_preserved(a in proptest::collection::vec(any_id(), 0..8),
                                    b in proptest::collection::vec(any_id(), 0..8)) {
            prop_assert_eq!(encode_all(&a).cmp(&encode_all(&b)), a.cmp(&b));
        }

        #[test]
        fn common_prefix_counts_tokens(a in proptest::collection::vec(0u32..300, 0..12),
                                       b in proptest::collection::vec(0u32..300, 0..12)) {
            let want = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            prop_assert_eq!(common_prefix_tokens(&encode_all(&a), &encode_all(&b)), want);
        }
    }
}
