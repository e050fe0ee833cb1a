//! Server-sent events: splitting an upstream byte stream into events, and
//! writing ours.

/// Incremental SSE parser: feed bytes, take complete events' `data` payloads.
#[derive(Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no complete separator: the next
    /// search resumes there (less the 3 bytes a separator split across
    /// reads may have begun in), so an event that arrives in many small
    /// reads costs linear time, not quadratic.
    searched: usize,
}

impl SseParser {
    /// Adds bytes; returns the data of every event completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        loop {
            let from = self.searched.saturating_sub(3);
            let Some((end, sep)) = find_event_end(&self.buf[from..]).map(|(e, s)| (from + e, s)) else {
                self.searched = self.buf.len();
                break;
            };
            self.searched = 0;
            let raw: Vec<u8> = self.buf.drain(..end + sep).collect();
            let text = String::from_utf8_lossy(&raw[..end]);
            let mut data = Vec::new();
            for line in text.lines() {
                if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d));
                }
            }
            if !data.is_empty() {
                events.push(data.join("\n"));
            }
        }
        events
    }

    /// Whatever is left when the stream ends without a final blank line.
    pub fn finish(&mut self) -> Option<String> {
        self.searched = 0;
        let rest = std::mem::take(&mut self.buf);
        let text = String::from_utf8_lossy(&rest);
        let data: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:").map(|d| d.strip_prefix(' ').unwrap_or(d)))
            .collect();
        (!data.is_empty()).then(|| data.join("\n"))
    }
}

/// End of the first complete event and the length of its separator.
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    (0..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else if buf[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else {
            None
        }
    })
}

/// One SSE event carrying `data`.
pub fn event(data: &str) -> bytes::Bytes {
    let mut b = bytes::BytesMut::with_capacity(data.len() + 8);
    write_event(&mut b, data);
    b.freeze()
}

/// Appends one SSE event carrying `data` to `out`.
pub fn write_event(out: &mut bytes::BytesMut, data: &str) {
    write_event_bytes(out, data.as_bytes());
}

/// [`write_event`] of data already encoded (UTF-8 without line breaks, such
/// as compact JSON).
pub fn write_event_bytes(out: &mut bytes::BytesMut, data: &[u8]) {
    out.reserve(data.len() + 8);
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_reads() {
        let mut p = SseParser::default();
        assert!(p.feed(b"data: {\"a\"").is_empty());
        assert_eq!(p.feed(b":1}\n\ndata: [DONE]\n\n"), vec!["{\"a\":1}".to_string(), "[DONE]".to_string()]);
        assert_eq!(p.feed(b": comment\n\ndata: x\r\n\r\n"), vec!["x".to_string()]);
        assert_eq!(p.feed(b"data: a\ndata: b\n\n"), vec!["a\nb".to_string()]);
        p.feed(b"data: tail");
        assert_eq!(p.finish().as_deref(), Some("tail"));
    }

    #[test]
    fn separators_split_between_reads_are_found() {
        for sep in ["\n\n", "\r\n\r\n"] {
            let stream = format!("data: one{sep}data: two{sep}data: three");
            let mut p = SseParser::default();
            let mut got: Vec<String> = stream.as_bytes().chunks(1).flat_map(|b| p.feed(b)).collect();
            got.extend(p.finish());
            assert_eq!(got, ["one", "two", "three"], "{sep:?}");
        }
        // A separator whose first bytes came with an earlier read.
        let mut p = SseParser::default();
        assert!(p.feed(b"data: long event\r\n\r").is_empty());
        assert!(p.feed(b"").is_empty());
        assert_eq!(p.feed(b"\ndata: next\n"), ["long event"]);
        assert_eq!(p.feed(b"\n"), ["next"]);
    }
}
