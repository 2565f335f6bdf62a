//! `secrets.*`: which master-key provider an instance uses and what it needs, decided once at
//! start. `PAPERCLIP_SECRETS_PROVIDER` beats `secrets.provider`, which beats the shell's default
//! (`local_encrypted` for the headless server, `keychain` for the desktop app).

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::ConfigError;
use super::file::Settings;

/// The environment variable that holds the master key itself.
pub const MASTER_KEY_ENV: &str = "PAPERCLIP_SECRETS_MASTER_KEY";
pub const PROVIDER_ENV: &str = "PAPERCLIP_SECRETS_PROVIDER";
pub const KEY_FILE_ENV: &str = "PAPERCLIP_SECRETS_MASTER_KEY_FILE";

/// Where the secrets master key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsProvider {
    /// The OS keychain: macOS Keychain, Windows Credential Manager, the Secret Service on Linux.
    Keychain,
    /// A key file (0600), or `PAPERCLIP_SECRETS_MASTER_KEY` when that is set (as in Paperclip).
    LocalEncrypted,
    /// `PAPERCLIP_SECRETS_MASTER_KEY` only; nothing is written anywhere.
    Env,
}

impl SecretsProvider {
    pub const ALLOWED: &'static str = "\"keychain\", \"local_encrypted\" or \"env\"";

    pub fn as_str(self) -> &'static str {
        match self {
            SecretsProvider::Keychain => "keychain",
            SecretsProvider::LocalEncrypted => "local_encrypted",
            SecretsProvider::Env => "env",
        }
    }

    pub fn parse(text: &str) -> Option<SecretsProvider> {
        match text.trim() {
            "keychain" => Some(SecretsProvider::Keychain),
            "local_encrypted" => Some(SecretsProvider::LocalEncrypted),
            "env" => Some(SecretsProvider::Env),
            _ => None,
        }
    }

    /// The message for a value that is none of the three.
    pub fn unknown(text: &str) -> String {
        format!(
            "unknown secrets provider {text:?}; use {}",
            SecretsProvider::ALLOWED
        )
    }
}

/// `PAPERCLIP_SECRETS_MASTER_KEY`'s text, kept out of `Debug` output and wiped when dropped.
#[derive(Clone)]
pub struct MasterKeyText(Zeroizing<String>);

impl MasterKeyText {
    pub fn new(text: String) -> MasterKeyText {
        MasterKeyText(Zeroizing::new(text))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MasterKeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKeyText(<redacted>)")
    }
}

/// The secrets settings of a validated configuration.
#[derive(Debug, Clone)]
pub struct SecretsConfig {
    /// The provider in effect: with none chosen and `PAPERCLIP_SECRETS_MASTER_KEY` set, `env`.
    pub provider: SecretsProvider,
    /// `PAPERCLIP_SECRETS_MASTER_KEY`, when the provider reads it.
    pub env_key: Option<MasterKeyText>,
    /// The key file of `local_encrypted` (`PAPERCLIP_SECRETS_MASTER_KEY_FILE`,
    /// `secrets.localEncrypted.keyFilePath`, else `instances/<id>/secrets/master.key`).
    pub key_file: PathBuf,
}

/// Decides the provider: the environment, then the file, then `default` (the shell's), then
/// `local_encrypted`. `PAPERCLIP_SECRETS_MASTER_KEY` keeps the meaning it has in Paperclip: it
/// stands in for the key file, so with no provider chosen (or `local_encrypted`) it wins; the
/// keychain provider never reads it, so the two together are refused rather than one ignored.
pub fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    settings: &Settings,
    default: Option<SecretsProvider>,
    key_file: PathBuf,
) -> Result<SecretsConfig, ConfigError> {
    let from_env = match env(PROVIDER_ENV) {
        None => None,
        Some(text) => Some(
            SecretsProvider::parse(&text).ok_or_else(|| ConfigError::Env {
                var: PROVIDER_ENV.into(),
                message: SecretsProvider::unknown(&text),
            })?,
        ),
    };
    let chosen = from_env.or(settings.secrets_provider);
    let env_key = env(MASTER_KEY_ENV).map(MasterKeyText::new);
    let provider = match (chosen, &env_key) {
        (Some(SecretsProvider::Keychain), Some(_)) => {
            return Err(ConfigError::Rule(format!(
                "{MASTER_KEY_ENV} is set, but the secrets provider is keychain, which keeps the \
                 master key in the OS keychain and never reads the variable. Unset it, or choose \
                 {PROVIDER_ENV}=env to use the key it holds."
            )));
        }
        (Some(SecretsProvider::LocalEncrypted) | None, Some(_)) => SecretsProvider::Env,
        (Some(p), _) => p,
        (None, None) => default.unwrap_or(SecretsProvider::LocalEncrypted),
    };
    Ok(SecretsConfig {
        provider,
        env_key: env_key.filter(|_| provider == SecretsProvider::Env),
        key_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(
        vars: &[(&str, &str)],
        file: Option<SecretsProvider>,
        default: Option<SecretsProvider>,
    ) -> Result<SecretsConfig, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let settings = Settings {
            secrets_provider: file,
            ..Default::default()
        };
        resolve(&env, &settings, default, PathBuf::from("/k"))
    }

    #[test]
    fn the_environment_beats_the_file_which_beats_the_default() {
        use SecretsProvider::*;
        let p = |r: Result<SecretsConfig, ConfigError>| r.unwrap().provider;
        assert_eq!(p(decide(&[], None, None)), LocalEncrypted);
        assert_eq!(p(decide(&[], None, Some(Keychain))), Keychain);
        assert_eq!(p(decide(&[], Some(Env), Some(Keychain))), Env);
        let env = [(PROVIDER_ENV, "keychain")];
        assert_eq!(p(decide(&env, Some(LocalEncrypted), None)), Keychain);
    }

    #[test]
    fn an_unknown_provider_names_the_allowed_ones() {
        let e = decide(&[(PROVIDER_ENV, "vault")], None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(PROVIDER_ENV) && e.contains("\"vault\""), "{e}");
        assert!(
            e.contains("keychain") && e.contains("local_encrypted") && e.contains("env"),
            "{e}"
        );
    }

    #[test]
    fn the_master_key_variable_stands_in_for_the_file_but_not_for_the_keychain() {
        use SecretsProvider::*;
        let key = [(MASTER_KEY_ENV, "abc")];
        let d = decide(&key, None, Some(Keychain)).unwrap();
        assert_eq!(d.provider, Env);
        assert_eq!(d.env_key.as_ref().map(MasterKeyText::expose), Some("abc"));
        assert!(!format!("{d:?}").contains("abc"));
        assert_eq!(
            decide(&key, Some(LocalEncrypted), None).unwrap().provider,
            Env
        );
        let e = decide(&key, Some(Keychain), None).unwrap_err().to_string();
        assert!(e.contains(MASTER_KEY_ENV) && e.contains("keychain"), "{e}");
        assert!(
            decide(&[], Some(LocalEncrypted), None)
                .unwrap()
                .env_key
                .is_none()
        );
    }

    #[test]
    fn the_config_file_names_the_field_of_an_unknown_provider() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let write = |provider: &str| {
            let doc =
                format!(r#"{{"$meta":{{"version":1}},"secrets":{{"provider":"{provider}"}}}}"#);
            std::fs::write(&path, doc).unwrap();
        };
        write("vault");
        let e = super::super::file::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("`secrets.provider`") && e.contains("\"vault\""),
            "{e}"
        );
        assert!(e.contains(SecretsProvider::ALLOWED), "{e}");
        write("keychain");
        let settings = super::super::file::read(&path).unwrap();
        assert_eq!(settings.secrets_provider, Some(SecretsProvider::Keychain));
    }
}
