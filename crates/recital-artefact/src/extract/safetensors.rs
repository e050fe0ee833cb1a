//! safetensors: the JSON header's `__metadata__` values and tensor names
//! (the header read and validated by the `safetensors` crate), then the
//! tensor data as bytes.

use std::io::Read;

use safetensors::tensor::Metadata;

use super::{strings, Ctx, Src};
use crate::error::Result;
use crate::place::{Encoding, Format, Place, Sink};

/// The largest header the format allows (the `safetensors` crate's limit).
const MAX_HEADER: u64 = 100_000_000;

/// An 8-byte little-endian header length that fits the format, then `{`.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    head.len() > 8 && head[8] == b'{' && {
        let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        (2..=MAX_HEADER).contains(&n)
    }
}

pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
    let mut len = [0u8; 8];
    src.exact(&mut len).map_err(|e| ctx.read_err(0, e))?;
    let n = u64::from_le_bytes(len);
    if src.remaining().is_some_and(|left| n > left) {
        return Err(ctx.err(
            0,
            format!("header of {n} bytes declared, only {} bytes follow", src.remaining().unwrap_or(0)),
        ));
    }
    let mut header = Vec::new();
    let got = src.take(n).read_to_end(&mut header).map_err(|e| ctx.read_err(8, e))?;
    if (got as u64) < n {
        return Err(ctx.err(8, format!("header of {n} bytes declared, the data ends after {got}")));
    }
    let meta: Metadata =
        serde_json::from_slice(&header).map_err(|e| ctx.err(8, format!("not a safetensors header: {e}")))?;
    let data = meta.data_len() as u64;
    if src.remaining().is_some_and(|left| data > left) {
        return Err(ctx.err(
            8 + n,
            format!(
                "the header declares {data} bytes of tensor data, only {} follow",
                src.remaining().unwrap_or(0)
            ),
        ));
    }
    let members = ctx.members.clone();
    // Where a JSON string appears in the header (an offset for the report).
    let at = |s: &str| {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        8 + memchr::memmem::find(&header, quoted.as_bytes()).unwrap_or(0) as u64
    };
    let mut entries: Vec<(&String, &String)> = meta.metadata().iter().flatten().collect();
    entries.sort();
    for (key, value) in entries {
        sink.begin(Format::Safetensors, &members)?;
        let field = format!("__metadata__.{key}");
        sink.text(
            value,
            Place {
                offset: Some(at(value)),
                field: Some(field),
                encoding: Encoding::Decoded,
                ..Place::default()
            },
        )?;
        sink.end()?;
    }
    let mut names: Vec<String> = meta.tensors().into_keys().collect();
    names.sort();
    if !names.is_empty() {
        sink.begin(Format::Safetensors, &members)?;
        for name in names {
            sink.text(
                &name,
                Place {
                    offset: Some(at(&name)),
                    field: Some("tensor".into()),
                    encoding: Encoding::Decoded,
                    ..Place::default()
                },
            )?;
            sink.gap()?;
        }
        sink.end()?;
    }
    strings::extract(ctx, src, sink)
}
