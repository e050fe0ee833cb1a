//! An upstream that answers every request with a fixed reply: a whole JSON
//! body, or a list of SSE events when the request asks for a stream. For
//! answers whose shape the word-by-word scripted upstream cannot make: tool
//! calls, reasoning, log-probabilities, several choices, Anthropic's typed
//! events. It remembers each request's path and headers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the upstream answers.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The body of a non-streamed answer.
    pub whole: serde_json::Value,
    /// The `data:` payloads of a streamed one. When every one is an object
    /// with a string `type` (Anthropic's events), each is written after an
    /// `event: <type>` line, as that API does, and nothing is added: such a
    /// stream ends with its own last event (or, in a test, without it).
    /// Otherwise `[DONE]` is added, as OpenAI's streams end.
    pub events: Vec<serde_json::Value>,
}

/// One request the upstream received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The request line's path.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.0 == name).map(|h| h.1.as_str())
    }
}

pub struct RawUpstream {
    pub base: String,
    pub reply: Arc<Mutex<Reply>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl RawUpstream {
    pub fn start(reply: Reply) -> RawUpstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let reply = Arc::new(Mutex::new(reply));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (r2, s2) = (reply.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let (r3, s3) = (r2.clone(), s2.clone());
                std::thread::spawn(move || serve(conn, &r3, &s3));
            }
        });
        RawUpstream { base, reply, seen }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }
}

fn serve(conn: std::net::TcpStream, reply: &Mutex<Reply>, seen: &Mutex<Vec<Seen>>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    let mut len = 0usize;
    let _ = r.read_line(&mut line);
    let mut req =
        Seen { path: line.split_whitespace().nth(1).unwrap_or("").to_string(), headers: Vec::new() };
    line.clear();
    while r.read_line(&mut line).unwrap_or(0) > 0 {
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            req.headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        line.clear();
    }
    if let Some(v) = req.header("content-length") {
        len = v.parse().unwrap_or(0);
    }
    seen.lock().unwrap().push(req);
    let mut body = vec![0u8; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let reply = reply.lock().unwrap().clone();
    let mut w = conn;
    if req["stream"].as_bool().unwrap_or(false) {
        let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
        let typed = !reply.events.is_empty() && reply.events.iter().all(|e| e["type"].is_string());
        let head = |e: &serde_json::Value| match typed {
            true => format!("event: {}\n", e["type"].as_str().unwrap_or("")),
            false => String::new(),
        };
        let done = (!typed).then(|| (String::new(), "[DONE]".to_string()));
        for (head, data) in reply.events.iter().map(|e| (head(e), e.to_string())).chain(done) {
            if write!(w, "{head}data: {data}\n\n").and_then(|_| w.flush()).is_err() {
                return;
            }
        }
    } else {
        let b = reply.whole.to_string();
        let _ = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        );
    }
}
