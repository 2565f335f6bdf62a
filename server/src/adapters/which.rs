//! Finding an executable the way a shell would: a path with a separator is used as given,
//! a bare name is looked up in the run's PATH (with PATHEXT on Windows). Paths with spaces
//! are fine: nothing here goes through a shell.

use std::path::{Path, PathBuf};

use super::AdapterError;

/// The executable for `command`, or an error naming it and every place it was looked for.
pub fn find(command: &str, path_var: Option<&str>) -> Result<PathBuf, AdapterError> {
    let given = Path::new(command);
    if given.components().count() > 1 || given.is_absolute() {
        return if is_executable(given) {
            Ok(given.to_path_buf())
        } else {
            Err(AdapterError::MissingProgram(format!(
                "{command} was not found or is not executable"
            )))
        };
    }
    let dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    for dir in &dirs {
        for name in candidates(command) {
            let path = dir.join(&name);
            if is_executable(&path) {
                return Ok(path);
            }
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(AdapterError::MissingProgram(format!(
        "{command} was not found in PATH ({}); install it or set the adapter's command to its full path",
        if looked.is_empty() {
            "PATH is empty".to_string()
        } else {
            looked.join(", ")
        }
    )))
}

#[cfg(windows)]
fn candidates(command: &str) -> Vec<String> {
    let exts = std::env::var("PATHEXT").unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".into());
    let mut names = vec![command.to_string()];
    names.extend(
        exts.split(';')
            .filter(|e| !e.is_empty())
            .map(|e| format!("{command}{}", e.to_lowercase())),
    );
    names
}

#[cfg(not(windows))]
fn candidates(command: &str) -> Vec<String> {
    vec![command.to_string()]
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_found_in_path_even_in_a_directory_with_spaces() {
        let dir = tempfile::tempdir().unwrap();
        let spaced = dir.path().join("my tools");
        std::fs::create_dir(&spaced).unwrap();
        let tool = spaced.join("mytool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = std::env::join_paths([dir.path(), &spaced]).unwrap();
        assert_eq!(find("mytool", path.to_str()).unwrap(), tool);
    }

    #[test]
    fn a_missing_program_names_itself_and_where_it_was_looked_for() {
        let err = find("no-such-cli", Some("/nowhere:/also/nowhere")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no-such-cli"), "{text}");
        assert!(text.contains("/also/nowhere"), "{text}");
        assert_eq!(err.code(), "adapter_command_not_found");
    }
}
