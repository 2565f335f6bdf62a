//! What the local coding-agent CLIs (`claude_local`, `codex_local`) share: the `paperclip`
//! skill they are given, small files written only when they change, the agent's
//! instructions file, typed config fields, and the text matching their parsers do on error
//! messages (by hand, on lower-cased text, instead of with regular expressions).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::AdapterError;

/// The `paperclip` skill (`skills/paperclip/SKILL.md`), built into the binary.
pub const PAPERCLIP_SKILL: &str = include_str!("../../../skills/paperclip/SKILL.md");

/// Variables of a parent Claude Code session that must not leak into a child CLI (it would
/// believe it is nested inside that session).
pub const CLAUDE_SESSION_VARS: &[&str] = &[
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SESSION",
    "CLAUDE_CODE_PARENT_SESSION",
];

/// Writes `contents` to `path` unless it already holds exactly that. The write goes through
/// a temporary file renamed into place, so a concurrent reader never sees half a file.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), AdapterError> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let failed =
        |e: std::io::Error| AdapterError::Config(format!("cannot write {}: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| AdapterError::Config(format!("{} has no parent", path.display())))?;
    std::fs::create_dir_all(dir).map_err(failed)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, contents).map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(e)
    })
}

/// The agent's instructions file (`instructionsFilePath`): its path and contents. A file
/// that is configured but cannot be read fails the run rather than running without it.
pub fn read_instructions(
    config: &Map<String, Value>,
) -> Result<Option<(PathBuf, String)>, AdapterError> {
    let Some(path) = super::string_field(config, "instructionsFilePath") else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        AdapterError::Config(format!(
            "instructionsFilePath {} cannot be read: {e}",
            path.display()
        ))
    })?;
    Ok(Some((path, text)))
}

/// The directory relative references of an instructions file resolve from, with a slash.
pub fn instructions_dir(path: &Path) -> String {
    let dir = path.parent().unwrap_or(Path::new("."));
    format!("{}/", dir.display())
}

/// A boolean field: absent or null gives `default`; anything but a boolean is refused.
pub fn bool_field(
    config: &Map<String, Value>,
    key: &str,
    default: bool,
) -> Result<bool, AdapterError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(AdapterError::Config(format!("{key} must be true or false"))),
    }
}

/// The first of several boolean fields that is set (aliases), else `default`.
pub fn bool_alias(
    config: &Map<String, Value>,
    keys: &[&str],
    default: bool,
) -> Result<bool, AdapterError> {
    for key in keys {
        if !matches!(config.get(*key), None | Some(Value::Null)) {
            return bool_field(config, key, default);
        }
    }
    Ok(default)
}

/// `extraArgs`, or `args` when `extraArgs` is empty (as Paperclip reads them).
pub fn extra_args(config: &Map<String, Value>) -> Result<Vec<String>, AdapterError> {
    let extra = super::string_list(config, "extraArgs")?;
    if !extra.is_empty() {
        return Ok(extra);
    }
    super::string_list(config, "args")
}

/// Whether a variable is set to something other than blanks.
pub fn has_value(env: &[(String, String)], key: &str) -> bool {
    super::env_value(env, key).is_some_and(|v| !v.trim().is_empty())
}

/// The first line of `text` that is not blank, trimmed.
pub fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

/// The last bytes of a stream, kept for error messages and pattern matching.
pub struct Tail {
    buf: Vec<u8>,
    cap: usize,
}

impl Tail {
    pub fn new(cap: usize) -> Self {
        Tail {
            buf: Vec::new(),
            cap,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > self.cap {
            let cut = self.buf.len() - self.cap;
            self.buf.drain(..cut);
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }
}

/// Lower case, typographic apostrophes made plain, every run of whitespace one space: the
/// form the matchers below expect.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        let c = if c == '\u{2019}' { '\'' } else { c };
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether `a` occurs and `b` occurs somewhere after the end of it (the regex `a.*b` on one
/// line of normalized text).
pub fn followed_by(line: &str, a: &str, b: &str) -> bool {
    match (line.find(a), line.rfind(b)) {
        (Some(i), Some(j)) => j >= i + a.len(),
        _ => false,
    }
}

/// Whether `word` occurs and is not followed by a letter, digit or underscore (`word\b`).
pub fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        !line[i + word.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Reads a clock time as the CLIs print reset times (`5pm`, `11:30 am`, `4:05 p.m.`)
/// from the start of `text`: (hour 0–23, minute, the rest of the text).
pub fn parse_clock(text: &str) -> Option<(u32, u32, &str)> {
    let text = text.trim_start();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let hour: u32 = text[..digits].parse().ok()?;
    let mut rest = &text[digits..];
    let mut minute = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let m = after.get(..2)?;
        if !m.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        minute = m.parse().ok()?;
        rest = &after[2..];
    }
    let rest = rest.trim_start();
    let (pm, rest) = if let Some(r) = rest.strip_prefix('a') {
        (false, r)
    } else if let Some(r) = rest.strip_prefix('p') {
        (true, r)
    } else {
        return None;
    };
    let rest = rest.strip_prefix('.').unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix('m')?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    if !(1..=12).contains(&hour) || minute > 59 {
        return None;
    }
    Some((hour % 12 + if pm { 12 } else { 0 }, minute, rest))
}

/// The next moment after `now` at which the clock shows `hour:minute`, in UTC when `tz` is
/// UTC or GMT, in the server's local time when no zone is given. Other named zones are not
/// resolved (there is no zone database here): None.
pub fn next_clock_time(
    now: chrono::DateTime<chrono::Utc>,
    hour: u32,
    minute: u32,
    tz: Option<&str>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{Duration, Local, TimeZone, Utc};
    let at = chrono::NaiveTime::from_hms_opt(hour, minute, 0)?;
    match tz.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") => {
            let today = now.date_naive().and_time(at).and_utc();
            Some(if today > now {
                today
            } else {
                today + Duration::days(1)
            })
        }
        Some(_) => None,
        None => {
            let local_now = now.with_timezone(&Local);
            let mut day = local_now.date_naive();
            for _ in 0..2 {
                if let Some(t) = Local.from_local_datetime(&day.and_time(at)).earliest() {
                    let t = t.with_timezone(&Utc);
                    if t > now {
                        return Some(t);
                    }
                }
                day = day.succ_opt()?;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_matching_behaves_like_the_upstream_patterns() {
        let line = normalize("Error:  Session   abc\tNOT found");
        assert_eq!(line, "error: session abc not found");
        assert!(followed_by(&line, "session ", " not found"));
        assert!(!followed_by("session not found", "session ", " not found"));
        assert!(has_word("out of extra usage.", "extra usage"));
        assert!(!has_word("extra usages", "extra usage"));
        assert_eq!(normalize("You\u{2019}ve hit"), "you've hit");
    }

    #[test]
    fn clock_times_are_read_in_the_forms_the_clis_print() {
        assert_eq!(parse_clock("5pm (UTC)"), Some((17, 0, " (UTC)")));
        assert_eq!(parse_clock("11:30 a.m."), Some((11, 30, "")));
        assert_eq!(parse_clock("12am"), Some((0, 0, "")));
        assert_eq!(parse_clock("13pm"), None);
        assert_eq!(parse_clock("soon"), None);
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T18:00:00Z")
            .unwrap()
            .to_utc();
        let next = next_clock_time(now, 17, 0, Some("UTC")).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-03-02T17:00:00+00:00");
        assert_eq!(next_clock_time(now, 17, 0, Some("Europe/Paris")), None);
        assert!(next_clock_time(now, 17, 0, None).is_some_and(|t| t > now));
    }

    #[test]
    fn a_file_is_rewritten_only_when_its_contents_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/SKILL.md");
        write_if_changed(&path, b"one").unwrap();
        let first = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&path, b"one").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), first);
        write_if_changed(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn the_skill_is_built_in_with_its_front_matter() {
        assert!(PAPERCLIP_SKILL.starts_with("---\nname: paperclip\n"));
        assert!(PAPERCLIP_SKILL.contains("X-Paperclip-Run-Id"));
    }
}
