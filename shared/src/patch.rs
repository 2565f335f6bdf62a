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

#[cfg(test)]
mod tests {
    use super::*;

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
