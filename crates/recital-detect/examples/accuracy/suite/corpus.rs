//! Corpora: loaded, split into indexed and held-out documents, and indexed.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use recital_index::{BuildOptions, Index, IngestOptions};
use recital_text::code::Lang;

/// One document.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Id (JSONL id or path relative to the corpus root).
    pub id: String,
    /// Full text.
    pub text: String,
    /// Language, for code.
    pub lang: Option<Lang>,
}

/// A corpus split into the part that is indexed and the part that is held out.
pub struct Corpus {
    /// Short name (`kjv`, `sample-code`, `prose-small`, `linux-c-small`).
    pub name: String,
    /// Code (fenced blocks in outputs, code perturbations) or prose.
    pub code: bool,
    /// Indexed documents.
    pub indexed: Vec<Doc>,
    /// Held-out documents: never indexed.
    pub held_out: Vec<Doc>,
}

impl Corpus {
    /// One line for tables: documents and bytes of both parts.
    pub fn describe(&self) -> String {
        let bytes = |d: &[Doc]| d.iter().map(|x| x.text.len()).sum::<usize>();
        format!(
            "{}: {} docs indexed ({:.1} MB), {} held out ({:.1} MB)",
            self.name,
            self.indexed.len(),
            bytes(&self.indexed) as f64 / 1e6,
            self.held_out.len(),
            bytes(&self.held_out) as f64 / 1e6
        )
    }
}

/// Every `every`-th item (from `phase`) held out, the rest indexed.
fn split(docs: Vec<Doc>, every: usize, phase: usize) -> (Vec<Doc>, Vec<Doc>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        if i % every == phase {
            b.push(d);
        } else {
            a.push(d);
        }
    }
    (a, b)
}

/// The King James Bible from the `bible` program (Debian `bible-kjv`), one
/// document per chapter, verse numbers stripped; every fifth chapter held out.
/// `None` when the program is missing.
pub fn kjv() -> Option<Corpus> {
    let out = std::process::Command::new("bible").arg("gen1:1-rev22:21").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut chapters: Vec<Doc> = Vec::new();
    for line in text.lines() {
        let is_heading = !line.starts_with(' ')
            && line.rsplit_once(' ').is_some_and(|(book, n)| !book.is_empty() && n.parse::<u32>().is_ok());
        if is_heading {
            chapters.push(Doc { id: line.trim().to_string(), text: String::new(), lang: None });
        } else if let Some(d) = chapters.last_mut() {
            // "  12 And ..." starts a verse: drop the number.
            let t = line.trim_start();
            let body = match t.split_once(' ') {
                Some((n, rest)) if line.starts_with("  ") && n.parse::<u32>().is_ok() => rest,
                _ => t,
            };
            if !body.is_empty() {
                d.text.push_str(body);
                d.text.push('\n');
            }
        }
    }
    if chapters.len() < 1000 {
        return None;
    }
    let (indexed, held_out) = split(chapters, 5, 4);
    Some(Corpus { name: "kjv".into(), code: false, indexed, held_out })
}

/// Files under `dir`, recursively, in sorted order, hidden entries skipped.
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut es: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    es.sort();
    for p in es {
        if p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Source files under `root` in a language the lexer knows; per language,
/// every `every`-th file (sorted by path) held out.
pub fn code_dir(name: &str, root: &Path, every: usize, max_bytes: usize) -> Option<Corpus> {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut by_lang: std::collections::BTreeMap<&'static str, Vec<Doc>> = Default::default();
    for p in files {
        let Some(lang) = Lang::from_path(&p) else { continue };
        let Ok(bytes) = std::fs::read(&p) else { continue };
        if bytes.len() > max_bytes || bytes.contains(&0) {
            continue;
        }
        let id = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().into_owned();
        by_lang.entry(lang.name()).or_default().push(Doc {
            id,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            lang: Some(lang),
        });
    }
    if by_lang.is_empty() {
        return None;
    }
    let (mut indexed, mut held_out) = (Vec::new(), Vec::new());
    for (_, docs) in by_lang {
        let (a, b) = split(docs, every, every - 1);
        indexed.extend(a);
        held_out.extend(b);
    }
    Some(Corpus { name: name.into(), code: true, indexed, held_out })
}

/// The records of JSONL files (`id`, `text`) in `dir` (not `rights.jsonl`);
/// per file, every `every`-th record held out.
pub fn jsonl_dir(name: &str, dir: &Path, every: usize) -> Option<Corpus> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let (mut indexed, mut held_out) = (Vec::new(), Vec::new());
    for p in files {
        let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !n.ends_with(".jsonl") || n == "rights.jsonl" {
            continue;
        }
        let Ok(f) = std::fs::File::open(&p) else { continue };
        let mut docs = Vec::new();
        for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let (Some(id), Some(text)) = (v["id"].as_str(), v["text"].as_str()) else { continue };
            docs.push(Doc { id: id.to_string(), text: text.to_string(), lang: None });
        }
        let (a, b) = split(docs, every, every - 1);
        indexed.extend(a);
        held_out.extend(b);
    }
    if indexed.is_empty() {
        return None;
    }
    Some(Corpus { name: name.into(), code: false, indexed, held_out })
}

/// Indexes the indexed part of `c` at `work/idx` (prose as one JSONL file,
/// code as files under their relative paths) and opens it.
pub fn build_index(c: &Corpus, work: &Path) -> Index {
    let idx = work.join("idx");
    let _ = std::fs::remove_dir_all(&idx);
    let input = if c.code {
        let src = work.join("src");
        let _ = std::fs::remove_dir_all(&src);
        for d in &c.indexed {
            let p = src.join(&d.id);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, &d.text).expect("write source");
        }
        src
    } else {
        let p = work.join("docs.jsonl");
        let mut body = String::new();
        for d in &c.indexed {
            body.push_str(&serde_json::json!({"id": d.id, "text": d.text}).to_string());
            body.push('\n');
        }
        std::fs::write(&p, body).expect("write jsonl");
        p
    };
    recital_index::build(&idx, &[input], &IngestOptions::default(), &BuildOptions::default())
        .expect("build index");
    Index::open(&idx).expect("open index")
}
