//! JSON Lines (RAG and kNN datastores, example banks): the string values of
//! each record, as one segment per line with each value's JSON path. A line
//! that is not JSON is scanned as text.

use std::io::{BufRead, Read};

use serde_json::Value;

use super::{Ctx, Src};
use crate::error::Result;
use crate::place::{Encoding, Format, Place, Sink};

/// The longest line read.
const MAX_LINE: u64 = 64 << 20;

pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
    let members = ctx.members.clone();
    let mut line = Vec::new();
    let mut not_json = 0u64;
    for row in 1u64.. {
        line.clear();
        let at = src.pos;
        let n =
            (&mut *src).take(MAX_LINE + 1).read_until(b'\n', &mut line).map_err(|e| ctx.read_err(at, e))?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_LINE {
            return Err(ctx.err(at, format!("line {row} is longer than {} MiB", MAX_LINE >> 20)));
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        sink.begin(Format::Jsonl, &members)?;
        match serde_json::from_slice::<Value>(text) {
            Ok(v) => strings_of(&v, &mut String::new(), &mut |path, s| {
                sink.text(
                    s,
                    Place {
                        offset: Some(at),
                        row: Some(row),
                        field: Some(path.to_string()),
                        ..Place::default()
                    },
                )?;
                sink.gap()
            })?,
            Err(_) => {
                not_json += 1;
                let s = String::from_utf8_lossy(&line);
                sink.text(
                    &s,
                    Place { offset: Some(at), row: Some(row), encoding: Encoding::Utf8, ..Place::default() },
                )?;
            }
        }
        sink.end()?;
    }
    if not_json > 0 {
        ctx.summary.warnings.push(format!(
            "{}{}: {not_json} line(s) are not JSON; scanned as text",
            ctx.path.display(),
            crate::place::members_label(&ctx.members)
        ));
    }
    Ok(())
}

/// Calls `f` with the JSON pointer and text of every string in `v`.
fn strings_of(v: &Value, path: &mut String, f: &mut dyn FnMut(&str, &str) -> Result<()>) -> Result<()> {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("/{i}"));
            let done = strings_of(item, path, f);
            path.truncate(len);
            done
        }),
        Value::Object(map) => map.iter().try_for_each(|(k, item)| {
            let len = path.len();
            path.push('/');
            path.push_str(&k.replace('~', "~0").replace('/', "~1"));
            let done = strings_of(item, path, f);
            path.truncate(len);
            done
        }),
        _ => Ok(()),
    }
}
