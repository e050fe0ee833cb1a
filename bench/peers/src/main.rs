//! Helper for `bench/run.sh`: the recital side of the peer comparisons, and the
//! Bloom-filter baseline.
//!
//! ```sh
//! peers_bench count    INDEX QUERIES.jsonl ROUNDS     # JSONL per query: count, latencies (µs)
//! peers_bench spans    INDEX OUTPUTS.jsonl ROUNDS     # JSONL per output: maximal spans, latencies (ms)
//! peers_bench accuracy --corpus C --outputs N --seed S --work DIR --out FILE [--bloom-width W] [--bloom-fp P]
//! ```
//!
//! `accuracy` reuses the detection accuracy suite of
//! `crates/recital-detect/examples/accuracy/suite/` (included by path, not
//! copied): the same corpora, split, generator and perturbations as
//! `bench/accuracy.sh`. Per generated output it writes the text, the ground
//! truth and the byte ranges predicted by recital (`scan()`, default options,
//! every non-boilerplate span) and by the Bloom filter, so that
//! `bench/peers/score.py` scores every tool (and Dolos and copydetect, run on
//! the same files) with one scorer.

#[allow(dead_code, unused_imports)]
#[path = "../../../crates/recital-detect/examples/accuracy/suite/mod.rs"]
mod suite;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bloomfilter::Bloom;
use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_index::{Index, Stream};
use serde_json::{json, Value};
use suite::{corpus, Class, Generator};
use unicode_normalization::UnicodeNormalization;

fn read_jsonl(path: &Path) -> Vec<Value> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(&l).expect("json line"))
        .collect()
}

fn us(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e6
}

/// `count`: the same text queries as infini-gram's (decoded GPT-2 token spans).
/// Timed: `Index::count_tokens` on the query's normalised tokens (the
/// counterpart of infini-gram's `count(input_ids)`, which takes token ids);
/// also timed with tokenisation (`Query::text` + count).
fn cmd_count(args: &[String]) {
    let idx = Index::open(Path::new(&args[0])).expect("open index");
    let qs = read_jsonl(Path::new(&args[1]));
    let rounds: usize = args[2].parse().expect("rounds");
    let queries: Vec<(u64, String, Vec<String>)> = qs
        .iter()
        .map(|q| {
            let text = q["text"].as_str().expect("text").to_string();
            let toks = recital_index::Query::text(&text).tokens;
            (q["n"].as_u64().unwrap_or(0), text, toks)
        })
        .collect();
    // Warm-up pass.
    let mut counts = Vec::new();
    for (_, _, t) in &queries {
        counts.push(idx.count_tokens(Stream::Text, t));
    }
    let mut lat = vec![Vec::new(); queries.len()];
    let mut lat_tok = vec![Vec::new(); queries.len()];
    let mut order: Vec<usize> = (0..queries.len()).collect();
    let mut rng = suite::Rng::new(99);
    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let t0 = Instant::now();
            let c = idx.count_tokens(Stream::Text, &queries[i].2);
            lat[i].push(us(t0));
            assert_eq!(c, counts[i]);
        }
    }
    // The same with tokenisation, in rounds of their own.
    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let t1 = Instant::now();
            let q = recital_index::Query::text(&queries[i].1);
            let c2 = idx.count_tokens(Stream::Text, &q.tokens);
            lat_tok[i].push(us(t1));
            assert_eq!(c2, counts[i]);
        }
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    for (i, (n, _, toks)) in queries.iter().enumerate() {
        let line = json!({"i": i, "n": n, "tokens": toks.len(), "count": counts[i], "lat_us": lat[i], "lat_tok_us": lat_tok[i]});
        writeln!(out, "{line}").unwrap();
    }
}

/// `spans`: every maximal span (any length ≥ 1 token) of each output, the
/// OLMoTrace definition: tokenise, the longest match at every position
/// (`Index::match_lengths`), keep a span iff it reaches further than every
/// earlier one. Also the full `scan()` (detection with attribution) time.
fn cmd_spans(args: &[String]) {
    let idx = Index::open(Path::new(&args[0])).expect("open index");
    let outs = read_jsonl(Path::new(&args[1]));
    let rounds: usize = args[2].parse().expect("rounds");
    let texts: Vec<String> = outs.iter().map(|o| o["text"].as_str().expect("text").to_string()).collect();
    let run = |text: &str| {
        let ts = recital_text::tokenize(text);
        let toks: Vec<&str> = ts.texts().collect();
        let lens = idx.match_lengths(Stream::Text, &toks);
        let spans = recital_detect::spans::maximal_spans(&lens, 1);
        (ts, spans)
    };
    for t in &texts {
        run(t); // warm
    }
    let opts = ScanOptions::default();
    let out = std::io::stdout();
    let mut out = out.lock();
    for (i, t) in texts.iter().enumerate() {
        let mut ms = Vec::new();
        let mut res = None;
        for _ in 0..rounds {
            let t0 = Instant::now();
            let r = run(t);
            ms.push(us(t0) / 1e3);
            res = Some(r);
        }
        let mut scan_ms = Vec::new();
        let input = Input::decode(t.as_bytes()).expect("decode");
        for _ in 0..rounds {
            let t0 = Instant::now();
            let rep = scan(&idx, &input, &opts).expect("scan");
            scan_ms.push(us(t0) / 1e3);
            std::hint::black_box(rep);
        }
        let (ts, spans) = res.expect("rounds >= 1");
        let ge8: Vec<[usize; 2]> = spans
            .iter()
            .filter(|s| s.len() >= 8)
            .map(|s| [ts.tokens[s.start].src.start, ts.tokens[s.end - 1].src.end])
            .collect();
        let line = json!({
            "i": i, "bytes": t.len(), "tokens": ts.len(), "spans": spans.len(),
            "spans_ge8": ge8.len(), "longest": spans.iter().map(|s| s.len()).max().unwrap_or(0),
            "ge8_bytes": ge8, "ms": ms, "scan_ms": scan_ms,
        });
        writeln!(out, "{line}").unwrap();
    }
}

// ---------------------------------------------------------------- Bloom filter

/// Normalised characters with the source byte range each came from:
/// NFKC per character, lower case, only alphanumeric characters kept (Data
/// Portraits' normalisation; whitespace, punctuation and invisible characters
/// are dropped).
fn normalise(text: &str) -> Vec<(char, usize, usize)> {
    let mut out = Vec::with_capacity(text.len());
    for (b, c) in text.char_indices() {
        let e = b + c.len_utf8();
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push((c.to_ascii_lowercase(), b, e));
            }
            continue;
        }
        for n in std::iter::once(c).nfkc() {
            for l in n.to_lowercase() {
                if l.is_alphanumeric() {
                    out.push((l, b, e));
                }
            }
        }
    }
    out
}

struct BloomBaseline {
    bloom: Bloom<[char]>,
    width: usize,
    items: usize,
    bytes: usize,
    build_s: f64,
}

impl BloomBaseline {
    /// Every `width`-character window (stride 1) of every indexed document.
    fn build(docs: &[corpus::Doc], width: usize, fp: f64) -> Self {
        let t0 = Instant::now();
        let norm: Vec<Vec<char>> =
            docs.iter().map(|d| normalise(&d.text).into_iter().map(|x| x.0).collect()).collect();
        let items: usize = norm.iter().map(|n| n.len().saturating_sub(width - 1)).sum::<usize>().max(1);
        // A fixed seed (reproducible runs) whose two SipHash keys differ: the crate derives
        // the k bit positions as h1 + i·h2 from the two keys' hashes, so equal keys would make
        // them all multiples of one hash.
        let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let mut bloom = Bloom::new_for_fp_rate_with_seed(items, fp, &seed).expect("bloom");
        for n in &norm {
            if n.len() >= width {
                for w in n.windows(width) {
                    bloom.set(w);
                }
            }
        }
        let bytes = Bloom::<[char]>::compute_bitmap_size(items, fp);
        Self { bloom, width, items, bytes, build_s: t0.elapsed().as_secs_f64() }
    }

    /// Source byte ranges of every window found in the filter, merged.
    fn predict(&self, text: &str) -> Vec<[usize; 2]> {
        let n = normalise(text);
        let chars: Vec<char> = n.iter().map(|x| x.0).collect();
        let mut out: Vec<[usize; 2]> = Vec::new();
        if chars.len() < self.width {
            return out;
        }
        for (p, w) in chars.windows(self.width).enumerate() {
            if self.bloom.check(w) {
                let (s, e) = (n[p].1, n[p + self.width - 1].2);
                match out.last_mut() {
                    Some(l) if s <= l[1] => l[1] = l[1].max(e),
                    _ => out.push([s, e]),
                }
            }
        }
        out
    }

    /// False-positive rate measured on random alphanumeric windows (none of
    /// which occurs in a real corpus).
    fn measured_fp(&self, queries: usize) -> f64 {
        let mut rng = suite::Rng::new(12345);
        let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789".chars().collect();
        let mut hits = 0usize;
        let mut w = vec!['a'; self.width];
        for _ in 0..queries {
            for c in w.iter_mut() {
                *c = alphabet[rng.below(alphabet.len())];
            }
            hits += self.bloom.check(&w[..]) as usize;
        }
        hits as f64 / queries as f64
    }
}

fn load_corpus(spec: &str) -> Corpus {
    let data = std::env::var_os("RECITAL_BENCH_DATA").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/recital-bench")
    });
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/code");
    match spec {
        "kjv" => corpus::kjv(),
        "sample-code" => corpus::code_dir("sample-code", &sample, 4, 1 << 20),
        "prose-small" | "prose" => corpus::jsonl_dir(spec, &data.join(spec), 5),
        "linux-c-small" | "linux-c" => corpus::code_dir(spec, &data.join(spec), 5, 1 << 20),
        _ => None,
    }
    .unwrap_or_else(|| panic!("corpus {spec} is not available"))
}
use suite::Corpus;

fn dir_bytes(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().expect("metadata");
            total += if m.is_dir() { dir_bytes(&e.path()) } else { m.len() };
        }
    }
    total
}

fn ranges(v: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    v.iter().map(|r| [r.start, r.end]).collect()
}

/// `accuracy`: generated outputs with ground truth and the predictions of
/// recital and the Bloom filter (JSONL), plus one summary line.
fn cmd_accuracy(args: &[String]) {
    let mut spec = String::from("kjv");
    let (mut n, mut seed, mut width, mut fp) = (50usize, 3u64, 50usize, 0.01f64);
    let mut work = PathBuf::from("/tmp/peers-acc");
    let mut out_path = PathBuf::from("/tmp/peers-acc.jsonl");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut v = || it.next().expect("value").clone();
        match a.as_str() {
            "--corpus" => spec = v(),
            "--outputs" => n = v().parse().expect("N"),
            "--seed" => seed = v().parse().expect("S"),
            "--work" => work = PathBuf::from(v()),
            "--out" => out_path = PathBuf::from(v()),
            "--bloom-width" => width = v().parse().expect("W"),
            "--bloom-fp" => fp = v().parse().expect("P"),
            x => panic!("unknown argument {x}"),
        }
    }
    let c = load_corpus(&spec);
    let dir = work.join(format!("acc-{}", c.name));
    std::fs::create_dir_all(&dir).expect("work dir");
    eprintln!("==> {}", c.describe());
    let t0 = Instant::now();
    let index = corpus::build_index(&c, &dir);
    let recital_build_s = t0.elapsed().as_secs_f64();
    let recital_bytes = dir_bytes(&dir.join("idx"));
    let bloom = BloomBaseline::build(&c.indexed, width, fp);
    let measured = bloom.measured_fp(1_000_000);
    eprintln!(
        "    recital index {:.1} MB in {:.1} s; bloom {} windows, {:.1} MB, built in {:.1} s, measured FP {:.4}",
        recital_bytes as f64 / 1e6,
        recital_build_s,
        bloom.items,
        bloom.bytes as f64 / 1e6,
        bloom.build_s,
        measured
    );
    let opts = ScanOptions::default();
    let classes: &[Class] = if c.code { &Class::CODE } else { &Class::PROSE };
    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path).expect("create out"));
    let (mut t_rec, mut t_bloom) = (0f64, 0f64);
    let mut total = 0usize;
    for (k, &class) in classes.iter().enumerate() {
        let mut g = Generator::new(&c, &index, seed.wrapping_add(k as u64 * 7919));
        for (i, o) in g.outputs(class, n).iter().enumerate() {
            let input = Input::decode(o.text.as_bytes()).expect("decode");
            let t1 = Instant::now();
            let rep = scan(&index, &input, &opts).expect("scan");
            let dt_rec = t1.elapsed().as_secs_f64();
            let rec: Vec<[usize; 2]> = rep
                .spans
                .iter()
                .filter(|s| s.kind != SpanKind::Boilerplate)
                .map(|s| [s.byte_start, s.byte_end])
                .collect();
            let t2 = Instant::now();
            let bl = bloom.predict(&o.text);
            let dt_bloom = t2.elapsed().as_secs_f64();
            t_rec += dt_rec;
            t_bloom += dt_bloom;
            total += 1;
            let line = json!({
                "corpus": c.name, "class": class.name(), "i": i, "text": o.text,
                "pos": ranges(&o.excerpts.iter().map(|e| e.range.clone()).collect::<Vec<_>>()),
                "new": ranges(&o.excerpts.iter().flat_map(|e| e.new_text.iter().cloned()).collect::<Vec<_>>()),
                "held": ranges(&o.held), "dc": ranges(&o.dont_care),
                "docs": o.excerpts.iter().map(|e| e.doc.clone()).collect::<Vec<_>>(),
                "pred": {"recital": rec, "bloom": bl},
                "secs": {"recital": dt_rec, "bloom": dt_bloom},
            });
            writeln!(out, "{line}").expect("write");
        }
    }
    out.flush().expect("flush");
    let summary = json!({
        "corpus": c.name, "code": c.code, "describe": c.describe(), "outputs": total,
        "indexed_docs": c.indexed.len(), "indexed_bytes": c.indexed.iter().map(|d| d.text.len()).sum::<usize>(),
        "ref_dir": if c.code { dir.join("src").to_string_lossy().into_owned() } else { String::new() },
        "recital": {"build_s": recital_build_s, "index_bytes": recital_bytes, "scan_s": t_rec},
        "bloom": {"width": width, "target_fp": fp, "measured_fp": measured, "items": bloom.items,
                   "bytes": bloom.bytes, "build_s": bloom.build_s, "query_s": t_bloom,
                   "hashes": bloom.bloom.number_of_hash_functions()},
    });
    println!("{summary}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("count") if args.len() == 4 => cmd_count(&args[1..]),
        Some("spans") if args.len() == 4 => cmd_spans(&args[1..]),
        Some("accuracy") => cmd_accuracy(&args[1..]),
        _ => {
            eprintln!("usage: peers_bench count INDEX QUERIES.jsonl ROUNDS | spans INDEX OUTPUTS.jsonl ROUNDS | accuracy --corpus C ...");
            std::process::exit(2);
        }
    }
}
