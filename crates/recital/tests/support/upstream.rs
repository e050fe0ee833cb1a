//! A scripted OpenAI-compatible upstream: streams a given text word by word
//! (SSE, `/v1/chat/completions` and `/v1/completions`) or answers it whole,
//! and records whether the proxy hung up before the end (cancellation).
//! Plain HTTP, or HTTPS only ([`Upstream::start_tls`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// What the upstream says and how.
#[derive(Clone, Debug)]
pub struct Script {
    /// The text generated.
    pub text: String,
    /// Pause between words.
    pub delay: Duration,
    /// Break the connection after this many words (an upstream that dies).
    pub die_after: Option<usize>,
}

/// One request the upstream served.
#[derive(Clone, Debug, Default)]
pub struct Served {
    pub path: String,
    pub body: String,
    /// Words written before the end or the hang-up.
    pub words_sent: usize,
    /// The proxy closed the connection before the stream ended.
    pub hung_up: bool,
    pub finished: bool,
}

pub struct Upstream {
    pub base: String,
    pub script: Arc<Mutex<Script>>,
    pub served: Arc<Mutex<Vec<Served>>>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
}

/// A connection the upstream answers on: plain TCP, or TLS over it.
pub trait Conn: Read + Write + Send + 'static {
    /// Closes the socket at once (an upstream that dies mid-stream).
    fn kill(&mut self);
}

impl Conn for TcpStream {
    fn kill(&mut self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

impl Conn for StreamOwned<ServerConnection, TcpStream> {
    fn kill(&mut self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

impl Upstream {
    /// One request per connection (`Connection: close`; a streamed body
    /// ends when the connection does).
    pub fn start(script: Script) -> Upstream {
        Self::start_with(script, false)
    }

    /// Keep-alive, as model servers answer: streamed bodies are chunked and
    /// a connection serves requests until the client closes it.
    pub fn start_keep_alive(script: Script) -> Upstream {
        Self::start_with(script, true)
    }

    /// HTTPS only, keep-alive, with `tls`'s certificate: a plain-HTTP request
    /// fails the handshake and is never served. `base` is
    /// `https://localhost:PORT`, the name the certificate is for.
    pub fn start_tls(script: Script, tls: Arc<ServerConfig>) -> Upstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("https://localhost:{}", l.local_addr().unwrap().port());
        Self::serve(l, base, script, true, move |sock| {
            StreamOwned::new(ServerConnection::new(tls.clone()).unwrap(), sock)
        })
    }

    fn start_with(script: Script, keep_alive: bool) -> Upstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        Self::serve(l, base, script, keep_alive, |sock| sock)
    }

    /// Accepts on `l`, one thread per connection, `wrap` turning each socket
    /// into the connection requests are read from and answered on.
    fn serve<C: Conn>(
        l: TcpListener,
        base: String,
        script: Script,
        keep_alive: bool,
        wrap: impl Fn(TcpStream) -> C + Send + 'static,
    ) -> Upstream {
        let script = Arc::new(Mutex::new(script));
        let served = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (s2, v2, c2) = (script.clone(), served.clone(), connections.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                c2.fetch_add(1, Ordering::SeqCst);
                let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
                let mut r = BufReader::new(wrap(conn));
                let (s3, v3) = (s2.clone(), v2.clone());
                std::thread::spawn(move || while handle(&mut r, &s3, &v3, keep_alive) && keep_alive {});
            }
        });
        Upstream { base, script, served, connections }
    }

    pub fn set(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }

    pub fn last(&self) -> Served {
        self.served.lock().unwrap().last().cloned().unwrap_or_default()
    }
}

/// Serves one request read from `r`, answering on the connection under it;
/// `true` when it was answered to the end (the connection may serve another).
fn handle<C: Conn>(
    r: &mut BufReader<C>,
    script: &Mutex<Script>,
    served: &Mutex<Vec<Served>>,
    keep_alive: bool,
) -> bool {
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return false;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 {
            return false;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    if r.read_exact(&mut body).is_err() {
        return false;
    }
    let body = String::from_utf8_lossy(&body).to_string();
    let req: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let chat = path.ends_with("/chat/completions");
    let stream = req["stream"].as_bool().unwrap_or(false);
    let sc = script.lock().unwrap().clone();
    let idx = {
        let mut v = served.lock().unwrap();
        v.push(Served { path: path.clone(), body: body.clone(), ..Default::default() });
        v.len() - 1
    };
    // Whole request read: what the buffer holds is the next one's.
    let w = r.get_mut();
    if !stream {
        let resp = if chat {
            serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "scripted",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": sc.text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
        } else {
            serde_json::json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "scripted",
                "choices": [{"index": 0, "text": sc.text, "finish_reason": "stop", "logprobs": null}]})
        }
        .to_string();
        let close = if keep_alive { "" } else { "Connection: close\r\n" };
        let ok = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{close}\r\n{}",
            resp.len(),
            resp
        )
        .is_ok();
        let mut v = served.lock().unwrap();
        v[idx].finished = ok;
        return ok;
    }
    let framing = if keep_alive { "Transfer-Encoding: chunked\r\n" } else { "Connection: close\r\n" };
    if write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n{framing}\r\n"
    )
    .is_err()
    {
        return false;
    }
    let chunk = |delta: serde_json::Value, finish: Option<&str>| -> String {
        if chat {
            serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "scripted",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        } else {
            serde_json::json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "scripted",
                "choices": [{"index": 0, "text": delta.as_str().unwrap_or(""), "finish_reason": finish, "logprobs": null}]})
        }
        .to_string()
    };
    let mut send = |s: String| -> bool {
        let event = format!("data: {s}\n\n");
        let framed = if keep_alive { format!("{:x}\r\n{event}\r\n", event.len()) } else { event };
        w.write_all(framed.as_bytes()).and_then(|_| w.flush()).is_ok()
    };
    if chat && !send(chunk(serde_json::json!({"role": "assistant", "content": ""}), None)) {
        return false;
    }
    // Words with the whitespace before them, so the stream re-assembles the text exactly.
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in sc.text.chars() {
        if ch.is_whitespace() && !cur.trim().is_empty() {
            pieces.push(std::mem::take(&mut cur));
        }
        cur.push(ch);
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    for (i, p) in pieces.iter().enumerate() {
        if sc.die_after == Some(i) {
            // Die: close the socket mid-stream.
            w.kill();
            served.lock().unwrap()[idx].words_sent = i;
            return false;
        }
        let delta = if chat { serde_json::json!({"content": p}) } else { serde_json::json!(p) };
        if !send(chunk(delta, None)) {
            let mut v = served.lock().unwrap();
            v[idx].hung_up = true;
            v[idx].words_sent = i;
            return false;
        }
        std::thread::sleep(sc.delay);
    }
    let end = if chat {
        chunk(serde_json::json!({}), Some("stop"))
    } else {
        chunk(serde_json::json!(""), Some("stop"))
    };
    let mut ok = send(end) && send("[DONE]".into());
    if keep_alive {
        ok = ok && w.write_all(b"0\r\n\r\n").and_then(|_| w.flush()).is_ok();
    }
    let mut v = served.lock().unwrap();
    v[idx].words_sent = pieces.len();
    v[idx].finished = ok;
    v[idx].hung_up = !ok;
    ok
}
