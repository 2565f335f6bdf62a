//! The price table: list prices per million tokens, by provider and model, that turn tokens
//! into an estimated cost when a run reports none (a Claude or ChatGPT subscription, or an
//! adapter that prints no dollars). Built in, or the user's own `prices.json` in the instance
//! folder (`PAPERCLIP_PRICES_FILE` names another), read and checked once at start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The table shipped with this build.
pub const DEFAULT_TABLE: &str = include_str!("prices.default.json");

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceEntry {
    /// A provider name (`anthropic`, `openai`, …) or `*`.
    pub provider: String,
    /// A model name; `*` matches any text (`claude-sonnet-4*`, `*haiku*`, `*`).
    pub model: String,
    pub input_usd_per_m_tok: f64,
    #[serde(default)]
    pub cached_input_usd_per_m_tok: f64,
    pub output_usd_per_m_tok: f64,
    /// The provider counts cached tokens inside `inputTokens` (OpenAI does, Anthropic not).
    #[serde(default)]
    pub cached_included_in_input: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceTable {
    /// Names this table in every estimate made from it (`price_table:<version>`).
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub models: Vec<PriceEntry>,
    /// Where the table came from: the file read, or None for the built-in table.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::parse(DEFAULT_TABLE, Path::new("(built-in prices)"))
            .expect("the built-in price table is valid")
    }
}

/// `*` in `pattern` matches any run of characters; the rest matches itself, ignoring case.
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.to_lowercase(), text.to_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

impl PriceTable {
    /// Parses and checks a table; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<PriceTable, ConfigError> {
        let table: PriceTable = serde_json::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: format!("not a price table: {e}"),
        })?;
        let field = |field: String, message: &str| ConfigError::Field {
            path: path.to_path_buf(),
            field,
            message: message.to_string(),
        };
        if table.version.trim().is_empty() {
            return Err(field(
                "version".into(),
                "must name this table (a date, say)",
            ));
        }
        for (n, e) in table.models.iter().enumerate() {
            if e.provider.trim().is_empty() || e.model.trim().is_empty() {
                return Err(field(
                    format!("models[{n}]"),
                    "provider and model must not be empty (use \"*\" to match any)",
                ));
            }
            let prices = [
                ("inputUsdPerMTok", e.input_usd_per_m_tok),
                ("cachedInputUsdPerMTok", e.cached_input_usd_per_m_tok),
                ("outputUsdPerMTok", e.output_usd_per_m_tok),
            ];
            for (name, price) in prices {
                if !price.is_finite() || price < 0.0 {
                    return Err(field(
                        format!("models[{n}].{name}"),
                        "must be a price of zero or more dollars",
                    ));
                }
            }
        }
        Ok(table)
    }

    /// The table in effect: `PAPERCLIP_PRICES_FILE`, else `prices.json` in the instance
    /// folder when it exists, else the built-in one.
    pub fn load(
        instance_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PriceTable, ConfigError> {
        let (path, required) = match env("PAPERCLIP_PRICES_FILE").filter(|p| !p.is_empty()) {
            Some(p) => (PathBuf::from(p), true),
            None => (instance_dir.join("prices.json"), false),
        };
        if !required && !path.exists() {
            return Ok(PriceTable::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Io {
            path: path.clone(),
            message: format!("{e} (the price table; PAPERCLIP_PRICES_FILE or prices.json)"),
        })?;
        let mut table = PriceTable::parse(&text, &path)?;
        table.source = Some(path);
        Ok(table)
    }

    /// `price_table:<version>`, as estimates record it.
    pub fn label(&self) -> String {
        format!("price_table:{}", self.version)
    }

    /// The estimated cost in cents of this usage (a part of a cent counts as one), from the
    /// first entry matching the provider and model; None when no entry matches.
    pub fn estimate_cents(
        &self,
        provider: &str,
        model: Option<&str>,
        input: i64,
        cached: i64,
        output: i64,
    ) -> Option<i64> {
        let model = model.unwrap_or("");
        let entry = self
            .models
            .iter()
            .find(|e| glob(&e.provider, provider) && glob(&e.model, model))?;
        let cached = cached.max(0) as f64;
        let mut input = input.max(0) as f64;
        if entry.cached_included_in_input {
            input = (input - cached).max(0.0);
        }
        // Dollars × a million: exact for whole-cent prices, so the division below is too.
        let micro_usd = input * entry.input_usd_per_m_tok
            + cached * entry.cached_input_usd_per_m_tok
            + output.max(0) as f64 * entry.output_usd_per_m_tok;
        // Rounded up: usage is never estimated at $0, and a budget errs on the safe side.
        Some((micro_usd / 10_000.0 - 1e-9).ceil().max(0.0) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_written() {
        assert!(glob("*", "anything"));
        assert!(glob("claude-sonnet-4*", "claude-sonnet-4-5-20250929"));
        assert!(glob("*haiku*", "claude-3-5-haiku-latest"));
        assert!(glob("gpt-5*mini*", "gpt-5-mini"));
        assert!(!glob("gpt-5*mini*", "gpt-5-codex"));
        assert!(glob("OpenAI", "openai"));
        assert!(!glob("o3*", "gpt-o3"));
        assert!(!glob("a*a", "a"));
    }

    #[test]
    fn the_built_in_table_prices_the_common_models() {
        let t = PriceTable::default();
        // 1M input + 1M output of Sonnet: $3 + $15.
        assert_eq!(
            t.estimate_cents(
                "anthropic",
                Some("claude-sonnet-4-5"),
                1_000_000,
                0,
                1_000_000
            ),
            Some(1_800)
        );
        // Opus 4.5 is not priced as Opus 4.
        assert_eq!(
            t.estimate_cents(
                "anthropic",
                Some("claude-opus-4-5-20251101"),
                1_000_000,
                0,
                0
            ),
            Some(500)
        );
        // OpenAI counts cached tokens inside input: 1M input of which 800k cached.
        assert_eq!(
            t.estimate_cents("openai", Some("gpt-5-codex"), 1_000_000, 800_000, 0),
            Some(35)
        );
        // A part of a cent is a cent: 2,961 millionths of a dollar.
        assert_eq!(
            t.estimate_cents("anthropic", Some("claude-sonnet-4-5"), 312, 4_000, 55),
            Some(1)
        );
        assert_eq!(
            t.estimate_cents("anthropic", Some("claude-sonnet-4-5"), 0, 0, 0),
            Some(0)
        );
        // An unknown provider still gets an estimate from the catch-all row.
        assert!(t.estimate_cents("mistral", None, 10_000, 0, 1_000).unwrap() > 0);
    }

    #[test]
    fn a_bad_table_is_refused_with_the_field_named() {
        let path = Path::new("/tmp/prices.json");
        let bad = r#"{"version": "x", "models": [{"provider": "a", "model": "*",
            "inputUsdPerMTok": -1, "outputUsdPerMTok": 1}]}"#;
        let e = PriceTable::parse(bad, path).unwrap_err().to_string();
        assert!(e.contains("models[0].inputUsdPerMTok"), "{e}");
        let unknown = r#"{"version": "x", "models": [], "modles": []}"#;
        let e = PriceTable::parse(unknown, path).unwrap_err().to_string();
        assert!(e.contains("modles"), "{e}");
        let e = PriceTable::parse(r#"{"version": " ", "models": []}"#, path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`version`"), "{e}");
    }
}
