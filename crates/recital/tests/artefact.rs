//! `recital artefact scan` through the real binary: passages of a protected
//! work planted in a GGUF's metadata and tokenizer (written with llama.cpp's
//! `gguf` Python package), a safetensors header, a token-id array, a
//! Parquet datastore, SQLite and JSONL stores, gzip and zstd members and
//! UTF-16 runs, each found once with its place and source; the real
//! SmolLM2 GGUF found clean; damaged files refused with the file and offset.
//!
//! The index is the bundled sample corpus, with Hamlet's rights changed to
//! a proprietary licence so that its copies are redacted (not distributable).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/write_artefacts.py");
const LICENSE: &str = "LicenseRef-Proprietary-Test";

fn recital() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recital"));
    c.env("NO_COLOR", "1");
    c
}

/// The sample corpus's index, Hamlet made proprietary; built once per run.
fn index() -> &'static str {
    static INDEX: OnceLock<String> = OnceLock::new();
    INDEX.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("artefact-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sample = Path::new(ROOT).join("data/sample");
        // The sample's rules for its prose, made relative to the prose
        // directory (the input root: this sidecar lies elsewhere), then ours.
        let mut rights: String = std::fs::read_to_string(sample.join("rights.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"prose/"))
            .map(|l| format!("{}\n", l.replace("\"prose/", "\"")))
            .collect();
        rights.push_str(&format!(
            "{{\"path\": \"shakespeare/hamlet.txt\", \"license\": \"{LICENSE}\", \"holder\": \"Test Rights Holder\"}}\n"
        ));
        std::fs::write(dir.join("rights.jsonl"), rights).unwrap();
        let idx = dir.join("idx");
        let o = recital()
            .args(["index", "build", "--index", idx.to_str().unwrap(), "--rights"])
            .arg(dir.join("rights.jsonl"))
            .arg(sample.join("prose"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        idx.to_str().unwrap().to_string()
    })
}

/// A passage of Hamlet: about 400 bytes from the line after byte `at`.
fn passage(at: usize) -> String {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("data/sample/prose/shakespeare/hamlet.txt")).unwrap();
    let start = at + text[at..].find('\n').unwrap() + 1;
    let end = start + 400 + text[start + 400..].find(char::is_whitespace).unwrap();
    text[start..end].to_string()
}

fn scan(paths: &[&Path], extra: &[&str]) -> Output {
    recital()
        .args(["artefact", "scan", "--index", index(), "--json"])
        .args(extra)
        .args(paths)
        .output()
        .unwrap()
}

fn report(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "status {:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "recital.artefact-scan/1");
    v
}

/// The copies whose field is `field`.
fn copies_in<'a>(v: &'a Value, field: &str) -> Vec<&'a Value> {
    v["copies"].as_array().unwrap().iter().filter(|c| c["field"] == field).collect()
}

/// The copy is of Hamlet, under the test licence, redacted, and long.
fn assert_hamlet(c: &Value) {
    let src = &c["span"]["sources"][0];
    assert!(src["doc_id"].as_str().unwrap().ends_with("hamlet.txt"), "{c}");
    assert_eq!(src["license"], LICENSE, "{c}");
    assert_eq!(c["decision"]["action"], "redact", "{c}");
    assert!(c["span"]["tokens"].as_u64().unwrap() >= 50, "{c}");
}

/// A Python with `gguf` and `numpy`: `RECITAL_TEST_PYTHON`, or one installed now.
fn python() -> String {
    let py = match std::env::var("RECITAL_TEST_PYTHON") {
        Ok(p) if !p.trim().is_empty() => p,
        _ => {
            let o = Command::new("bash")
                .arg(Path::new(ROOT).join("scripts/install-test-deps.sh"))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(o.status.success(), "installing gguf and numpy: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or("").trim().to_string()
        }
    };
    let o = Command::new(&py).args(["-c", "import gguf, numpy"]).output().unwrap();
    assert!(
        o.status.success(),
        "the test Python {py:?} cannot import gguf and numpy (run scripts/install-test-deps.sh):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    py
}

/// Writes the Python-made artefacts into `dir`; the passages planted.
fn python_artefacts(dir: &Path) -> Value {
    let cfg = serde_json::json!({
        "metadata": passage(20_000),
        "vocab": passage(35_000),
        "header": passage(50_000),
        "ids": passage(65_000),
    });
    let o = Command::new(python())
        .arg(SCRIPT)
        .arg(dir)
        .arg(cfg.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    cfg
}

#[test]
fn passages_in_gguf_safetensors_and_token_ids_are_found() {
    let t = tempfile::tempdir().unwrap();
    let cfg = python_artefacts(t.path());
    let gguf = t.path().join("model.gguf");
    let v = report(&scan(
        &[&gguf, &t.path().join("model.safetensors"), &t.path().join("datastore.npy")],
        &["--tokenizer", t.path().join("tokenizer.json").to_str().unwrap()],
    ));
    assert_eq!(v["copies"].as_array().unwrap().len(), 4, "{v:#}");

    // The metadata value: its offset is the copy's first byte in the file.
    let meta = copies_in(&v, "general.description");
    assert_eq!(meta.len(), 1, "{v:#}");
    assert_hamlet(meta[0]);
    assert_eq!(meta[0]["format"], "gguf");
    let bytes = std::fs::read(&gguf).unwrap();
    let at = meta[0]["offset"].as_u64().unwrap() as usize;
    let text = meta[0]["span"]["text"].as_str().unwrap();
    assert_eq!(&bytes[at..at + text.len()], text.as_bytes());
    assert!(cfg["metadata"].as_str().unwrap().contains(text));

    // The vocabulary: one token a word; the copy starts at an element.
    let vocab = copies_in(&v, "tokenizer.ggml.tokens");
    assert_eq!(vocab.len(), 1, "{v:#}");
    assert_hamlet(vocab[0]);
    assert!(vocab[0]["index"].as_u64().unwrap() >= 2, "{}", vocab[0]);

    let header = copies_in(&v, "__metadata__.notes");
    assert_eq!(header.len(), 1, "{v:#}");
    assert_hamlet(header[0]);
    assert_eq!(header[0]["format"], "safetensors");

    let ids: Vec<&Value> = v["copies"].as_array().unwrap().iter().filter(|c| c["format"] == "npy").collect();
    assert_eq!(ids.len(), 1, "{v:#}");
    assert_hamlet(ids[0]);
    // The stored stream starts at element 2 (after the padding); the place
    // is the first id of the decoded stretch holding the copy's start.
    let index = ids[0]["index"].as_u64().unwrap();
    assert!(index <= 2, "{}", ids[0]);
    assert_eq!(ids[0]["offset"].as_u64().unwrap(), 128 + 4 * index, "{}", ids[0]);
    assert!(ids[0]["file"].as_str().unwrap().ends_with("datastore.npy"));

    assert_eq!(v["action"], "redact");
    assert_eq!(v["distributable"], false);
    let files = v["files"].as_array().unwrap();
    assert_eq!(
        files.iter().map(|f| f["kind"].as_str().unwrap()).collect::<Vec<_>>(),
        ["gguf", "safetensors", "npy"]
    );

    // Without a tokenizer the ids are bytes: nothing, and a warning.
    let o = scan(&[&t.path().join("datastore.npy")], &[]);
    let w = report(&o);
    assert!(w["copies"].as_array().unwrap().is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("give a tokenizer"));
}

/// Pseudo-random bytes (xorshift), so the test's files are the same each run.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn utf16(s: &str, be: bool) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
}

#[test]
fn compressed_members_and_utf16_runs_in_a_blob_are_found() {
    let t = tempfile::tempdir().unwrap();
    let (p8, p16le, p16be, pgz, pzst) =
        (passage(10_000), passage(30_000), passage(45_000), passage(60_000), passage(75_000));
    let mut blob = noise(300_000, 1);
    let put = |bytes: &[u8], blob: &mut Vec<u8>| {
        let at = blob.len();
        blob.extend_from_slice(bytes);
        blob.extend_from_slice(&noise(50_001, at as u64));
        at as u64
    };
    let at8 = put(p8.as_bytes(), &mut blob);
    let at_le = put(&utf16(&p16le, false), &mut blob);
    let at_be = put(&utf16(&p16be, true), &mut blob);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(pgz.as_bytes()).unwrap();
    let at_gz = put(&gz.finish().unwrap(), &mut blob);
    let at_zst = put(&zstd::encode_all(pzst.as_bytes(), 3).unwrap(), &mut blob);
    let path = t.path().join("weights.bin");
    std::fs::write(&path, &blob).unwrap();

    let v = report(&scan(&[&path], &[]));
    let copies = v["copies"].as_array().unwrap();
    assert_eq!(copies.len(), 5, "{v:#}");
    for c in copies {
        assert_hamlet(c);
        assert_eq!(c["format"], "strings");
    }
    let by = |enc: &str, members: usize| -> Vec<&Value> {
        copies
            .iter()
            .filter(|c| c["encoding"] == enc && c["members"].as_array().map_or(0, Vec::len) == members)
            .collect()
    };
    let plain = by("utf8", 0);
    assert_eq!(plain.len(), 1, "{v:#}");
    // Random bytes before the passage may be printable and glued to its
    // first word: the copy starts at most a word in, at its own bytes.
    let at = plain[0]["offset"].as_u64().unwrap();
    assert!((at8..at8 + 12).contains(&at), "{at} vs {at8}");
    let text = plain[0]["span"]["text"].as_str().unwrap();
    assert_eq!(&blob[at as usize..at as usize + text.len()], text.as_bytes());
    let le = by("utf16", 0);
    assert_eq!(le.len(), 2, "{v:#}");
    // Little-endian exactly; big-endian Latin text is read one byte late.
    let offsets: Vec<u64> = le.iter().map(|c| c["offset"].as_u64().unwrap()).collect();
    assert!(
        offsets.iter().any(|&o| (at_le..at_le + 24).contains(&o) && (o - at_le) % 2 == 0),
        "{offsets:?} vs {at_le}"
    );
    assert!(
        offsets.iter().any(|&o| (at_be + 1..at_be + 25).contains(&o) && (o - at_be) % 2 == 1),
        "{offsets:?} vs {at_be}"
    );
    let members = by("utf8", 1);
    assert_eq!(members.len(), 2, "{v:#}");
    let kinds: Vec<(&str, u64)> = members
        .iter()
        .map(|c| (c["members"][0]["kind"].as_str().unwrap(), c["members"][0]["offset"].as_u64().unwrap()))
        .collect();
    assert!(kinds.contains(&("gzip", at_gz)) && kinds.contains(&("zstd", at_zst)), "{kinds:?}");
    assert_eq!(v["files"][0]["members"], 2);

    // A whole-file zstd stream of JSONL is read as JSONL, by line and field.
    let rows: String = (0..50)
        .map(|i| {
            let text = if i == 37 { pgz.clone() } else { format!("an ordinary record number {i}") };
            format!("{}\n", serde_json::json!({"id": i, "doc": {"text": text}}))
        })
        .collect();
    let zst = t.path().join("store.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(rows.as_bytes(), 3).unwrap()).unwrap();
    let v = report(&scan(&[&zst], &[]));
    let c = &v["copies"][0];
    assert_eq!(v["copies"].as_array().unwrap().len(), 1, "{v:#}");
    assert_hamlet(c);
    assert_eq!(
        (c["format"].as_str(), c["row"].as_u64(), c["field"].as_str()),
        (Some("jsonl"), Some(38), Some("/doc/text"))
    );
    assert_eq!(c["members"][0]["kind"], "zstd");
}

/// Public-domain passages in scripts other than Latin: the opening of the
/// Daodejing, the Iroha (all kana), the Taketori Monogatari, Eugene Onegin,
/// and Genesis 1 in Hebrew and in Van Dyck's Arabic.
const WORLD: [(&str, &str); 6] = [
    (
        "daodejing.txt",
        "道可道，非常道。名可名，非常名。無名天地之始；有名萬物之母。故常無欲，以觀其妙；常有欲，以觀其徼。此兩者，同出而異名，同謂之玄。玄之又玄，衆妙之門。",
    ),
    (
        "iroha.txt",
        "いろはにほへと　ちりぬるを　わかよたれそ　つねならむ　うゐのおくやま　けふこえて　あさきゆめみし　ゑひもせす",
    ),
    (
        "taketori.txt",
        "今は昔、竹取の翁といふものありけり。野山にまじりて竹を取りつつ、よろづのことに使ひけり。名をば、さぬきの造となむいひける。その竹の中に、もと光る竹なむ一筋ありける。あやしがりて、寄りて見るに、筒の中光りたり。",
    ),
    (
        "onegin.txt",
        "Мой дядя самых честных правил, Когда не в шутку занемог, Он уважать себя заставил И лучше выдумать не мог. Его пример другим наука; Но, боже мой, какая скука С больным сидеть и день и ночь, Не отходя ни шагу прочь!",
    ),
    (
        "bereshit.txt",
        "בראשית ברא אלהים את השמים ואת הארץ והארץ היתה תהו ובהו וחשך על פני תהום ורוח אלהים מרחפת על פני המים ויאמר אלהים יהי אור ויהי אור וירא אלהים את האור כי טוב ויבדל אלהים בין האור ובין החשך",
    ),
    (
        "takwin.txt",
        "في البدء خلق الله السماوات والأرض. وكانت الأرض خربة وخالية، وعلى وجه الغمر ظلمة، وروح الله يرف على وجه المياه. وقال الله: ليكن نور، فكان نور. ورأى الله النور أنه حسن. وفصل الله بين النور والظلمة.",
    ),
];

/// Each passage of [`WORLD`] planted in UTF-16, in both byte orders and
/// both alignments, amid random bytes, is found once per planting, at its
/// own bytes, in its own encoding — also where the other byte order one
/// byte off reads as the same text (kana share their high byte).
#[test]
fn utf16_copies_in_every_script_are_found_once() {
    let t = tempfile::tempdir().unwrap();
    let corpus = t.path().join("world");
    std::fs::create_dir_all(&corpus).unwrap();
    for (name, text) in WORLD {
        std::fs::write(corpus.join(name), text).unwrap();
    }
    let idx = t.path().join("idx");
    let o = recital().args(["index", "build", "--index"]).arg(&idx).arg(&corpus).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut blob = noise(10_001, 7);
    let mut planted = Vec::new();
    for (k, (name, text)) in WORLD.iter().enumerate() {
        for (odd, be) in [(false, false), (true, true), (true, false), (false, true)] {
            if (blob.len() % 2 == 1) != odd {
                blob.push(0xA5);
            }
            planted.push((*name, blob.len() as u64, be));
            blob.extend(utf16(text, be));
            blob.extend(noise(3_001, (k * 4 + planted.len()) as u64));
        }
    }
    let path = t.path().join("resources.bin");
    std::fs::write(&path, &blob).unwrap();
    let o = recital()
        .args(["artefact", "scan", "--json", "--min-tokens", "12", "--index"])
        .arg(&idx)
        .arg(&path)
        .output()
        .unwrap();
    let v = report(&o);
    let copies = v["copies"].as_array().unwrap();
    let mut got: Vec<(String, u64, String)> = copies
        .iter()
        .map(|c| {
            let doc = c["span"]["sources"][0]["doc_id"].as_str().unwrap().rsplit('/').next().unwrap();
            (doc.to_string(), c["offset"].as_u64().unwrap(), c["encoding"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, u64, String)> = planted
        .iter()
        .map(|(name, at, be)| (name.to_string(), *at, if *be { "utf16be" } else { "utf16le" }.to_string()))
        .collect();
    want.sort();
    // A copy may start a token in (a first character the detector's seed
    // skips); it never starts in another planting's bytes.
    assert_eq!(got.len(), want.len(), "{got:#?}\nwant {want:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.0, &g.2), (&w.0, &w.2), "{got:#?}");
        assert!(g.1 >= w.1 && g.1 < w.1 + 16 && (g.1 - w.1) % 2 == 0, "{g:?} vs {w:?}");
    }
}

#[test]
fn a_copy_across_window_edges_is_reported_once() {
    // Filler words the corpus does not have; a short passage across the
    // first 256 KiB edge and a 40 KB one (longer than the overlap) across
    // the second: one run of text, two copies.
    let words = ["zorp", "quix", "vell", "mandu", "trask", "oolem", "frin", "gabbet"];
    let filler = |n: usize, seed: u64| -> String {
        noise(n / 5, seed).iter().map(|b| words[(*b % 8) as usize]).collect::<Vec<_>>().join(" ")
    };
    let hamlet =
        std::fs::read_to_string(Path::new(ROOT).join("data/sample/prose/shakespeare/hamlet.txt")).unwrap();
    let long = &hamlet[90_000..130_000];
    let long = &long[long.find('\n').unwrap() + 1..long.rfind('\n').unwrap()];
    let short = passage(5_000);
    let mut text = filler(256 * 1024 - 200, 3);
    text.push(' ');
    text.push_str(&short);
    text.push(' ');
    text.push_str(&filler(2 * 256 * 1024 - 20_000 - text.len(), 4));
    text.push(' ');
    text.push_str(long);
    text.push(' ');
    text.push_str(&filler(50_000, 5));
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("long.txt");
    std::fs::write(&path, &text).unwrap();
    let v = report(&scan(&[&path], &[]));
    let copies = v["copies"].as_array().unwrap();
    assert_eq!(
        copies.len(),
        2,
        "{}",
        serde_json::to_string(&v["copies"]).unwrap().chars().take(3000).collect::<String>()
    );
    let starts: Vec<u64> = copies.iter().map(|c| c["offset"].as_u64().unwrap()).collect();
    let (s0, l0) = (text.find(&short).unwrap() as u64, text.find(long).unwrap() as u64);
    assert!(starts[0].abs_diff(s0) < 20 && starts[1].abs_diff(l0) < 20, "{starts:?} vs {s0}, {l0}");
    let ends: Vec<u64> = copies.iter().map(|c| c["span"]["byte_end"].as_u64().unwrap()).collect();
    assert!(ends[0].abs_diff(s0 + short.len() as u64) < 20, "{ends:?}");
    assert!(ends[1].abs_diff(l0 + long.len() as u64) < 20, "{ends:?}");
    for c in copies {
        assert_hamlet(c);
    }
}

#[test]
fn sqlite_rows_are_found_by_table_and_column() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("rag.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch("CREATE TABLE chunks (id INTEGER PRIMARY KEY, source TEXT, body TEXT, emb BLOB);")
        .unwrap();
    for i in 0..20 {
        let body = if i == 12 { passage(80_000) } else { format!("chunk {i} of something else entirely") };
        db.execute(
            "INSERT INTO chunks (source, body, emb) VALUES (?1, ?2, ?3)",
            rusqlite::params!["web", body, vec![0u8; 16]],
        )
        .unwrap();
    }
    drop(db);
    let v = report(&scan(&[&path], &[]));
    assert_eq!(v["copies"].as_array().unwrap().len(), 1, "{v:#}");
    let c = &v["copies"][0];
    assert_hamlet(c);
    assert_eq!(
        (c["format"].as_str(), c["row"].as_u64(), c["field"].as_str()),
        (Some("sqlite"), Some(13), Some("chunks.body"))
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_datastore_rows_are_found() {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("datastore.parquet");
    let schema = parquet::schema::parser::parse_message_type(
        "message s { REQUIRED INT64 id; REQUIRED BYTE_ARRAY chunk (UTF8); }",
    )
    .unwrap();
    let props = WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build();
    let mut w =
        SerializedFileWriter::new(std::fs::File::create(&path).unwrap(), Arc::new(schema), Arc::new(props))
            .unwrap();
    let ids: Vec<i64> = (0..100).collect();
    let chunks: Vec<ByteArray> = ids
        .iter()
        .map(|&i| {
            if i == 64 {
                ByteArray::from(passage(95_000).as_str())
            } else {
                ByteArray::from(format!("row {i} text").as_str())
            }
        })
        .collect();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<Int64Type>().write_batch(&ids, None, None).unwrap();
    col.close().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<ByteArrayType>().write_batch(&chunks, None, None).unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();

    let v = report(&scan(&[&path], &[]));
    assert_eq!(v["copies"].as_array().unwrap().len(), 1, "{v:#}");
    let c = &v["copies"][0];
    assert_hamlet(c);
    assert_eq!(
        (c["format"].as_str(), c["row"].as_u64(), c["field"].as_str()),
        (Some("parquet"), Some(65), Some("chunk"))
    );
    // --fail-on: the redacted copy reaches `redact`.
    let o = scan(&[&path], &["--fail-on", "redact"]);
    assert_eq!(o.status.code(), Some(3));
}

/// The unmodified SmolLM2 GGUF (metadata, 49,152-token vocabulary, merges,
/// weights) stores nothing of the sample corpus.
#[test]
fn smollm2_gguf_stores_no_protected_text() {
    let gguf = match std::env::var("RECITAL_TEST_GGUF") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let o = Command::new(Path::new(ROOT).join("scripts/install-test-model.sh")).output().unwrap();
            assert!(o.status.success(), "installing the test model: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap().trim().to_string()
        }
    };
    let v = report(&scan(&[Path::new(&gguf)], &[]));
    assert_eq!(v["files"][0]["kind"], "gguf");
    assert!(v["copies"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(v["distributable"], true);
    assert_eq!(v["action"], "allow");
}

/// Runs the scan under a 3 GiB address-space limit: a file that makes the
/// reader allocate what it declares fails loudly instead of passing.
fn scan_limited(path: &Path) -> Output {
    let cmd =
        format!("ulimit -v 3145728; exec \"$0\" artefact scan --index '{}' '{}'", index(), path.display());
    Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .arg(env!("CARGO_BIN_EXE_recital"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn damaged_artefacts_are_refused_with_file_and_offset() {
    let t = tempfile::tempdir().unwrap();
    python_artefacts(t.path());
    let good = std::fs::read(t.path().join("model.gguf")).unwrap();
    let npy = std::fs::read(t.path().join("datastore.npy")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.gguf", good[..200].to_vec(), "truncated"),
        ("bad-version.gguf", [b"GGUF".as_slice(), &[9, 0, 0, 0], &[0; 16]].concat(), "GGUF version 9"),
        ("short.npy", npy[..npy.len() - 9].to_vec(), "declares"),
    ];
    // A string length of 2^60 in the first key.
    let mut lying = good.clone();
    lying[24..32].copy_from_slice(&(1u64 << 60).to_le_bytes());
    cases.push(("lying.gguf", lying, "declares"));
    // A metadata count far past the file.
    let mut many = good.clone();
    many[16..24].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    cases.push(("many.gguf", many, "metadata count"));
    // A safetensors header of 90 MB declared in a tiny file.
    let mut st = 90_000_000u64.to_le_bytes().to_vec();
    st.extend_from_slice(b"{\"__metadata__\": {}}");
    cases.push(("huge-header.safetensors", st, "header of 90000000 bytes"));
    // Tensor data declared past the end.
    let header = br#"{"w": {"dtype": "F32", "shape": [1000000000], "data_offsets": [0, 4000000000]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header);
    cases.push(("huge-data.safetensors", st, "4000000000 bytes of tensor data"));
    // An .npy shape of 10^12 ids, and a header that is not a dict.
    let mut big = npy.clone();
    let h = String::from_utf8_lossy(&big[10..]).to_string();
    let shape_at = 10 + h.find("'shape': (").unwrap() + 10;
    big[shape_at..shape_at + 2].copy_from_slice(b"99");
    let big_text = String::from_utf8_lossy(&big[..128]).to_string();
    assert!(big_text.contains("'shape': (99"), "{big_text}");
    cases.push(("huge.npy", big, "declares"));
    let mut bad = npy.clone();
    bad[10..17].copy_from_slice(b"garbage");
    cases.push(("bad-header.npy", bad, "invalid .npy header"));
    cases.push(("truncated.gz", flate2_prefix(), "truncated"));

    for (name, bytes, why) in cases {
        let path = t.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = scan_limited(&path);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{name}: {err}");
        let line = err
            .lines()
            .find(|l| l.contains(path.to_str().unwrap()))
            .unwrap_or_else(|| panic!("{name}: {err}"));
        assert!(line.contains("offset ") && line.contains(why), "{name}: {line}");
    }
}

/// The first half of a gzip stream of text.
fn flate2_prefix() -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(passage(1_000).repeat(20).as_bytes()).unwrap();
    let all = gz.finish().unwrap();
    all[..all.len() / 2].to_vec()
}
