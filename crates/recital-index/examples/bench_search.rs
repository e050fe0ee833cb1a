//! Suffix-array search microbenchmark: `StreamFiles::longest_prefix_lens`
//! alone, on the first shard of each index given, alternated round by round
//! so that indexes built differently (say, with and without the `S.top` top
//! level) are compared side by side on the same machine state.
//!
//! ```sh
//! cargo run --release -p recital-index --example bench_search -- [--stream text|canon] IDX_A IDX_B...
//! ```
//! Patterns are 40 tokens long, in batches of 1,000 (a 4 KB output's worth):
//! half start at random places of the first index's stream (they occur, as
//! copied text does), half are such pieces with every 4th token replaced by a
//! random id (they stop matching early, as novel text does). Prints, per
//! index, the median over rounds of the microseconds per search.

use std::path::PathBuf;
use std::time::Instant;

use recital_index::raw::{self, varint};
use recital_index::{Index, Stream};

fn main() {
    let mut stream = Stream::Text;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--stream" => {
                stream = match args.next().as_deref() {
                    Some("canon") => Stream::Canon,
                    _ => Stream::Text,
                }
            }
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    assert!(!dirs.is_empty(), "usage: bench_search [--stream text|canon] INDEX_DIR...");
    let idxs: Vec<Index> = dirs.iter().map(|d| Index::open(d).expect("open index")).collect();
    let files = |i: usize| &raw::shards(&idxs[i])[0].shard.stream(stream).expect("stream").files;
    // Patterns from the first index (every index must hold the same corpus).
    let toks = files(0).tokens();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    while patterns.len() < 20_000 {
        // A token start: the suffix array holds exactly those.
        let sa = files(0).sa();
        let mut i = sa[(rand() % sa.len() as u64) as usize] as usize;
        let mut p = Vec::new();
        let novel = patterns.len() % 2 == 1;
        let mut k = 0;
        while k < 40 && i < toks.len() && toks[i] != 0 {
            let l = varint::len_from_first(toks[i]);
            if novel && k % 4 == 3 {
                varint::encode(1 + (rand() % 50_000) as u32, &mut p);
            } else {
                p.extend_from_slice(&toks[i..i + l]);
            }
            i += l;
            k += 1;
        }
        if k >= 20 {
            patterns.push(p);
        }
    }
    let refs: Vec<&[u8]> = patterns.iter().map(Vec::as_slice).collect();
    let mut out = vec![0usize; refs.len()];
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); idxs.len()];
    for round in 0..7 {
        for (k, per_k) in per.iter_mut().enumerate() {
            let t = Instant::now();
            for (b, o) in refs.chunks(1000).zip(out.chunks_mut(1000)) {
                files(k).longest_prefix_lens(b, o);
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / refs.len() as f64;
            if round > 0 {
                per_k.push(us);
            }
        }
    }
    for (d, mut v) in dirs.iter().zip(per) {
        v.sort_by(f64::total_cmp);
        println!(
            "{}: {:.3} us/search (median of {} rounds; min {:.3})",
            d.display(),
            v[v.len() / 2],
            v.len(),
            v[0]
        );
    }
}
