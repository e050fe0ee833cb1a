//! SQLite databases (RAG stores, example banks): the text values of every
//! row of every table, one segment per row, each value under `table.column`.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::Ctx;
use crate::error::Result;
use crate::place::{Format, Place, Sink};

pub(crate) fn extract(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> Result<()> {
    let fail = |e: rusqlite::Error| ctx.err(0, format!("SQLite: {e}"));
    let db = Connection::open_with_flags(
        ctx.path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    let tables: Vec<String> = {
        let mut q = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(fail)?;
        let names = q.query_map([], |r| r.get(0)).map_err(fail)?.collect::<Result<_, _>>().map_err(fail)?;
        names
    };
    for table in tables {
        let mut q = db.prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\""))).map_err(fail)?;
        let columns: Vec<String> = q.column_names().map(|c| format!("{table}.{c}")).collect();
        let mut rows = q.query([]).map_err(fail)?;
        let mut row = 0u64;
        while let Some(r) = rows.next().map_err(fail)? {
            row += 1;
            sink.begin(Format::Sqlite, &[])?;
            for (i, column) in columns.iter().enumerate() {
                if let ValueRef::Text(bytes) = r.get_ref(i).map_err(fail)? {
                    let place = Place { row: Some(row), field: Some(column.clone()), ..Place::default() };
                    sink.text(&String::from_utf8_lossy(bytes), place)?;
                    sink.gap()?;
                }
            }
            sink.end()?;
        }
    }
    Ok(())
}
