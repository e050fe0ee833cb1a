//! Parquet files, as Hugging Face datasets ship them: one document per row,
//! read as a JSONL record is (`files::record_doc`): the text and id columns
//! (`--text-field`, `--id-field`), and `path` or `title`, `lang`, `license`
//! and `url` where the file has them. Only those columns are decoded, a row
//! group at a time.

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use parquet::schema::types::Type;
use serde_json::{Map, Value};

use super::files::{record_doc, IngestOptions, IngestReport, InputFile};
use crate::error::{IndexError, Result};
use crate::shard_build::DocInput;

/// Columns read besides the text and id columns.
const EXTRA: &[&str] = &["path", "title", "lang", "language", "license", "spdx", "url"];

pub(super) fn read_parquet(
    f: &InputFile,
    opts: &IngestOptions,
    report: &mut IngestReport,
    sink: &mut impl FnMut(&DocInput<'_>) -> Result<()>,
) -> Result<()> {
    let fail = |why: String| IndexError::Input(format!("{}: {why}", f.path.display()));
    let file = std::fs::File::open(&f.path).map_err(|e| IndexError::io(&f.path, e))?;
    let reader =
        SerializedFileReader::new(file).map_err(|e| fail(format!("not a readable Parquet file: {e}")))?;
    let text_field = opts.text_field.as_deref().unwrap_or("text");
    let id_field = opts.id_field.as_deref().unwrap_or("id");
    let projection =
        projection(reader.metadata().file_metadata().schema(), text_field, id_field).map_err(fail)?;
    let rows = reader.get_row_iter(Some(projection)).map_err(|e| fail(e.to_string()))?;
    for (i, row) in rows.enumerate() {
        let n = format!("row {}", i + 1);
        let row = row.map_err(|e| fail(format!("{n}: {e}")))?;
        record_doc(f, &record(&row), &n, opts, report, sink)?;
    }
    Ok(())
}

/// The file's schema cut to the columns a document is made of.
fn projection(schema: &Type, text_field: &str, id_field: &str) -> std::result::Result<Type, String> {
    let fields = schema.get_fields();
    if !fields.iter().any(|t| t.name() == text_field) {
        let names: Vec<&str> = fields.iter().map(|t| t.name()).collect();
        return Err(format!(
            "no column {text_field:?} (columns: {}; choose it with --text-field)",
            names.join(", ")
        ));
    }
    let keep = fields
        .iter()
        .filter(|t| t.name() == text_field || t.name() == id_field || EXTRA.contains(&t.name()))
        .cloned()
        .collect();
    Type::group_type_builder(schema.name()).with_fields(keep).build().map_err(|e| e.to_string())
}

/// A row as the JSON object a JSONL line would hold. Columns of other
/// types (lists, structs) are left out: `record_doc` then names a text
/// column that is not a string.
fn record(row: &Row) -> Map<String, Value> {
    let mut obj = Map::new();
    for (name, field) in row.get_column_iter() {
        let v = match field {
            Field::Str(s) => Value::String(s.clone()),
            Field::Bytes(b) => Value::String(String::from_utf8_lossy(b.data()).into_owned()),
            Field::Bool(b) => Value::Bool(*b),
            Field::Byte(n) => (*n).into(),
            Field::Short(n) => (*n).into(),
            Field::Int(n) => (*n).into(),
            Field::Long(n) => (*n).into(),
            Field::UByte(n) => (*n).into(),
            Field::UShort(n) => (*n).into(),
            Field::UInt(n) => (*n).into(),
            Field::ULong(n) => (*n).into(),
            Field::Null => Value::Null,
            _ => continue,
        };
        obj.insert(name.clone(), v);
    }
    obj
}
