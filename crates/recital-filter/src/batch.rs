//! Many outputs at once: the batch and CI path (`recital scan --jsonl`).
//!
//! The input is JSONL, one model output per line: an object with a text
//! field (default `text`) and an id field (default `id`, a string or a
//! number; absent: `null`); with the `parquet` feature, also a Parquet file
//! with those columns (`scan_parquet`). Each output is scanned and decided under the
//! judge's policy, and gives one [`BatchLine`], in input order, schema
//! [`SCHEMA`]:
//!
//! ```json
//! {"schema": "recital.scan-batch/1", "line": 7, "id": "out-7", "action": "redact",
//!  "tokens": 212, "coverage": 0.41, "spans": [/* as in recital.scan/1 */],
//!  "decision": {"action": "redact", "jurisdiction": "EU", "spans": [/* one per span */],
//!               "statement": "…", "policy": "everywhere v1"}}
//! ```
//!
//! `line` is the output's line in the input (1-based; blank lines are
//! skipped but counted), `action` the decision's, `spans` the scan's spans
//! with byte, char and UTF-16 offsets into the text field's string, and
//! `decision` the policy's decision with a statement of reasons.
//!
//! A bad line (not JSON, not an object, no text field or not a string, text
//! that looks binary) is an error naming its line, unless
//! [`BatchOptions::skip_bad`]: then it is reported to the caller, counted
//! ([`BatchSummary::skipped`]) and skipped, and has no effect on the
//! outcome. A batch in a CI job should fail on input it could not judge;
//! skipping is a choice the caller makes out loud.
//!
//! Outputs are scanned on several threads, a chunk at a time, and written
//! in input order, so memory is bounded by a chunk whatever the input's size.

use std::io::BufRead;
use std::time::Instant;

use recital_detect::report::Span;
use recital_policy::{Action, Decision};
use serde::Serialize;

use crate::error::FilterError;
use crate::judge::{evaluate, Judge};

/// The schema of every [`BatchLine`].
pub const SCHEMA: &str = "recital.scan-batch/1";

/// Outputs scanned per thread between two writes (bounds memory and
/// latency to the first line, keeps every thread busy).
const PER_THREAD: usize = 32;

/// How a batch is read and judged.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Field holding an output's text.
    pub text_field: String,
    /// Field holding an output's id.
    pub id_field: String,
    /// Skip bad lines (reported and counted) instead of failing.
    pub skip_bad: bool,
    /// Jurisdiction every output is decided for (checked: [`crate::jurisdiction`]).
    pub jurisdiction: String,
    /// Text the caller supplied, exempt in every output.
    pub context: Option<String>,
    /// Scanning threads (at least 1).
    pub threads: usize,
}

impl BatchOptions {
    /// Fields `text` and `id`, bad lines fatal, one thread per core.
    pub fn new(jurisdiction: String) -> Self {
        Self {
            text_field: "text".into(),
            id_field: "id".into(),
            skip_bad: false,
            jurisdiction,
            context: None,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        }
    }
}

/// One output's result: a line of schema [`SCHEMA`].
#[derive(Debug, Serialize)]
pub struct BatchLine {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Line of the output in the input (1-based).
    pub line: u64,
    /// The output's id as given (`null` when absent).
    pub id: serde_json::Value,
    /// The decision's action.
    pub action: Action,
    /// Text tokens of the output.
    pub tokens: usize,
    /// Fraction of the output's tokens inside copies.
    pub coverage: f64,
    /// The spans that copy indexed material (as in `recital.scan/1`).
    pub spans: Vec<Span>,
    /// The policy's decision, with its statement of reasons.
    pub decision: Decision,
}

/// A line that could not be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its line (1-based).
    pub line: u64,
    /// What is wrong with it.
    pub why: String,
}

/// What a batch came to.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// Outputs judged.
    pub outputs: u64,
    /// Bad lines skipped (only with [`BatchOptions::skip_bad`]).
    pub skipped: u64,
    /// Outputs per action: allow, annotate, redact, block.
    pub actions: [u64; 4],
    /// The most severe action over all outputs (allow when there were none).
    pub worst: Action,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl BatchSummary {
    fn new() -> Self {
        Self { outputs: 0, skipped: 0, actions: [0; 4], worst: Action::Allow, seconds: 0.0 }
    }

    fn count(&mut self, action: Action) {
        self.outputs += 1;
        self.actions[ACTIONS.iter().position(|a| *a == action).expect("every action is listed")] += 1;
        self.worst = self.worst.max(action);
    }

    /// Outputs judged per second.
    pub fn rate(&self) -> f64 {
        self.outputs as f64 / self.seconds.max(1e-9)
    }
}

/// The actions, least severe first (the order of [`BatchSummary::actions`]).
pub const ACTIONS: [Action; 4] = [Action::Allow, Action::Annotate, Action::Redact, Action::Block];

/// One output as read.
struct Record {
    line: u64,
    id: serde_json::Value,
    text: String,
}

/// Judges every output of a JSONL stream (`name` is used in errors), calling
/// `emit` for each result in input order and `skipped` for each bad line
/// skipped.
pub fn scan_jsonl(
    judge: &dyn Judge,
    input: impl BufRead,
    name: &str,
    opts: &BatchOptions,
    emit: impl FnMut(&BatchLine) -> Result<(), FilterError>,
    skipped: impl FnMut(&BadLine),
) -> Result<BatchSummary, FilterError> {
    let records = input.lines().enumerate().filter_map(|(i, line)| {
        let line_no = i as u64 + 1;
        match line {
            Err(e) => Some(Err(FilterError::Input(format!("{name}:{line_no}: {e}")))),
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(Ok(parse(&l, line_no, opts))),
        }
    });
    scan_records(judge, records, name, opts, emit, skipped)
}

/// Judges every row of a Parquet file (feature `parquet`) as
/// [`scan_jsonl`] judges lines: the text and id are top-level columns named
/// by the options (text: a string; id: a string or an integer, optional),
/// and a row's [`BatchLine::line`] is its number (1-based). Only those two
/// columns are read.
#[cfg(feature = "parquet")]
pub fn scan_parquet(
    judge: &dyn Judge,
    path: &std::path::Path,
    opts: &BatchOptions,
    emit: impl FnMut(&BatchLine) -> Result<(), FilterError>,
    skipped: impl FnMut(&BadLine),
) -> Result<BatchSummary, FilterError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let name = path.display().to_string();
    let fail = |why: String| FilterError::Input(format!("{name}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let reader = SerializedFileReader::new(file).map_err(|e| fail(e.to_string()))?;
    let projection =
        parquet_rows::projection(reader.metadata().file_metadata().schema(), opts).map_err(fail)?;
    let rows = reader.get_row_iter(Some(projection)).map_err(|e| fail(e.to_string()))?;
    let records = rows.enumerate().map(|(i, row)| {
        let row = row.map_err(|e| fail(format!("row {}: {e}", i + 1)))?;
        Ok(parquet_rows::record(&row, i as u64 + 1, opts))
    });
    scan_records(judge, records, &name, opts, emit, skipped)
}

#[cfg(feature = "parquet")]
mod parquet_rows {
    use parquet::record::{Field, Row};
    use parquet::schema::types::Type;

    use super::{BadLine, BatchOptions, Record};

    /// The file's schema cut to the text and id columns.
    pub fn projection(schema: &Type, opts: &BatchOptions) -> Result<Type, String> {
        let fields = schema.get_fields();
        let find = |name: &str| fields.iter().find(|f| f.name() == name).cloned();
        let text = find(&opts.text_field).ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
            format!(
                "no column {:?} (columns: {}; choose it with --text-field)",
                opts.text_field,
                names.join(", ")
            )
        })?;
        let keep = std::iter::once(text).chain(find(&opts.id_field)).collect();
        Type::group_type_builder(schema.name()).with_fields(keep).build().map_err(|e| e.to_string())
    }

    /// One row as a record.
    pub fn record(row: &Row, line: u64, opts: &BatchOptions) -> Result<Record, BadLine> {
        let bad = |why: String| BadLine { line, why };
        let mut text = None;
        let mut id = serde_json::Value::Null;
        for (column, field) in row.get_column_iter() {
            if *column == opts.text_field {
                text = Some(match field {
                    Field::Str(s) => s.clone(),
                    Field::Bytes(b) => String::from_utf8(b.data().to_vec())
                        .map_err(|_| bad(format!("column {column:?} is not UTF-8")))?,
                    Field::Null => return Err(bad(format!("column {column:?} is null"))),
                    _ => return Err(bad(format!("column {column:?} is not a string"))),
                });
            } else if *column == opts.id_field {
                id = match field {
                    Field::Str(s) => serde_json::Value::String(s.clone()),
                    Field::Int(n) => (*n).into(),
                    Field::Long(n) => (*n).into(),
                    Field::UInt(n) => (*n).into(),
                    Field::ULong(n) => (*n).into(),
                    Field::Null => serde_json::Value::Null,
                    _ => return Err(bad(format!("column {column:?} is not a string or an integer"))),
                };
            }
        }
        let text = text.ok_or_else(|| bad(format!("no column {:?}", opts.text_field)))?;
        Ok(Record { line, id, text })
    }
}

/// Judges records as they are read, a chunk at a time: the common part of
/// every input format. Each item is a record, a bad one, or a read error
/// (which ends the batch).
fn scan_records(
    judge: &dyn Judge,
    records: impl Iterator<Item = Result<Result<Record, BadLine>, FilterError>>,
    name: &str,
    opts: &BatchOptions,
    mut emit: impl FnMut(&BatchLine) -> Result<(), FilterError>,
    mut skipped: impl FnMut(&BadLine),
) -> Result<BatchSummary, FilterError> {
    let t0 = Instant::now();
    let mut summary = BatchSummary::new();
    let chunk = PER_THREAD * opts.threads.max(1);
    let mut pending = Vec::with_capacity(chunk);
    let mut bad = |b: BadLine, summary: &mut BatchSummary| {
        if !opts.skip_bad {
            return Err(FilterError::Input(format!("{name}:{}: {}", b.line, b.why)));
        }
        summary.skipped += 1;
        skipped(&b);
        Ok(())
    };
    for record in records {
        match record? {
            Ok(r) => pending.push(r),
            Err(b) => {
                // Every line before a fatal one is written first.
                if !opts.skip_bad {
                    judge_chunk(
                        judge,
                        &std::mem::take(&mut pending),
                        opts,
                        &mut summary,
                        &mut emit,
                        &mut bad,
                    )?;
                }
                bad(b, &mut summary)?
            }
        }
        if pending.len() == chunk {
            judge_chunk(judge, &std::mem::take(&mut pending), opts, &mut summary, &mut emit, &mut bad)?;
        }
    }
    judge_chunk(judge, &pending, opts, &mut summary, &mut emit, &mut bad)?;
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok(summary)
}

/// One JSONL line as a record.
fn parse(line: &str, line_no: u64, opts: &BatchOptions) -> Result<Record, BadLine> {
    let bad = |why: String| BadLine { line: line_no, why };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
    let serde_json::Value::Object(mut obj) = value else {
        return Err(bad("not a JSON object".into()));
    };
    let text = match obj.remove(&opts.text_field) {
        Some(serde_json::Value::String(s)) => s,
        Some(_) => return Err(bad(format!("field {:?} is not a string", opts.text_field))),
        None => return Err(bad(format!("no field {:?} (choose it with --text-field)", opts.text_field))),
    };
    let id = match obj.remove(&opts.id_field) {
        Some(v @ (serde_json::Value::String(_) | serde_json::Value::Number(_))) => v,
        Some(serde_json::Value::Null) | None => serde_json::Value::Null,
        Some(_) => return Err(bad(format!("field {:?} is not a string or a number", opts.id_field))),
    };
    Ok(Record { line: line_no, id, text })
}

/// Judges `records` on `opts.threads` threads, then emits them in order.
fn judge_chunk(
    judge: &dyn Judge,
    records: &[Record],
    opts: &BatchOptions,
    summary: &mut BatchSummary,
    emit: &mut impl FnMut(&BatchLine) -> Result<(), FilterError>,
    bad: &mut impl FnMut(BadLine, &mut BatchSummary) -> Result<(), FilterError>,
) -> Result<(), FilterError> {
    if records.is_empty() {
        return Ok(());
    }
    let per = records.len().div_ceil(opts.threads.max(1));
    let judged: Vec<Vec<Result<BatchLine, FilterError>>> = std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(|r| judge_one(judge, r, opts)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a scan thread panicked")).collect()
    });
    for (result, record) in judged.into_iter().flatten().zip(records) {
        match result {
            Ok(line) => {
                summary.count(line.action);
                emit(&line)?;
            }
            // The output's own fault: a bad line like any other.
            Err(FilterError::Binary) => {
                bad(BadLine { line: record.line, why: FilterError::Binary.to_string() }, summary)?
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn judge_one(judge: &dyn Judge, r: &Record, opts: &BatchOptions) -> Result<BatchLine, FilterError> {
    // Sources are not located: positions and snippets are for a person
    // reading one report, and cost a document read per source.
    let (report, decision) = evaluate(judge, &r.text, opts.context.as_deref(), &opts.jurisdiction, false)?;
    Ok(BatchLine {
        schema: SCHEMA,
        line: r.line,
        id: r.id.clone(),
        action: decision.action,
        tokens: report.tokens,
        coverage: report.coverage,
        spans: report.spans,
        decision,
    })
}

#[cfg(all(test, feature = "parquet"))]
mod parquet_tests {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    use super::*;
    use crate::IndexJudge;

    /// Writes `rows` (id, text) as a Snappy-compressed Parquet file.
    fn write(path: &std::path::Path, rows: &[(i64, &str)]) {
        let schema = parquet::schema::parser::parse_message_type(
            "message schema { REQUIRED INT64 id; REQUIRED BYTE_ARRAY text (UTF8); OPTIONAL INT32 extra; }",
        )
        .unwrap();
        let props = WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).unwrap();
        let mut rg = w.next_row_group().unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let texts: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r.1)).collect();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<Int64Type>().write_batch(&ids, None, None).unwrap();
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<ByteArrayType>().write_batch(&texts, None, None).unwrap();
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<parquet::data_type::Int32Type>()
            .write_batch(&[], Some(&vec![0; rows.len()]), None)
            .unwrap();
        col.close().unwrap();
        rg.close().unwrap();
        w.close().unwrap();
    }

    #[test]
    fn parquet_rows_are_judged_like_jsonl_lines() {
        let d = tempfile::tempdir().unwrap();
        let corpus = d.path().join("tale.txt");
        let tale = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of \
                    foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light.";
        std::fs::write(&corpus, tale).unwrap();
        let idx = d.path().join("idx");
        recital_index::build(&idx, &[corpus], &Default::default(), &Default::default()).unwrap();
        let policy = recital_policy::Policy::builtin_default();
        let mut scan = policy.scan_options();
        scan.min_tokens = 10;
        let judge = IndexJudge::new(Arc::new(recital_index::Index::open(&idx).unwrap()), policy, scan);
        let file = d.path().join("outputs.parquet");
        write(&file, &[(1, "Nothing copied here at all, none."), (2, &format!("Quote: {tale}"))]);
        let mut lines = Vec::new();
        let opts = BatchOptions::new("EU".into());
        let s = scan_parquet(
            &judge,
            &file,
            &opts,
            |l| {
                lines.push((l.line, l.id.clone(), l.spans.len()));
                Ok(())
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(s.outputs, 2);
        assert_eq!(lines, [(1, serde_json::json!(1), 0), (2, serde_json::json!(2), 1)]);
        let mut o = opts.clone();
        o.text_field = "body".into();
        let e = scan_parquet(&judge, &file, &o, |_| Ok(()), |_| {}).unwrap_err().to_string();
        assert!(e.contains("no column \"body\" (columns: id, text, extra;"), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> BatchOptions {
        BatchOptions::new("EU".into())
    }

    #[test]
    fn records_take_their_fields_and_bad_lines_say_why() {
        let r = parse(r#"{"id": 7, "text": "hello", "x": 1}"#, 3, &opts()).unwrap();
        assert_eq!((r.line, r.id, r.text.as_str()), (3, serde_json::json!(7), "hello"));
        let r = parse(r#"{"text": "hello"}"#, 1, &opts()).unwrap();
        assert!(r.id.is_null());
        let mut o = opts();
        o.text_field = "completion".into();
        o.id_field = "uid".into();
        let r = parse(r#"{"uid": "a", "completion": "x"}"#, 1, &o).unwrap();
        assert_eq!(r.id, "a");
        for (line, why) in [
            ("{", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"id": 1}"#, "no field \"text\""),
            (r#"{"text": 3}"#, "is not a string"),
            (r#"{"text": "x", "id": [1]}"#, "not a string or a number"),
        ] {
            let b = parse(line, 9, &opts()).err().unwrap();
            assert_eq!(b.line, 9);
            assert!(b.why.contains(why), "{line}: {}", b.why);
        }
    }

    #[test]
    fn summary_counts_actions_and_keeps_the_worst() {
        let mut s = BatchSummary::new();
        for a in [Action::Allow, Action::Redact, Action::Allow, Action::Annotate] {
            s.count(a);
        }
        assert_eq!(s.actions, [2, 1, 1, 0]);
        assert_eq!(s.worst, Action::Redact);
        assert_eq!(s.outputs, 4);
    }
}
