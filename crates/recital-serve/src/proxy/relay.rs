//! The streaming relay every dialect shares: reads the upstream body, splits
//! it into SSE events, hands each to the dialect, and gives the client what
//! the dialect released. What differs between APIs (where the text lives in
//! an event, how a stream ends, how a block is said) is the [`Dialect`]'s.
//!
//! The relay runs inside the response body: each time hyper asks the body
//! for more, the relay reads the next upstream chunk, runs the filter on it
//! and hands back what it releases. Every token crossing two tasks (a pump
//! task and a channel) cost more than the scan on a loaded two-core machine.
//! Backpressure is the client's own: a client that reads slowly slows the
//! upstream read, and a client that goes away drops the body, the relay and
//! with it the upstream request (cancelling the generation). The audit
//! record and the metrics are written when the relay is dropped, however the
//! stream ended.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body as HttpBody;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};

use recital_filter::{ChannelId, FilterError, Step, StreamFilter};

use super::sse::{self, SseParser};
use crate::auth::Caller;
use crate::state::AppState;

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream finished and everything was released.
    Done,
    /// Blocked, or the client went away: the upstream request is dropped.
    Cancelled,
    /// The upstream failed.
    UpstreamError,
}

/// The upstream body.
pub type Upstream = std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// How long the rest of a finished upstream body may take to end.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Guard steps that took longer than this make the relay run the next step
/// of the channel with `block_in_place`.
const INLINE_STEP: Duration = Duration::from_millis(2);

/// What a dialect works with: the filter, the bytes for the client, the request.
pub struct Cx {
    /// The service.
    pub state: Arc<AppState>,
    /// Every channel's guard.
    pub filter: StreamFilter,
    /// SSE bytes for the client, not yet handed to hyper.
    out: bytes::BytesMut,
    /// The request id (in the audit log and the `recital` field).
    pub request_id: String,
}

impl Cx {
    /// Whether the `recital` extension field is left out.
    pub fn strict(&self) -> bool {
        self.state.config.strict_openai
    }

    /// Queues one SSE event with `data` and no name.
    pub fn emit(&mut self, data: &str) {
        sse::write_event(&mut self.out, data);
    }

    /// Queues one SSE event named after its JSON's `type` (Anthropic's
    /// clients dispatch on the event name; OpenAI's Responses events carry
    /// it too).
    pub fn emit_typed(&mut self, v: &Value) {
        let name = v.get("type").and_then(Value::as_str).unwrap_or("message");
        self.out.extend_from_slice(b"event: ");
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\n");
        sse::write_event(&mut self.out, &v.to_string());
    }

    /// One filter step of channel `id` (`None`: the channel is complete).
    /// A step scans a bounded window (tenths of a millisecond) and runs on
    /// the worker; only after a long one (a long prompt's first step, a long
    /// held copy) does the next hand the worker's queue over, so that other
    /// streams are not held up behind it.
    pub fn run(&mut self, id: ChannelId, text: Option<&str>) -> Result<Step, FilterError> {
        let state = self.state.clone();
        let long = self.filter.last_step(id) > INLINE_STEP;
        let filter = &mut self.filter;
        let mut go = || match text {
            Some(t) => filter.push(&*state, id, t),
            None => filter.finish(&*state, id),
        };
        let step = if long { tokio::task::block_in_place(go) } else { go() };
        if let Err(e) = &step {
            tracing::error!("scan failed during a stream: {e}");
        }
        step
    }
}

/// One API's streaming wire format.
pub trait Dialect: Send + 'static {
    /// The endpoint, as the audit log names it.
    fn endpoint(&self) -> &'static str;
    /// Handles one upstream event's data; `Some` once the stream is over.
    fn event(&mut self, cx: &mut Cx, data: &str) -> Option<Outcome>;
    /// The upstream body ended without the dialect's own end (`broke`: it
    /// failed with this message): release what is held, say how it ended.
    fn end(&mut self, cx: &mut Cx, broke: Option<String>) -> Outcome;
}

/// Moves one stream from upstream to client.
struct Relay<D: Dialect> {
    cx: Cx,
    dialect: D,
    caller: Caller,
    /// The upstream response body; taken as soon as the outcome is known:
    /// dropped (closing its connection, cancelling the generation) when the
    /// stream was blocked or broke, drained ([`drain`]) when it finished.
    upstream: Option<Upstream>,
    parser: SseParser,
    /// Set once the stream is over; `None` when dropped early means the
    /// client went away.
    outcome: Option<Outcome>,
}

/// The streamed answer: `dialect` translates, `filter` checks.
pub fn stream_response<D: Dialect>(
    state: Arc<AppState>,
    caller: Caller,
    request_id: String,
    filter: StreamFilter,
    dialect: D,
    resp: reqwest::Response,
) -> Response {
    let relay = Relay {
        cx: Cx { state, filter, out: bytes::BytesMut::new(), request_id },
        dialect,
        caller,
        upstream: Some(Box::pin(resp.bytes_stream())),
        parser: SseParser::default(),
        outcome: None,
    };
    let events = futures_util::stream::unfold(relay, |mut relay| async move {
        relay.fill().await;
        (!relay.cx.out.is_empty()).then(|| (Ok::<_, std::io::Error>(relay.cx.out.split().freeze()), relay))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(HttpBody::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

impl<D: Dialect> Drop for Relay<D> {
    /// One audit record per stream: every flagged span, final action.
    fn drop(&mut self) {
        let cx = &self.cx;
        let decisions = cx.filter.decisions(cx.state.policy.name());
        let bytes = cx.filter.bytes();
        super::record(&cx.state, &self.caller, self.dialect.endpoint(), &cx.request_id, bytes, &decisions);
        let m = &cx.state.metrics;
        m.stream_leaked_bytes.fetch_add(cx.filter.leaked_bytes() as u64, Ordering::Relaxed);
        match self.outcome.unwrap_or(Outcome::Cancelled) {
            Outcome::Cancelled => m.upstream_cancelled.fetch_add(1, Ordering::Relaxed),
            Outcome::UpstreamError => m.upstream_errors.fetch_add(1, Ordering::Relaxed),
            Outcome::Done => 0,
        };
    }
}

impl<D: Dialect> Relay<D> {
    /// Reads upstream chunks until there is something for the client or the
    /// stream is over.
    async fn fill(&mut self) {
        while self.cx.out.is_empty() && self.outcome.is_none() {
            if let Some(o) = self.advance().await {
                self.outcome = Some(o);
                // Otherwise (blocked, failed) the body is dropped here: that
                // closes the connection, which cancels the generation.
                if let (Outcome::Done, Some(rest)) = (o, self.upstream.take()) {
                    drain(rest);
                } else {
                    self.upstream = None;
                }
            }
        }
    }

    /// Handles the next upstream chunk; `Some` once the stream is over.
    async fn advance(&mut self) -> Option<Outcome> {
        let next = match self.upstream.as_mut() {
            Some(u) => u.next().await,
            None => None,
        };
        match next {
            Some(Ok(b)) => {
                for ev in self.parser.feed(&b) {
                    if let Some(o) = self.dialect.event(&mut self.cx, &ev) {
                        return Some(o);
                    }
                }
                None
            }
            Some(Err(e)) => {
                Some(self.dialect.end(&mut self.cx, Some(format!("the upstream stream broke off: {e}"))))
            }
            None => {
                if let Some(ev) = self.parser.finish() {
                    if let Some(o) = self.dialect.event(&mut self.cx, &ev) {
                        return Some(o);
                    }
                }
                Some(self.dialect.end(&mut self.cx, None))
            }
        }
    }
}

/// Reads what follows the stream's end (the end of the chunked body,
/// normally already there) off the stream's path, so that the upstream
/// connection goes back to the client's pool: a body dropped before its end
/// closes the connection, and every stream then paid a new connection to
/// the model server (and left a socket in TIME_WAIT). An upstream that keeps
/// the body open after the end loses the connection after [`DRAIN_TIMEOUT`].
fn drain(mut rest: Upstream) {
    tokio::spawn(async move {
        let _ =
            tokio::time::timeout(DRAIN_TIMEOUT, async { while let Some(Ok(_)) = rest.next().await {} }).await;
    });
}

/// The error event of the OpenAI dialects (and the message other dialects wrap).
pub fn openai_error(message: &str, kind: &str, code: &str) -> String {
    json!({"error": {"message": message, "type": kind, "code": code}}).to_string()
}
