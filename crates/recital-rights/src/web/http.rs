//! Saved HTTP responses: the status line and headers (httparse), and the
//! body as the server meant it (chunked transfer and gzip/deflate content
//! encoding undone), since a WARC `response` record holds the bytes as they
//! came over the wire.

use std::io::Read;

/// Headers an HTTP response may carry, at most.
const MAX_HEADERS: usize = 128;

/// A response: status, headers (names lower-cased), body.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the body is HTML, by its content type or, lacking one, its start.
    pub fn is_html(&self) -> bool {
        match self.header("content-type") {
            Some(t) => t.to_ascii_lowercase().contains("html"),
            None => {
                let head =
                    String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).to_ascii_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            }
        }
    }
}

/// Parses a saved response (`HTTP/1.1 200 OK\r\n…\r\n\r\nbody`).
pub(crate) fn parse(bytes: &[u8]) -> Result<HttpResponse, String> {
    let (mut r, body_at) = parse_head(bytes)?;
    let raw = &bytes[body_at..];
    let body = if r.header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        dechunk(raw).unwrap_or_else(|| raw.to_vec())
    } else {
        raw.to_vec()
    };
    r.body = decode(r.header("content-encoding"), body);
    Ok(r)
}

/// The status and headers of a saved response (a `.headers` file, wget's
/// `--save-headers` head), and where its body starts.
pub(crate) fn parse_head(bytes: &[u8]) -> Result<(HttpResponse, usize), String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let body_at = match res.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("truncated HTTP headers".into()),
        Err(e) => return Err(format!("not an HTTP response: {e}")),
    };
    let headers = res
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    Ok((HttpResponse { status: res.code.unwrap_or(0), headers, body: Vec::new() }, body_at))
}

/// The body of a chunked transfer; `None` when it is not well formed.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size..)?.strip_prefix(b"\r\n").unwrap_or(&raw[size..]);
    }
}

/// The body with its content encoding undone (as is when unknown or broken).
fn decode(encoding: Option<&str>, body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let ok = match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        Some("gzip" | "x-gzip") => flate2::read::MultiGzDecoder::new(&body[..]).read_to_end(&mut out).is_ok(),
        Some("deflate") => flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut out).is_ok(),
        _ => false,
    };
    if ok {
        out
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chunked_and_gzipped_bodies_are_undone() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<html><head><meta name=tdm-reservation content=1></head></html>").unwrap();
        let gz = gz.finish().unwrap();
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nTDM-Reservation: 1\r\n\r\n".to_vec();
        let (a, b) = gz.split_at(10);
        for part in [a, b] {
            raw.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            raw.extend_from_slice(part);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        let r = parse(&raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("tdm-reservation"), Some("1"));
        assert!(r.is_html());
        assert!(String::from_utf8(r.body).unwrap().contains("tdm-reservation"));
        assert!(parse(b"GET / HTTP/1.1\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nX: y").is_err());
    }
}
