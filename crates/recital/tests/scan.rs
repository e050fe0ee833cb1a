//! `recital scan` through the real binary: offsets, sources, context, and bad input.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn recital() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recital"));
    c.env("NO_COLOR", "1");
    c
}

fn run_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = recital()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn index(dir: &Path) -> String {
    let c = dir.join("corpus");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(
        c.join("tale.txt"),
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, \
         it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness.",
    )
    .unwrap();
    std::fs::write(c.join("other.txt"), "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.").unwrap();
    std::fs::write(
        c.join("rights.jsonl"),
        "{\"path\": \"tale.txt\", \"license\": \"LicenseRef-PublicDomain\", \"holder\": \"Dickens\"}\n",
    )
    .unwrap();
    let idx = dir.join("idx");
    let o = recital()
        .args([
            "index",
            "build",
            "--index",
            idx.to_str().unwrap(),
            "--rights",
            c.join("rights.jsonl").to_str().unwrap(),
        ])
        .arg(c.join("tale.txt"))
        .arg(c.join("other.txt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    idx.to_str().unwrap().to_string()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn spans_offsets_and_sources() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    // Prefix with multibyte characters so byte, char and UTF-16 offsets differ.
    let out = "Ünïcödé 😀 intro. IT WAS THE BEST OF TIMES, it was the worst of times, it was the AGE of wisdom, it was the age of foolishness. The end.";
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "-"], out.as_bytes()));
    assert_eq!(v["schema"], "recital.scan/1");
    let spans = v["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{v}");
    let s = &spans[0];
    let (b0, b1) = (s["byte_start"].as_u64().unwrap() as usize, s["byte_end"].as_u64().unwrap() as usize);
    assert_eq!(&out[b0..b1], "IT WAS THE BEST OF TIMES, it was the worst of times, it was the AGE of wisdom, it was the age of foolishness");
    assert_eq!(s["char_start"].as_u64().unwrap() as usize, out[..b0].chars().count());
    assert_eq!(s["utf16_start"].as_u64().unwrap() as usize, out[..b0].encode_utf16().count());
    assert_eq!(s["char_end"].as_u64().unwrap() as usize, out[..b1].chars().count());
    assert_eq!(s["kind"], "exact");
    assert_eq!(s["count"], 1);
    assert_eq!(s["sources"][0]["doc_id"], "tale.txt");
    assert_eq!(s["sources"][0]["license"], "LicenseRef-PublicDomain");
    assert_eq!(s["sources"][0]["holder"], "Dickens");
    // --min-tokens above the span's length: nothing reported.
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "--min-tokens", "40", "-"], out.as_bytes()));
    assert_eq!(v["spans"].as_array().unwrap().len(), 0);
    // Human output names the source.
    let o = run_stdin(&["scan", "--index", &idx, "-"], out.as_bytes());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("tale.txt") && text.contains("exact"), "{text}");
}

#[test]
fn the_minimum_comes_from_the_policy_as_in_the_server_and_is_shown() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    let out = "It was the best of times, it was the worst of times.";
    // The built-in policy acts on recipes from 10 tokens, as `recital serve` scans.
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "-"], out.as_bytes()));
    assert_eq!(v["options"]["min_tokens"], 10, "{v}");
    let o = run_stdin(&["scan", "--index", &idx, "-"], out.as_bytes());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("minimum 10 tokens"), "{text}");
    // A policy whose lowest acting threshold is 7.
    let policy = t.path().join("p.toml");
    std::fs::write(
        &policy,
        "name = \"p\"\nversion = 1\ndefault_jurisdiction = \"DE\"\n[categories]\nprose = { min_tokens = 7 }\n\
         [[rules]]\nname = \"r\"\naction = \"redact\"\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "--policy", p, "-"], out.as_bytes()));
    assert_eq!(v["options"]["min_tokens"], 7, "{v}");
    let v = json(&run_stdin(
        &["scan", "--index", &idx, "--json", "--policy", p, "--min-tokens", "9", "-"],
        out.as_bytes(),
    ));
    assert_eq!(v["options"]["min_tokens"], 9, "the flag overrides: {v}");
}

#[test]
fn context_is_exempt() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    let out = "As you asked: Call me Ishmael. Some years ago, never mind how long precisely, having little or no money.";
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "-"], out.as_bytes()));
    assert_eq!(v["spans"].as_array().unwrap().len(), 1);
    let ctx = t.path().join("prompt.txt");
    std::fs::write(&ctx, "Please repeat: call me Ishmael. Some years ago, never mind how long precisely, having little or no money").unwrap();
    let v = json(&run_stdin(
        &["scan", "--index", &idx, "--json", "--context", ctx.to_str().unwrap(), "-"],
        out.as_bytes(),
    ));
    assert_eq!(v["spans"].as_array().unwrap().len(), 0, "{v}");
    assert!(v["exempt_tokens"].as_u64().unwrap() >= 20);
}

#[test]
fn bad_and_odd_input() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    // Empty: no spans, a warning, success.
    let o = run_stdin(&["scan", "--index", &idx, "--json", "-"], b"");
    let v = json(&o);
    assert_eq!(v["spans"].as_array().unwrap().len(), 0);
    assert!(v["warnings"][0].as_str().unwrap().contains("empty"));
    // Binary: a one-line error, non-zero exit.
    let o = run_stdin(&["scan", "--index", &idx, "-"], b"\x7fELF\x02\x01\x01\x00\x00\x00\x00");
    assert!(!o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.contains("binary") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    // Invalid UTF-8 before the copy: lossy decode, offsets still into the input bytes.
    let mut bytes = b"junk \xff\xfe bytes: ".to_vec();
    let start = bytes.len();
    bytes.extend_from_slice(
        b"it was the epoch of belief, it was the epoch of incredulity, it was the season of Light",
    );
    let end = bytes.len();
    bytes.extend_from_slice(b" \xc3 tail");
    let v = json(&run_stdin(&["scan", "--index", &idx, "--json", "-"], &bytes));
    assert!(v["warnings"][0].as_str().unwrap().contains("UTF-8"));
    let s = &v["spans"][0];
    assert_eq!(
        (s["byte_start"].as_u64().unwrap() as usize, s["byte_end"].as_u64().unwrap() as usize),
        (start, end)
    );
    // Missing file and bad options.
    let o = recital()
        .args(["scan", "--index", &idx, t.path().join("nope.txt").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("nope.txt"));
    let o = run_stdin(&["scan", "--index", &idx, "--min-tokens", "0", "-"], b"x");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("at least 1"));
    let o = run_stdin(&["scan", "--index", &idx, "--code", "cobol", "-"], b"x");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("cobol"));
}

#[test]
fn ten_megabyte_output() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    // 10 MB of word salad with a copy every ~1 MB.
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
    let mut out = String::with_capacity(10_500_000);
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut copies = 0;
    while out.len() < 10_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(words[(x % 10) as usize]);
        out.push(if x.is_multiple_of(17) { '\n' } else { ' ' });
        if out.len() / 1_000_000 > copies {
            copies += 1;
            out.push_str(
                "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money. ",
            );
        }
    }
    let p = t.path().join("big.txt");
    std::fs::write(&p, &out).unwrap();
    let o = recital().args(["scan", "--index", &idx, "--json", p.to_str().unwrap()]).output().unwrap();
    let v = json(&o);
    let spans: Vec<_> = v["spans"].as_array().unwrap().iter().filter(|s| s["kind"] == "exact").collect();
    assert_eq!(spans.len(), copies, "one span per planted copy");
    for s in spans {
        let (b0, b1) = (s["byte_start"].as_u64().unwrap() as usize, s["byte_end"].as_u64().unwrap() as usize);
        assert!(out[b0..b1].starts_with("Call me Ishmael"));
    }
}
