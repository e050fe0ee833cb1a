//! An upstream that answers every request with a fixed reply: a whole JSON
//! body, or a list of SSE events when the request asks for a stream. For
//! answers whose shape the word-by-word scripted upstream cannot make: tool
//! calls, reasoning, log-probabilities, several choices.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What the upstream answers.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The body of a non-streamed answer.
    pub whole: serde_json::Value,
    /// The `data:` payloads of a streamed one (`[DONE]` is added).
    pub events: Vec<serde_json::Value>,
}

pub struct RawUpstream {
    pub base: String,
    pub reply: Arc<Mutex<Reply>>,
}

impl RawUpstream {
    pub fn start(reply: Reply) -> RawUpstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let reply = Arc::new(Mutex::new(reply));
        let r2 = reply.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let r3 = r2.clone();
                std::thread::spawn(move || serve(conn, &r3));
            }
        });
        RawUpstream { base, reply }
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }
}

fn serve(conn: std::net::TcpStream, reply: &Mutex<Reply>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    let mut len = 0usize;
    while r.read_line(&mut line).unwrap_or(0) > 0 {
        let h = line.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0u8; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let reply = reply.lock().unwrap().clone();
    let mut w = conn;
    if req["stream"].as_bool().unwrap_or(false) {
        let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
        for e in reply.events.iter().map(|e| e.to_string()).chain(["[DONE]".to_string()]) {
            if write!(w, "data: {e}\n\n").and_then(|_| w.flush()).is_err() {
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
