//! Index benchmark: query latency (warm and cold), a naive-scan baseline and
//! libsais alone on the same token arrays. Run by `bench/index.sh`; prints JSON.
//!
//! ```sh
//! cargo run --release -p recital-index --example bench_index -- DIR [QUERIES_PER_LENGTH] [SEED]
//! ```
//! - warm: every query once to warm the page cache, then each timed once, 3 rounds;
//! - cold: the index files are evicted from the page cache (posix_fadvise
//!   DONTNEED), the index is opened afresh and one query timed (open + count);
//! - naive: a linear scan of the decoded token array per query;
//! - libsais: suffix-array construction alone over each shard's id sequence.

use std::path::{Path, PathBuf};
use std::time::Instant;

use recital_index::raw::{self, varint};
use recital_index::Index;
use recital_index::Stream;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn evict(dir: &Path) {
    for e in walk(dir) {
        if let Ok(f) = std::fs::File::open(&e) {
            use std::os::fd::AsRawFd;
            // SAFETY: plain syscall on an open descriptor.
            unsafe {
                libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Samples an occurring `len`-token sequence: a random suffix of a random shard.
fn sample(idx: &Index, rng: &mut Rng, len: usize) -> Option<Vec<String>> {
    let shards = raw::shards(idx);
    let s = &shards[(rng.next() % shards.len() as u64) as usize];
    let files = &s.shard.text.files;
    if files.is_empty() {
        return None;
    }
    let suffix = files.suffix((rng.next() % files.len() as u64) as usize);
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while out.len() < len {
        let (id, l) = varint::decode(&suffix[i..])?;
        if id == 0 {
            return None;
        }
        out.push(s.shard.text.vocab.string(id).to_string());
        i += l;
    }
    Some(out)
}

fn decode_all(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some((id, l)) = varint::decode(&bytes[i..]) {
        out.push(id);
        i += l;
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: bench_index DIR [N] [SEED]"));
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(42);
    let idx = Index::open(&dir).expect("open index");
    let mut rng = Rng(seed | 1);
    let mut report = serde_json::Map::new();
    let lengths = [1usize, 8, 32];
    let mut queries: Vec<(usize, Vec<Vec<String>>)> = Vec::new();
    for &len in &lengths {
        let mut qs = Vec::new();
        let mut tries = 0;
        while qs.len() < n && tries < n * 50 {
            tries += 1;
            if let Some(q) = sample(&idx, &mut rng, len) {
                qs.push(q);
            }
        }
        queries.push((len, qs));
    }
    // Warm.
    let mut warm = serde_json::Map::new();
    for (len, qs) in &queries {
        for q in qs {
            std::hint::black_box(idx.count_tokens(Stream::Text, q));
        }
        let mut lat = Vec::new();
        for _ in 0..3 {
            for q in qs {
                let t = Instant::now();
                let c = idx.count_tokens(Stream::Text, q);
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                assert!(c > 0, "sampled query must occur");
            }
        }
        warm.insert(
            len.to_string(),
            serde_json::json!({"n": lat.len(), "p50_us": pct(&mut lat, 0.5), "p99_us": pct(&mut lat, 0.99)}),
        );
    }
    report.insert("warm_count".into(), warm.into());
    // Cold: evict, open, count. The warm index is closed first: pages it maps
    // could not be evicted.
    let shard_names: Vec<String> = raw::shards(&idx).iter().map(|s| s.shard.name().to_string()).collect();
    drop(idx);
    let mut cold = serde_json::Map::new();
    for (len, qs) in &queries {
        let mut lat = Vec::new();
        for q in qs.iter().take(20) {
            evict(&dir);
            let t = Instant::now();
            let fresh = Index::open(&dir).expect("open");
            std::hint::black_box(fresh.count_tokens(Stream::Text, q));
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        cold.insert(
            len.to_string(),
            serde_json::json!({"n": lat.len(), "p50_us": pct(&mut lat, 0.5), "p99_us": pct(&mut lat, 0.99)}),
        );
    }
    report.insert("cold_open_and_count".into(), cold.into());
    let idx = Index::open(&dir).expect("open index");
    assert_eq!(raw::shards(&idx).len(), shard_names.len());
    // Naive scan over decoded id arrays (decoding not timed).
    let decoded: Vec<Vec<u32>> =
        raw::shards(&idx).iter().map(|s| decode_all(s.shard.text.files.tokens())).collect();
    let mut naive = serde_json::Map::new();
    for (len, qs) in &queries {
        let mut lat = Vec::new();
        for q in qs.iter().take(5) {
            let t = Instant::now();
            let mut c = 0u64;
            for (s, ids) in raw::shards(&idx).iter().zip(&decoded) {
                let Some(p) = q.iter().map(|t| s.shard.text.vocab.id(t)).collect::<Option<Vec<u32>>>() else {
                    continue;
                };
                c += ids.windows(p.len()).filter(|w| *w == p.as_slice()).count() as u64;
            }
            lat.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(c);
        }
        naive.insert(len.to_string(), serde_json::json!({"n": lat.len(), "p50_us": pct(&mut lat, 0.5)}));
    }
    report.insert("naive_scan_count".into(), naive.into());
    drop(decoded);
    // libsais alone on the same id sequences.
    let mut sais = 0.0;
    for s in raw::shards(&idx) {
        for st in [Some(&s.shard.text), s.shard.canon.as_ref()].into_iter().flatten() {
            let mut ids: Vec<i32> = decode_all(st.files.tokens()).into_iter().map(|x| x as i32).collect();
            let t = Instant::now();
            let sa = raw::build_suffix_array(&mut ids, st.vocab.len() as u32).expect("sais");
            sais += t.elapsed().as_secs_f64();
            std::hint::black_box(sa);
        }
    }
    report.insert("libsais_seconds".into(), sais.into());
    let st = idx.stats();
    report.insert("stats".into(), serde_json::to_value(&st).unwrap());
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
