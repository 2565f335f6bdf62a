//! Conversions between SQLite text columns and our types.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use uuid::Uuid;

fn bad(idx: &str, err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    let _ = idx;
    rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(err))
}

#[derive(Debug)]
struct BadValue(String);
impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadValue {}

/// Fixed-width RFC 3339 with microseconds, so that text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

pub fn id(u: Uuid) -> String {
    u.to_string()
}

pub fn opt_id(u: Option<Uuid>) -> Option<String> {
    u.map(|u| u.to_string())
}

pub fn json(v: &serde_json::Value) -> String {
    v.to_string()
}

pub fn get_uuid(row: &Row, col: &str) -> rusqlite::Result<Uuid> {
    let text: String = row.get(col)?;
    Uuid::parse_str(&text).map_err(|e| bad(col, e))
}

pub fn get_opt_uuid(row: &Row, col: &str) -> rusqlite::Result<Option<Uuid>> {
    let text: Option<String> = row.get(col)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| bad(col, e)))
        .transpose()
}

pub fn get_ts(row: &Row, col: &str) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(col)?;
    parse_ts(col, &text)
}

pub fn get_opt_ts(row: &Row, col: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(col)?;
    text.map(|t| parse_ts(col, &t)).transpose()
}

fn parse_ts(col: &str, text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| bad(col, e))
}

pub fn get_json(row: &Row, col: &str) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(col)?;
    serde_json::from_str(&text).map_err(|e| bad(col, e))
}

/// Reads a text column into one of the wire enums.
pub fn get_enum<E>(row: &Row, col: &str, parse: fn(&str) -> Option<E>) -> rusqlite::Result<E> {
    let text: String = row.get(col)?;
    parse(&text).ok_or_else(|| {
        bad(
            col,
            BadValue(format!("unknown value {text:?} in column {col}")),
        )
    })
}

/// Reads a row's columns in SELECT order by position: a lookup by name scans every column
/// name (with `strlen` and a case-insensitive compare) and was a tenth of the list path's
/// time. Debug builds check each name against the statement, so a reordered column list
/// fails every test that reads that row.
pub struct Cols<'a, 'r> {
    row: &'a Row<'r>,
    next: usize,
}

impl<'a, 'r> Cols<'a, 'r> {
    pub fn new(row: &'a Row<'r>) -> Self {
        Cols { row, next: 0 }
    }

    fn idx(&mut self, name: &str) -> usize {
        let i = self.next;
        self.next += 1;
        debug_assert_eq!(
            self.row.as_ref().column_name(i).ok(),
            Some(name),
            "column {i} of the SELECT list"
        );
        i
    }

    pub fn get<T: rusqlite::types::FromSql>(&mut self, name: &str) -> rusqlite::Result<T> {
        let i = self.idx(name);
        self.row.get(i)
    }

    /// The column as borrowed text, without allocating.
    fn text(&mut self, name: &str) -> rusqlite::Result<Option<&'a str>> {
        let i = self.idx(name);
        self.row
            .get_ref(i)?
            .as_str_or_null()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
    }

    fn required(&mut self, name: &str) -> rusqlite::Result<&'a str> {
        let i = self.next;
        self.text(name)?.ok_or(rusqlite::Error::InvalidColumnType(
            i,
            name.into(),
            Type::Null,
        ))
    }

    pub fn uuid(&mut self, name: &str) -> rusqlite::Result<Uuid> {
        let text = self.required(name)?;
        Uuid::parse_str(text).map_err(|e| bad(name, e))
    }

    pub fn opt_uuid(&mut self, name: &str) -> rusqlite::Result<Option<Uuid>> {
        self.text(name)?
            .map(|t| Uuid::parse_str(t).map_err(|e| bad(name, e)))
            .transpose()
    }

    pub fn ts(&mut self, name: &str) -> rusqlite::Result<DateTime<Utc>> {
        let text = self.required(name)?;
        parse_ts(name, text)
    }

    pub fn opt_ts(&mut self, name: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
        self.text(name)?.map(|t| parse_ts(name, t)).transpose()
    }

    pub fn enumeration<E>(
        &mut self,
        name: &str,
        parse: fn(&str) -> Option<E>,
    ) -> rusqlite::Result<E> {
        let text = self.required(name)?;
        parse(text).ok_or_else(|| {
            bad(
                name,
                BadValue(format!("unknown value {text:?} in column {name}")),
            )
        })
    }
}
