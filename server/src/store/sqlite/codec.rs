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
