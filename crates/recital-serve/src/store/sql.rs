//! The one face the store's queries see, whichever database is behind it.
//!
//! Every query of the registry is written once, in the SQL that SQLite and
//! PostgreSQL share (`INSERT … RETURNING`, `ON CONFLICT DO NOTHING`, partial
//! indexes, scalar subqueries), with numbered `?N` placeholders; a backend
//! binds [`Value`]s and hands back [`Row`]s of them. What differs between the
//! two (schema DDL, connection settings, locking, change notification) stays
//! in `sqlite.rs` and `postgres.rs`.

use super::error::StoreError;

/// A parameter or column value: the four types the schema uses (a boolean
/// is an integer 0/1 here; PostgreSQL's `BOOLEAN` column converts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// SQL NULL.
    Null,
    /// Any integer column (and booleans).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (key digests).
    Blob(Vec<u8>),
}

/// Conversion of a Rust value into a [`Value`] parameter.
pub(crate) trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

/// Conversion of a column [`Value`] into a Rust value; `None` when the column
/// holds another type (the store never writes one: the row is corrupt).
pub(crate) trait FromValue: Sized {
    /// The value, or `Err(what was expected)`.
    fn from_value(v: Value) -> Result<Self, String>;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl FromValue for i64 {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            _ => Err("an integer".into()),
        }
    }
}

impl FromValue for u32 {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => u32::try_from(i).map_err(|_| format!("a 32-bit unsigned integer, not {i}")),
            _ => Err("an integer".into()),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            _ => Err("a boolean (0 or 1)".into()),
        }
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s),
            _ => Err("text".into()),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b),
            _ => Err("bytes".into()),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    /// Column `i` as a `T`; a missing column or another type is a corrupt row.
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        let v = self.0.get(i).cloned().ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))?;
        let shown = format!("{v:?}");
        T::from_value(v).map_err(|want| {
            StoreError::Corrupt(format!("column {i}: expected {want}, found {}", truncate(&shown, 60)))
        })
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Which kind of row a committed write changed: other instances sharing the
/// database reload what depends on it (see [`Tx::notify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// Works registered, indexed or withdrawn.
    Works,
    /// Notices filed, rejected or withdrawn.
    Notices,
    /// Keys added, changed or revoked.
    Keys,
    /// Rights signals posted or withdrawn.
    Signals,
}

impl Topic {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Topic::Works => "works",
            Topic::Notices => "notices",
            Topic::Keys => "keys",
            Topic::Signals => "signals",
        }
    }
}

/// A transaction in progress, on either backend. Statements use `?1`, `?2`,
/// … placeholders.
pub(crate) trait Tx {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError>;
    /// Runs a query; every row.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Tells other instances, once this transaction commits, that rows of
    /// `topic` changed. A database used by one process ignores it.
    fn notify(&mut self, topic: Topic) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The first row of a query, if any.
    pub(crate) fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The only row of a query that always gives one (an aggregate).
    pub(crate) fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, args)?.ok_or_else(|| StoreError::Corrupt(format!("no row from {sql:?}")))
    }
}

/// Builds a parameter list: `args![id, owner, 3]`.
macro_rules! args {
    () => { &[] as &[$crate::store::sql::Value] };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::store::sql::ToValue::to_value(&$x)),+][..]
    };
}
pub(crate) use args;

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted strings and
/// identifiers, where a `?` is literal).
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND (?2 IS NULL OR b = ?2)"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND ($2 IS NULL OR b = $2)"
        );
    }

    #[test]
    fn values_convert_both_ways_and_mismatches_are_corrupt_rows() {
        let row = Row(vec![Value::Int(1), Value::Null, Value::Text("x".into()), Value::Int(7)]);
        assert!(row.get::<bool>(0).unwrap());
        assert_eq!(row.get::<Option<String>>(1).unwrap(), None);
        assert_eq!(row.get::<String>(2).unwrap(), "x");
        assert!(matches!(row.get::<i64>(2), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.get::<bool>(3), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.get::<i64>(9), Err(StoreError::Corrupt(_))));
        let a: &[Value] = args![5i64, Some("s"), None::<i64>, true, &[1u8, 2][..]];
        assert_eq!(
            a,
            [Value::Int(5), Value::Text("s".into()), Value::Null, Value::Int(1), Value::Blob(vec![1, 2])]
        );
    }
}
