//! Server-sent events: splitting an upstream byte stream into events, and
//! writing ours.

/// Incremental SSE parser: feed bytes, take complete events' `data` payloads.
#[derive(Default)]
pub struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    /// Adds bytes; returns the data of every event completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((end, sep)) = find_event_end(&self.buf) {
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

/// The common upstream chunk, read without building a `serde_json::Value`:
/// choices whose `delta` carries at most `content` (chat) or a `text`
/// (completions), and no `error`. A chunk of any other shape (the first one,
/// which also gives the envelope; a role or tool-call delta; an error) does
/// not parse as this and takes the general path, which handles every shape.
#[derive(serde::Deserialize)]
pub struct TextChunk<'a> {
    /// The choices (absent or empty: not this shape).
    #[serde(borrow)]
    pub choices: Vec<TextChoice<'a>>,
    /// Set when the chunk has an `error` field, even `null` (the general path
    /// treats any `error` field as an error: not this shape).
    #[serde(default)]
    pub error: Present,
}

/// Whether a field is present at all, whatever its value (`Option` would
/// read a `null` as absent).
#[derive(Default)]
pub struct Present(pub bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// One choice of a [`TextChunk`]; fields not named here are not used by the
/// proxy on either path (it never forwards the upstream's per-choice fields).
#[derive(serde::Deserialize)]
pub struct TextChoice<'a> {
    /// Choice index (0 when absent, as on the general path).
    #[serde(default)]
    pub index: Option<u64>,
    /// Chat: the delta, with nothing but content.
    #[serde(default, borrow)]
    pub delta: Option<ContentDelta<'a>>,
    /// Completions: the text.
    #[serde(default, borrow)]
    pub text: Option<std::borrow::Cow<'a, str>>,
    /// Why the choice finished, once it has.
    #[serde(default, borrow)]
    pub finish_reason: Option<std::borrow::Cow<'a, str>>,
}

/// A chat delta that carries only text: any other field (role, tool calls)
/// must go to the client at once, which the general path does.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentDelta<'a> {
    /// The text (escaped JSON strings are unescaped into an owned string).
    #[serde(default, borrow)]
    pub content: Option<std::borrow::Cow<'a, str>>,
}

/// Writes the JSON of a chunk that carries one choice with `text` (or, with
/// `text` `None`, an empty delta) and `finish`, and no `recital` field:
/// byte for byte what the general path's `serde_json::Value` gives (its maps
/// are sorted by key: `choices` sorts before every envelope key), without
/// building one. `envelope` is the envelope's own JSON (an object).
pub fn write_text_chunk(
    out: &mut Vec<u8>,
    envelope: &str,
    chat: bool,
    index: u64,
    text: Option<&str>,
    finish: Option<&str>,
) {
    use std::io::Write;
    let string = |out: &mut Vec<u8>, s: &str| serde_json::to_writer(&mut *out, s).expect("writing to a Vec");
    out.extend_from_slice(b"{\"choices\":[{");
    if chat {
        out.extend_from_slice(b"\"delta\":{");
        if let Some(t) = text {
            out.extend_from_slice(b"\"content\":");
            string(out, t);
        }
        out.extend_from_slice(b"},");
    }
    out.extend_from_slice(b"\"finish_reason\":");
    match finish {
        Some(f) => string(out, f),
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(out, ",\"index\":{index}");
    if !chat {
        out.extend_from_slice(b",\"logprobs\":null,\"text\":");
        string(out, text.unwrap_or(""));
    }
    out.extend_from_slice(b"}]");
    let rest = envelope.trim().strip_prefix('{').unwrap_or("}").trim_start();
    if rest != "}" {
        out.push(b',');
    }
    out.extend_from_slice(rest.as_bytes());
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

    /// The chunk the general path builds with `serde_json::Value`.
    fn general(
        env: &serde_json::Value,
        chat: bool,
        idx: u64,
        text: Option<&str>,
        finish: Option<&str>,
    ) -> String {
        use serde_json::json;
        let mut chunk = env.clone();
        let choice = if chat {
            let delta = text.map_or_else(|| json!({}), |t| json!({"content": t}));
            json!({"index": idx, "delta": delta, "finish_reason": finish})
        } else {
            json!({"index": idx, "text": text.unwrap_or(""), "finish_reason": finish, "logprobs": null})
        };
        chunk["choices"] = json!([choice]);
        chunk.to_string()
    }

    #[test]
    fn text_chunks_are_written_as_the_general_path_writes_them() {
        let envs = [
            serde_json::json!({}),
            serde_json::json!({"id": "c-1", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
                               "model": "m\"x", "system_fingerprint": null}),
            serde_json::json!({"model": "only"}),
        ];
        let texts =
            [None, Some(""), Some(" word"), Some("quote \" back \\ nl \n tab \t ctl \u{1} é 😀 </script>")];
        for env in &envs {
            for chat in [true, false] {
                for text in texts {
                    for finish in [None, Some("stop"), Some("content_filter")] {
                        for idx in [0, 7] {
                            let mut out = Vec::new();
                            write_text_chunk(&mut out, &env.to_string(), chat, idx, text, finish);
                            assert_eq!(
                                String::from_utf8(out).unwrap(),
                                general(env, chat, idx, text, finish),
                                "{env} {chat} {text:?} {finish:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn only_text_chunks_take_the_typed_path() {
        /// Per choice: index, text, finish reason.
        type Read = Vec<(Option<u64>, Option<String>, Option<String>)>;
        let text = |data: &str| -> Option<Read> {
            let c: TextChunk<'_> = serde_json::from_str(data).ok()?;
            (!c.error.0 && !c.choices.is_empty()).then(|| {
                c.choices
                    .into_iter()
                    .map(|ch| {
                        let t = ch.delta.and_then(|d| d.content).or(ch.text).map(|t| t.into_owned());
                        (ch.index, t, ch.finish_reason.map(|f| f.into_owned()))
                    })
                    .collect()
            })
        };
        assert_eq!(
            text(
                r#"{"id":"x","choices":[{"index":1,"delta":{"content":"a\"b"},"finish_reason":null,"logprobs":null}]}"#
            ),
            Some(vec![(Some(1), Some("a\"b".into()), None)])
        );
        assert_eq!(
            text(r#"{"choices":[{"text":"t","finish_reason":"length"}]}"#),
            Some(vec![(None, Some("t".into()), Some("length".into()))])
        );
        assert_eq!(text(r#"{"choices":[{"index":0,"delta":{}}]}"#), Some(vec![(Some(0), None, None)]));
        // Everything else goes to the general path.
        for other in [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":3}}]}"#,
            r#"{"choices":[{"index":"0","delta":{"content":"a"}}]}"#,
            r#"{"choices":[],"usage":{"total_tokens":3}}"#,
            r#"{"usage":{"total_tokens":3}}"#,
            r#"{"error":null,"choices":[{"delta":{"content":"a"}}]}"#,
            r#"{"error":{"message":"x"},"choices":[{"delta":{"content":"a"}}]}"#,
            r#"[1,2]"#,
            "not json",
        ] {
            assert_eq!(text(other), None, "{other}");
        }
    }
}
