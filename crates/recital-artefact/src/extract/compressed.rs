//! gzip and zstd members: decompressed as a stream and read as whatever
//! their content is (recursively, up to `max_depth`), whether they make up a
//! whole file or were found inside one by their magic number.

use std::io::{BufReader, Seek, SeekFrom};

use super::{io_err, strings, Ctx, Kind, Src};
use crate::error::{ArtefactError, Result};
use crate::place::{Member, Sink};

/// gzip's magic number and its only compression method (deflate).
pub(crate) const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b, 0x08];
/// A zstd frame's magic number.
pub(crate) const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// A stream that starts with a member (the whole file, or a member's content).
pub(crate) fn extract(ctx: &mut Ctx<'_>, src: &mut Src<'_>, kind: Kind, sink: &mut dyn Sink) -> Result<()> {
    if ctx.members.len() >= ctx.opts.max_depth {
        ctx.summary.warnings.push(format!(
            "{}{}: members nested deeper than {} are read as bytes",
            ctx.path.display(),
            crate::place::members_label(&ctx.members),
            ctx.opts.max_depth
        ));
        return strings::extract(ctx, src, sink);
    }
    let offset = src.pos;
    let name = if kind == Kind::Gzip { "gzip" } else { "zstd" };
    let mut inner = decoder(name, src, true).map_err(|e| ctx.read_err(offset, e))?;
    ctx.members.push(Member { kind: name, offset });
    ctx.summary.members += 1;
    let done = ctx.stream(&mut inner, sink);
    ctx.members.pop();
    done
}

/// The content of a member whose compressed bytes `src` gives: every member
/// (frame) that follows, for a whole stream; only the first, for one found
/// inside other bytes (what follows it is not compressed).
fn decoder<'r>(kind: &str, src: impl std::io::BufRead + 'r, whole: bool) -> std::io::Result<Src<'r>> {
    let content: Box<dyn std::io::Read + 'r> = match (kind, whole) {
        ("gzip", true) => Box::new(flate2::bufread::MultiGzDecoder::new(src)),
        ("gzip", false) => Box::new(flate2::bufread::GzDecoder::new(src)),
        (_, true) => Box::new(zstd::stream::read::Decoder::with_buffer(src)?),
        (_, false) => Box::new(zstd::stream::read::Decoder::with_buffer(src)?.single_frame()),
    };
    Ok(Src::new(Box::new(BufReader::with_capacity(1 << 16, content)), None))
}

/// A member found by its magic number at `offset` of the file. Magic numbers
/// also occur by chance in binary data: a candidate that yields no content
/// is passed over in silence; one that breaks after yielding some is noted.
pub(crate) fn embedded(
    ctx: &mut Ctx<'_>,
    offset: u64,
    kind: &'static str,
    sink: &mut dyn Sink,
) -> Result<()> {
    let mut file = std::fs::File::open(ctx.path).map_err(|e| io_err(ctx.path, e))?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| io_err(ctx.path, e))?;
    let mut inner = match decoder(kind, BufReader::with_capacity(1 << 16, file), false) {
        Ok(s) => s,
        Err(_) => return Ok(()),
    };
    // Nothing to read unless some content comes out.
    match inner.peek(1) {
        Ok([_, ..]) => {}
        _ => return Ok(()),
    }
    ctx.members.push(Member { kind, offset });
    let done = ctx.stream(&mut inner, sink);
    ctx.members.pop();
    match done {
        Ok(()) => {
            ctx.summary.members += 1;
            Ok(())
        }
        Err(e @ (ArtefactError::Format { .. } | ArtefactError::Io { .. })) => {
            if inner.pos > 0 {
                ctx.summary.members += 1;
                ctx.summary.warnings.push(format!("{kind} member at offset {offset}: {e}"));
            }
            sink.end()
        }
        Err(e) => Err(e),
    }
}
