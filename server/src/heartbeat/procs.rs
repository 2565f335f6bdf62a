//! The process table, read where the platform lets us (Linux `/proc`): which processes are
//! in a group and still alive, and whether a process belongs to a given run (its environment
//! carries `PAPERCLIP_RUN_ID`). Used to tell a dead member from a live one and to make sure
//! an orphaned group found at start is really the run's before it is killed.

/// Live (not zombie) members of a process group, by pid. None where the process table cannot
/// be read (then callers fall back to `kill(-pgid, 0)`).
pub fn live_group_members(pgid: i32) -> Option<Vec<i32>> {
    #[cfg(target_os = "linux")]
    {
        let entries = std::fs::read_dir("/proc").ok()?;
        let mut members = Vec::new();
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some((state, group)) = stat_of(pid)
                && group == pgid
                && state != 'Z'
                && state != 'X'
            {
                members.push(pid);
            }
        }
        Some(members)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pgid;
        None
    }
}

/// (state, process group) from `/proc/<pid>/stat`.
#[cfg(target_os = "linux")]
fn stat_of(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so fields are read
/// after the last `)`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(text: &str) -> Option<(char, i32)> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether the process's environment has `PAPERCLIP_RUN_ID=<run_id>`. None when it cannot be
/// read (another user's process, or no `/proc`).
pub fn belongs_to_run(pid: i32, run_id: &str) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let wanted = format!("PAPERCLIP_RUN_ID={run_id}");
        Some(environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, run_id);
        None
    }
}

/// Whether a process with this pid exists (a zombie counts as gone).
pub fn process_alive(pid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        match stat_of(pid) {
            Some((state, _)) => state != 'Z' && state != 'X',
            None => false,
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        // SAFETY: signal 0 only checks existence.
        pid > 0 && unsafe { libc::kill(pid, 0) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(
            parse_stat("4242 (sh) S 1 4242 4242 0 -1"),
            Some(('S', 4242))
        );
        assert_eq!(
            parse_stat("77 (a (weird) name) Z 1 70 70 0"),
            Some(('Z', 70))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_alive_and_carries_no_run_id() {
        let me = std::process::id() as i32;
        assert!(process_alive(me));
        assert_eq!(belongs_to_run(me, "nope"), Some(false));
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() };
        assert!(live_group_members(group).unwrap().contains(&me));
    }
}
