//! Splits streamed bytes into lines for the parsers of line-oriented output (stream-json,
//! JSONL). A line longer than the cap is cut rather than held forever.

/// Longest line kept whole (a CLI's JSON event can be large, but not unbounded).
const MAX_LINE: usize = 4 * 1024 * 1024;

#[derive(Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Feeds bytes; returns every line completed by them (without the newline).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                lines.push(self.take());
            } else if self.pending.len() < MAX_LINE {
                self.pending.push(b);
            }
        }
        lines
    }

    /// The last line, if the output did not end with a newline.
    pub fn flush(&mut self) -> Option<String> {
        (!self.pending.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let bytes = std::mem::take(&mut self.pending);
        let line = String::from_utf8_lossy(&bytes);
        line.strip_suffix('\r').unwrap_or(&line).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_come_out_whole() {
        let mut buf = LineBuffer::default();
        assert!(buf.push(b"{\"a\":").is_empty());
        assert_eq!(buf.push(b"1}\r\n{\"b\"").as_slice(), ["{\"a\":1}"]);
        assert_eq!(buf.push(b":2}\nlast").as_slice(), ["{\"b\":2}"]);
        assert_eq!(buf.flush().as_deref(), Some("last"));
        assert_eq!(buf.flush(), None);
    }
}
