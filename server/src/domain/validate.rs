//! Field checks shared by the operations: lengths, non-empty names, non-negative money.

use paperclip_shared::limits;

use super::{DomainError, DomainResult};

/// A required text: trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> DomainResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    optional_text(field, Some(trimmed), max).map(|v| v.unwrap_or_default())
}

pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> DomainResult<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(DomainError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        )),
        Some(v) => Ok(Some(v.to_string())),
        None => Ok(None),
    }
}

pub fn cents(field: &str, value: i64) -> DomainResult<i64> {
    if value < 0 {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be zero or more"),
        ));
    }
    if value > MAX_AMOUNT {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be at most {MAX_AMOUNT}"),
        ));
    }
    Ok(value)
}

/// The largest count of tokens or cents one event or budget may carry (ten billion dollars
/// in cents): sums of many such values still fit in 64 bits, on both databases.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A JSON object field (config, env, metadata), bounded in size.
pub fn json_object(
    field: &str,
    value: Option<serde_json::Map<String, serde_json::Value>>,
) -> DomainResult<Option<serde_json::Value>> {
    let Some(map) = value else { return Ok(None) };
    let value = serde_json::Value::Object(map);
    if value.to_string().len() > limits::JSON_FIELD_MAX_BYTES {
        return Err(DomainError::invalid(
            field,
            format!(
                "{field} is larger than {} bytes",
                limits::JSON_FIELD_MAX_BYTES
            ),
        ));
    }
    Ok(Some(value))
}

/// A `#RRGGBB` colour.
pub fn color(field: &str, value: Option<&str>) -> DomainResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v)
            if v.len() == 7
                && v.starts_with('#')
                && v[1..].chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(DomainError::invalid(
            field,
            format!("{field} must be a #RRGGBB colour"),
        )),
    }
}

/// A calendar date `YYYY-MM-DD`.
pub fn date(field: &str, value: Option<&str>) -> DomainResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(|d| Some(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| {
                DomainError::invalid(field, format!("{field} must be a date like 2026-12-31"))
            }),
    }
}
