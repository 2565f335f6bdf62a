//! PATCH fields distinguish "absent" (leave alone) from `null` (clear) from a value.

use serde::{Deserialize, Deserializer};

/// `None`: the field was absent. `Some(None)`: it was `null`. `Some(Some(v))`: a value.
pub type Patch<T> = Option<Option<T>>;

/// Use with `#[serde(default, deserialize_with = "patch::nullable")]`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Patch<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An optional integer that also takes a number with a zero fraction (`1000.0`), which JSON
/// Schema counts as an integer and JavaScript clients cannot tell from `1000`. Use with
/// `#[serde(default, deserialize_with = "patch::whole_number")]`.
pub fn whole_number<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(n) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
            Ok(Some(f as i64))
        }
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {n}, expected a whole number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Cents {
        #[serde(default, deserialize_with = "whole_number")]
        cents: Option<i64>,
    }

    #[test]
    fn whole_numbers_may_carry_a_zero_fraction() {
        let parse = |s: &str| serde_json::from_str::<Cents>(s).map(|c| c.cents);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"cents":null}"#).unwrap(), None);
        assert_eq!(parse(r#"{"cents":1000}"#).unwrap(), Some(1000));
        assert_eq!(parse(r#"{"cents":1000.0}"#).unwrap(), Some(1000));
        assert_eq!(parse(r#"{"cents":-5}"#).unwrap(), Some(-5));
        assert!(parse(r#"{"cents":10.5}"#).is_err());
        assert!(parse(r#"{"cents":1e20}"#).is_err());
        assert!(parse(r#"{"cents":"10"}"#).is_err());
    }

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "nullable")]
        field: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"field":null}"#).unwrap();
        let value: Body = serde_json::from_str(r#"{"field":"x"}"#).unwrap();
        assert_eq!(absent.field, None);
        assert_eq!(null.field, Some(None));
        assert_eq!(value.field, Some(Some("x".to_string())));
    }
}
