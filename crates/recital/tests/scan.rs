//! `recital scan` through the real binary: offsets, sources, context, bad
//! input, the decision, and the batch paths (`--jsonl`, `--parquet`) that gate CI.

mod support;

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

/// `recital scan --jsonl` with `outputs` written to a file; the output.
fn batch(dir: &Path, idx: &Path, outputs: &str, args: &[&str]) -> Output {
    let f = dir.join("outputs.jsonl");
    std::fs::write(&f, outputs).unwrap();
    recital()
        .args(["scan", "--index", idx.to_str().unwrap(), "--jsonl", f.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A policy that blocks what the built-in one redacts (proprietary copies).
fn blocking_policy(dir: &Path) -> String {
    let everywhere =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/everywhere.toml"))
            .unwrap();
    let p = dir.join("blocking.toml");
    std::fs::write(&p, everywhere.replacen("action = \"redact\"", "action = \"block\"", 1)).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn batch_jsonl_with_a_policy_gates_a_ci_job() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let novel = support::quote(&support::prose(1, 3000), 100, 180); // proprietary
    let manual = support::quote(&support::prose(3, 2000), 200, 280); // MIT: cited
    let outputs = [
        serde_json::json!({"id": "clean", "text": "Nothing in this answer is copied from anywhere at all."})
            .to_string(),
        serde_json::json!({"id": 2, "text": format!("As the manual says: {manual}")}).to_string(),
        String::new(),
        serde_json::json!({"id": "leak", "text": format!("Here it is: {novel}"), "model": "m"}).to_string(),
    ]
    .join("\n");
    let policy = blocking_policy(t.path());
    // The gate: a blocked output fails the job with exit 3, and every output still gets its line.
    let o = batch(t.path(), &idx, &outputs, &["--policy", &policy, "--fail-on", "block"]);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let v = lines(&o);
    assert_eq!(v.len(), 3);
    let got: Vec<(u64, &serde_json::Value, &str)> =
        v.iter().map(|l| (l["line"].as_u64().unwrap(), &l["id"], l["action"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            (1, &serde_json::json!("clean"), "allow"),
            (2, &serde_json::json!(2), "annotate"),
            (4, &serde_json::json!("leak"), "block")
        ]
    );
    for l in &v {
        assert_eq!(l["schema"], "recital.scan-batch/1");
        assert_eq!(l["decision"]["action"], l["action"]);
        assert!(l["decision"]["statement"].is_string() && l["decision"]["policy"].is_string(), "{l}");
    }
    let leak = &v[2];
    let text = format!("Here it is: {novel}");
    let span = &leak["spans"][0];
    let (b0, b1) =
        (span["byte_start"].as_u64().unwrap() as usize, span["byte_end"].as_u64().unwrap() as usize);
    assert!(novel.contains(&text[b0..b1]) && b1 - b0 > novel.len() / 2, "offsets are into the text field");
    assert_eq!(span["sources"][0]["doc_id"], "novel.txt");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("3 output(s)") && err.contains("1 allow, 1 annotate, 0 redact, 1 block; worst block"),
        "{err}"
    );

    // Under the built-in policy the leak is redacted: below a block gate, at a redact gate.
    let o = batch(t.path(), &idx, &outputs, &["--fail-on", "block"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lines(&o)[2]["action"], "redact");
    let o = batch(t.path(), &idx, &outputs, &["--fail-on", "redact", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(3));
    // No gate: a report, exit 0 whatever it found.
    let o = batch(t.path(), &idx, &outputs, &["--policy", &policy]);
    assert_eq!(o.status.code(), Some(0));
    // Standard input, and other field names.
    let renamed = serde_json::json!({"uid": "x", "completion": format!("Quote: {novel}")}).to_string();
    let o = run_stdin(
        &[
            "scan",
            "--index",
            idx.to_str().unwrap(),
            "--jsonl",
            "-",
            "--text-field",
            "completion",
            "--id-field",
            "uid",
            "--fail-on",
            "redact",
        ],
        renamed.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lines(&o)[0]["id"], "x");
}

#[test]
fn batch_bad_lines_fail_by_line_or_are_skipped_out_loud() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let outputs = "{\"id\": 1, \"text\": \"fine\"}\nnot json\n{\"id\": 3}\n{\"text\": 5}\n{\"text\": \"a\\u0000\\u0001\\u0002\\u0003\"}\n";
    let o = batch(t.path(), &idx, outputs, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("outputs.jsonl:2: not JSON"), "{err}");
    let o = batch(t.path(), &idx, outputs, &["--skip-bad-lines"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lines(&o).len(), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        ":2: skipped: not JSON",
        ":3: skipped: no field \"text\"",
        ":4: skipped: field \"text\" is not a string",
        ":5: skipped: the text looks binary",
        "4 bad line(s) skipped",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    // Usage errors: batch flags without --jsonl, --jsonl with a FILE or --json.
    let idx = idx.to_str().unwrap();
    for args in [
        &["scan", "--index", idx, "--text-field", "t", "-"][..],
        &["scan", "--index", idx, "--jsonl", "a", "b"],
        &["scan", "--index", idx, "--jsonl", "a", "--json"],
    ] {
        assert_eq!(recital().args(args).output().unwrap().status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn one_output_carries_the_decision_and_fail_on() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let idx = idx.to_str().unwrap();
    let text = format!("Here it is: {}", support::quote(&support::prose(1, 3000), 100, 180));
    let v = json(&run_stdin(&["scan", "--index", idx, "--json", "-"], text.as_bytes()));
    assert_eq!(v["schema"], "recital.scan/1");
    assert_eq!(v["decision"]["action"], "redact", "{v}");
    assert_eq!(v["decision"]["spans"].as_array().unwrap().len(), v["spans"].as_array().unwrap().len());
    let o = run_stdin(&["scan", "--index", idx, "-"], text.as_bytes());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\npolicy everywhere") && out.contains(": redact\n"), "{out}");
    let o = run_stdin(&["scan", "--index", idx, "--fail-on", "redact", "-"], text.as_bytes());
    assert_eq!(o.status.code(), Some(3));
    let o = run_stdin(
        &["scan", "--index", idx, "--fail-on", "block", "--jurisdiction", "US", "-"],
        text.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Without the `parquet` feature, `--parquet` says what is missing (with it,
/// rows are read and judged: `batch_parquet_equals_batch_jsonl`).
#[test]
#[cfg(not(feature = "parquet"))]
fn parquet_without_its_feature_says_so() {
    let t = tempfile::tempdir().unwrap();
    let idx = index(t.path());
    let o = recital().args(["scan", "--index", &idx, "--parquet", "outputs.parquet"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cargo feature `parquet`"));
    let o = recital().args(["scan", "--index", &idx, "--parquet", "a", "--jsonl", "b"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "one batch at a time");
}

/// `recital scan --parquet` through the binary (feature `parquet`): rows are
/// judged as the same outputs given as JSONL lines are (same ids, actions and
/// spans), gate CI the same way, and a missing column is named.
#[test]
#[cfg(feature = "parquet")]
fn batch_parquet_equals_batch_jsonl() {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let novel = support::quote(&support::prose(1, 3000), 100, 180);
    let manual = support::quote(&support::prose(3, 2000), 200, 280);
    let rows = [
        ("clean", "Nothing in this answer is copied from anywhere at all.".to_string()),
        ("cited", format!("As the manual says: {manual}")),
        ("leak", format!("Here it is: {novel} and that is all.")),
    ];
    let file = t.path().join("outputs.parquet");
    let schema = parquet::schema::parser::parse_message_type(
        "message m { REQUIRED BYTE_ARRAY uid (UTF8); REQUIRED BYTE_ARRAY completion (UTF8); }",
    )
    .unwrap();
    let props =
        Arc::new(WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build());
    let mut w =
        SerializedFileWriter::new(std::fs::File::create(&file).unwrap(), Arc::new(schema), props).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let ids: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r.0)).collect();
    let texts: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r.1.as_str())).collect();
    for column in [ids, texts] {
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<ByteArrayType>().write_batch(&column, None, None).unwrap();
        col.close().unwrap();
    }
    rg.close().unwrap();
    w.close().unwrap();
    let jsonl: String = rows
        .iter()
        .map(|(id, text)| serde_json::json!({"uid": id, "completion": text}).to_string() + "\n")
        .collect();

    let policy = blocking_policy(t.path());
    let fields =
        ["--text-field", "completion", "--id-field", "uid", "--policy", &policy, "--fail-on", "block"];
    let i = idx.to_str().unwrap();
    let f = file.to_str().unwrap();
    let from_parquet = recital().args(["scan", "--index", i, "--parquet", f]).args(fields).output().unwrap();
    assert_eq!(from_parquet.status.code(), Some(3), "{}", String::from_utf8_lossy(&from_parquet.stderr));
    let from_jsonl = batch(t.path(), &idx, &jsonl, &fields);
    assert_eq!(from_jsonl.status.code(), Some(3));
    let (p, j) = (lines(&from_parquet), lines(&from_jsonl));
    let actions: Vec<(&str, &str)> =
        p.iter().map(|l| (l["id"].as_str().unwrap(), l["action"].as_str().unwrap())).collect();
    assert_eq!(actions, [("clean", "allow"), ("cited", "annotate"), ("leak", "block")]);
    for (a, b) in p.iter().zip(&j) {
        for key in ["line", "id", "action", "spans", "decision"] {
            assert_eq!(a[key], b[key], "{key}: {a} / {b}");
        }
    }
    assert!(!p[2]["spans"].as_array().unwrap().is_empty());

    let o = recital().args(["scan", "--index", i, "--parquet", f]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("\"text\"") && err.contains("uid, completion"), "{err}");
}
