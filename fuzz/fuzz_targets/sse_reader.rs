//! The reader of upstream server-sent events, fed the same bytes in
//! arbitrary chunks: it never panics, and the events it yields do not
//! depend on where the network cut the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recital_serve::proxy::sse::SseParser;

fn events(stream: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut p = SseParser::default();
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let c = c.clamp(at, stream.len());
        out.extend(p.feed(&stream[at..c]));
        at = c;
    }
    out.extend(p.feed(&stream[at..]));
    out.extend(p.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    // The first byte says how many cut points follow (one byte each, as
    // gaps); the rest is the stream.
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n % 32).min(rest.len());
    let (gaps, stream) = rest.split_at(n);
    let mut cuts = Vec::with_capacity(n);
    let mut at = 0;
    for &g in gaps {
        at += usize::from(g);
        cuts.push(at);
    }
    let whole = events(stream, &[]);
    let cut = events(stream, &cuts);
    assert_eq!(whole, cut, "cut at {cuts:?}");
    let bytewise: Vec<usize> = (1..stream.len()).collect();
    if stream.len() <= 512 {
        assert_eq!(whole, events(stream, &bytewise), "fed byte by byte");
    }
    // What we write, we read back.
    for e in &whole {
        if !e.contains(['\n', '\r']) {
            let mut p = SseParser::default();
            assert_eq!(p.feed(&recital_serve::proxy::sse::event(e)), vec![e.clone()]);
        }
    }
});
