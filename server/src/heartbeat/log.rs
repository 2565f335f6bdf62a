//! A run's log as it streams: each chunk becomes one NDJSON line
//! `{"ts","stream","chunk","seq"}` written to the database at once (so `/log` reads it while
//! the run goes on) and published live. Known secret values are masked before either.

use paperclip_shared::env::REDACTED;
use serde_json::json;
use uuid::Uuid;

use super::Heartbeats;
use super::supervisor::Stream;
use crate::store::LogLine;

/// The live event carries at most the last 8 KiB of a chunk (the log keeps all of it).
const LIVE_CHUNK_MAX: usize = 8 * 1024;

pub(super) struct RunLog {
    hb: Heartbeats,
    run_id: Uuid,
    company_id: Uuid,
    agent_id: Uuid,
    issue_id: Option<String>,
    seq: i64,
    offset: i64,
    /// An incomplete UTF-8 sequence at the end of the last chunk, per stream.
    carry: [Vec<u8>; 2],
    /// Secret values of the run's environment, masked wherever they appear.
    secrets: Vec<String>,
}

impl RunLog {
    pub fn new(
        hb: &Heartbeats,
        run: &paperclip_shared::HeartbeatRun,
        secrets: Vec<String>,
    ) -> Self {
        RunLog {
            hb: hb.clone(),
            run_id: run.id,
            company_id: run.company_id,
            agent_id: run.agent_id,
            issue_id: run.context_snapshot["issueId"].as_str().map(str::to_string),
            seq: run.last_output_seq,
            offset: run.log_bytes,
            carry: [Vec::new(), Vec::new()],
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
        }
    }

    pub fn set_secrets(&mut self, secrets: Vec<String>) {
        self.secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
    }

    pub async fn output(&mut self, stream: Stream, bytes: &[u8]) {
        let slot = match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        let mut buf = std::mem::take(&mut self.carry[slot]);
        buf.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&buf) {
            Ok(_) => buf.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => buf.len(),
        };
        self.carry[slot] = buf.split_off(valid);
        let text = String::from_utf8_lossy(&buf).into_owned();
        self.write(stream.as_str(), text).await;
    }

    /// A line from the server itself (stream `system`).
    pub async fn system(&mut self, text: &str) {
        self.write("system", format!("{text}\n")).await;
    }

    fn mask(&self, mut text: String) -> String {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    async fn write(&mut self, stream: &str, text: String) {
        if text.is_empty() {
            return;
        }
        let chunk = self.mask(text);
        self.seq += 1;
        let at = crate::domain::now();
        let mut line =
            json!({"ts": at, "stream": stream, "chunk": chunk, "seq": self.seq}).to_string();
        line.push('\n');
        let entry = LogLine {
            seq: self.seq,
            start_offset: self.offset,
            line,
        };
        self.offset += entry.line.len() as i64;
        if let Err(e) = self
            .hb
            .inner
            .store
            .append_run_log(self.run_id, vec![entry], self.offset, at)
            .await
        {
            tracing::warn!(run_id = %self.run_id, error = %e, "could not store a run log line");
        }
        let (live, truncated) = tail(&chunk, LIVE_CHUNK_MAX);
        self.hb.publish(
            self.company_id,
            "heartbeat.run.log",
            json!({
                "runId": self.run_id,
                "agentId": self.agent_id,
                "issueId": self.issue_id,
                "ts": at,
                "seq": self.seq,
                "stream": stream,
                "chunk": live,
                "truncated": truncated,
            }),
        );
    }
}

/// The last `max` bytes of `text` (on a character boundary), and whether it was cut.
fn tail(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (&text[start..], true)
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn the_tail_of_a_chunk_is_cut_on_a_character_boundary() {
        assert_eq!(tail("abc", 8), ("abc", false));
        assert_eq!(tail("aéb", 2), ("b", true));
    }
}
