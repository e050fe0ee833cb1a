//! Parquet datastores: the string values of every row (nested groups and
//! lists included), one segment per row, each under its column path. The
//! row reader streams row group by row group.

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use super::Ctx;
use crate::error::Result;
use crate::place::{Format, Place, Sink};

pub(crate) fn extract(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> Result<()> {
    let fail = |e: String| ctx.err(0, format!("Parquet: {e}"));
    let file = std::fs::File::open(ctx.path).map_err(|e| super::io_err(ctx.path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| fail(e.to_string()))?;
    let rows = reader.get_row_iter(None).map_err(|e| fail(e.to_string()))?;
    for (i, row) in rows.enumerate() {
        let row = row.map_err(|e| fail(format!("row {}: {e}", i + 1)))?;
        sink.begin(Format::Parquet, &[])?;
        strings_of_row(&row, "", i as u64 + 1, sink)?;
        sink.end()?;
    }
    Ok(())
}

fn strings_of_row(row: &Row, prefix: &str, n: u64, sink: &mut dyn Sink) -> Result<()> {
    for (name, field) in row.get_column_iter() {
        strings_of(field, &format!("{prefix}{name}"), n, sink)?;
    }
    Ok(())
}

fn strings_of(field: &Field, path: &str, n: u64, sink: &mut dyn Sink) -> Result<()> {
    match field {
        Field::Str(s) => {
            sink.text(s, Place { row: Some(n), field: Some(path.to_string()), ..Place::default() })?;
            sink.gap()
        }
        Field::Group(g) => strings_of_row(g, &format!("{path}."), n, sink),
        Field::ListInternal(list) => list
            .elements()
            .iter()
            .enumerate()
            .try_for_each(|(i, f)| strings_of(f, &format!("{path}[{i}]"), n, sink)),
        Field::MapInternal(map) => map
            .entries()
            .iter()
            .try_for_each(|(k, v)| strings_of(k, path, n, sink).and_then(|()| strings_of(v, path, n, sink))),
        _ => Ok(()),
    }
}
