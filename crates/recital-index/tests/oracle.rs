//! Property tests: every index answer equals a brute-force scan of the live
//! documents, across shard boundaries, delta shards and tombstones, in text and
//! code modes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use proptest::prelude::*;
use recital_index::{BuildOptions, Index, IndexWriter, IngestOptions, Query, Stream};
use recital_text::code::Lang;

const WORDS: &[&str] =
    &["a", "b", "the", "Cat", "CAT", "cat", ".", ",", "sat", "ﬁsh", "fish", "x\u{200B}y", "xy"];
const CODE: &[&str] =
    &["int", "x", "y", "foo", "=", "+", "1", "2", ";", "(", ")", "return", "/* c */", "\"s\""];

#[derive(Debug, Clone)]
struct Corpus {
    code: bool,
    base: Vec<String>,
    delta: Vec<String>,
    remove: Vec<bool>,
    shard_tokens: u64,
    queries: Vec<Vec<usize>>,
    from_docs: Vec<(usize, usize, usize)>,
    /// Add and remove in one writer's commit rather than in two.
    one_commit: bool,
}

fn doc(alpha: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(0..alpha.len(), 0..40)
        .prop_map(move |ix| ix.iter().map(|&i| alpha[i]).collect::<Vec<_>>().join(" "))
}

fn corpus() -> impl Strategy<Value = Corpus> {
    any::<bool>().prop_flat_map(|code| {
        let alpha: &'static [&'static str] = if code { CODE } else { WORDS };
        (
            prop::collection::vec(doc(alpha), 1..8),
            prop::collection::vec(doc(alpha), 0..4),
            prop::collection::vec(any::<bool>(), 12),
            prop_oneof![Just(u64::MAX), 8u64..120],
            prop::collection::vec(prop::collection::vec(0..alpha.len(), 1..5), 1..12),
            prop::collection::vec((0usize..12, 0usize..40, 1usize..8), 0..8),
            any::<bool>(),
        )
            .prop_map(move |(base, delta, remove, shard_tokens, queries, from_docs, one_commit)| {
                Corpus { code, base, delta, remove, shard_tokens, queries, from_docs, one_commit }
            })
    })
}

fn tokens(text: &str, stream: Stream) -> Vec<String> {
    let ts = match stream {
        Stream::Text => recital_text::tokenize(text),
        Stream::Canon => recital_text::code::canonical(text, Lang::C),
    };
    (0..ts.len()).map(|i| ts.text(i).to_string()).collect()
}

fn write_docs(dir: &Path, prefix: &str, ext: &str, docs: &[String]) -> Vec<(String, String)> {
    std::fs::create_dir_all(dir).unwrap();
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            let name = format!("{prefix}{i}.{ext}");
            std::fs::write(dir.join(&name), d).unwrap();
            (name, d.clone())
        })
        .collect()
}

/// Maximal spans `(start, end)` of per-start match lengths, by OLMoTrace's
/// rule: a start is kept when its match ends past every earlier one's.
fn maximal(lengths: &[u32]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut reach = 0;
    for (l, &len) in lengths.iter().enumerate() {
        if len > 0 && l + len as usize > reach {
            reach = l + len as usize;
            out.push((l, reach));
        }
    }
    out
}

/// Writes `text` as `tmp/src/name`, indexes that directory with default
/// options into `tmp/idx` and returns the index directory.
fn index_one_file(tmp: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let dir = tmp.join("src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
    let idx_dir = tmp.join("idx");
    recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
    idx_dir
}

/// The snapshot's documents are the live ones: listed once each, found by
/// id, with their stored text; removed ids are not found.
fn check_docs(
    idx: &Index,
    live: &[&(String, String)],
    removed: &BTreeSet<String>,
) -> Result<(), TestCaseError> {
    let listed: BTreeSet<String> = idx.docs().map(|a| idx.doc(a).unwrap().id).collect();
    let want: BTreeSet<String> = live.iter().map(|(id, _)| id.clone()).collect();
    prop_assert_eq!(&listed, &want, "docs() lists the live documents");
    prop_assert_eq!(idx.docs().count(), live.len(), "each once");
    for (id, text) in live {
        let a = idx.find_doc(id).unwrap();
        prop_assert!(a.is_some(), "find_doc({:?})", id);
        let a = a.unwrap();
        prop_assert_eq!(&idx.doc_id(a).unwrap(), id);
        prop_assert_eq!(&idx.doc_text(a).unwrap(), text);
        prop_assert!(idx.is_live(a));
    }
    for id in removed {
        prop_assert_eq!(idx.find_doc(id).unwrap(), None, "removed {:?} is not found", id);
    }
    prop_assert_eq!(idx.find_doc("no such id").unwrap(), None);
    Ok(())
}

fn occurrences(doc: &[String], q: &[String]) -> Vec<usize> {
    if q.is_empty() || doc.len() < q.len() {
        return vec![];
    }
    (0..=doc.len() - q.len()).filter(|&i| doc[i..i + q.len()] == *q).collect()
}

fn check(c: &Corpus) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let ext = if c.code { "c" } else { "txt" };
    let base = write_docs(&tmp.path().join("base"), "d", ext, &c.base);
    let delta = write_docs(&tmp.path().join("delta"), "e", ext, &c.delta);
    let dir = tmp.path().join("idx");
    let opts = IngestOptions::default();
    let bopts = BuildOptions { shard_tokens: c.shard_tokens, ..Default::default() };
    let built = recital_index::build(&dir, &[tmp.path().join("base")], &opts, &bopts);
    let all_empty = c.base.iter().all(|d| tokens(d, Stream::Text).is_empty());
    if all_empty {
        prop_assert!(built.is_err(), "a corpus without tokens must be refused");
        return Ok(());
    }
    built.unwrap();
    let mut delta = delta;
    let mut writer = IndexWriter::open(&dir).unwrap().with_options(bopts.clone());
    if !delta.is_empty() {
        let added = writer.add_files(&[tmp.path().join("delta")], &opts);
        if delta.iter().all(|(_, d)| tokens(d, Stream::Text).is_empty()) {
            prop_assert!(added.is_err(), "adding documents without tokens must be refused");
            delta.clear();
        } else {
            added.unwrap();
        }
    }
    if !c.one_commit {
        writer.commit().unwrap();
    }
    let all: Vec<(String, String)> = base.iter().chain(&delta).cloned().collect();
    let removed: BTreeSet<String> =
        all.iter().zip(&c.remove).filter(|(_, r)| **r).map(|((id, _), _)| id.clone()).collect();
    if !removed.is_empty() {
        let ids: Vec<String> = removed.iter().cloned().collect();
        writer.remove(&ids).unwrap();
    }
    let committed = writer.commit().unwrap();
    drop(writer);
    let live: Vec<&(String, String)> = all.iter().filter(|(id, _)| !removed.contains(id)).collect();

    let streams: &[Stream] = if c.code { &[Stream::Text, Stream::Canon] } else { &[Stream::Text] };
    for round in 0..2 {
        let idx = Index::open(&dir).unwrap();
        check_docs(&idx, &live, &removed)?;
        if round == 0 {
            prop_assert_eq!(committed.generation(), idx.generation(), "commit returns the new snapshot");
            check_docs(&committed, &live, &removed)?;
        }
        for &stream in streams {
            let docs: HashMap<&str, Vec<String>> =
                live.iter().map(|(id, t)| (id.as_str(), tokens(t, stream))).collect();
            let alpha: &[&str] = if c.code { CODE } else { WORDS };
            let mut queries: Vec<Vec<String>> = c
                .queries
                .iter()
                .map(|q| tokens(&q.iter().map(|&i| alpha[i]).collect::<Vec<_>>().join(" "), stream))
                .filter(|q| !q.is_empty())
                .collect();
            for &(d, start, len) in &c.from_docs {
                if let Some((_, t)) = all.get(d % all.len()) {
                    let toks = tokens(t, stream);
                    if start < toks.len() {
                        queries.push(toks[start..(start + len).min(toks.len())].to_vec());
                    }
                }
            }
            for q in &queries {
                let mut want_count = 0u64;
                let mut want_hits = BTreeSet::new();
                for (id, toks) in &docs {
                    for i in occurrences(toks, q) {
                        want_count += 1;
                        want_hits.insert((id.to_string(), i));
                    }
                }
                let want_docs =
                    want_hits.iter().map(|(d, _)| d.clone()).collect::<BTreeSet<_>>().len() as u64;
                let query = Query { tokens: q.clone(), stream };
                let got = idx.count(&query).unwrap();
                prop_assert_eq!(got.count, want_count, "count of {:?} in {:?}", q, stream);
                prop_assert_eq!(got.doc_count, want_docs, "doc_count of {:?}", q);
                let loc = idx.locate(&query, usize::MAX).unwrap();
                let got_hits: BTreeSet<(String, usize)> =
                    loc.hits.iter().map(|h| (h.doc_id.clone(), h.token_start)).collect();
                prop_assert_eq!(&got_hits, &want_hits, "locate of {:?}", q);
                for h in &loc.hits {
                    let text = &live.iter().find(|(id, _)| *id == h.doc_id).unwrap().1;
                    prop_assert_eq!(
                        &tokens(&text[h.byte_start..h.byte_end], stream),
                        q,
                        "byte range of a hit"
                    );
                    if stream == Stream::Text {
                        // This occurrence, not a neighbouring repeat of the same words.
                        prop_assert_eq!(
                            tokens(&text[..h.byte_start], stream).len(),
                            h.token_start,
                            "a hit's bytes are its own tokens'"
                        );
                    }
                }
                // Longest prefix that occurs in a live document.
                let want_lp = (0..=q.len())
                    .rev()
                    .find(|&k| k == 0 || docs.values().any(|t| !occurrences(t, &q[..k]).is_empty()))
                    .unwrap();
                let (lp, lp_count) = idx.longest_prefix(stream, q);
                prop_assert_eq!(lp, want_lp, "longest prefix of {:?}", q);
                if lp > 0 {
                    prop_assert!(lp_count > 0);
                }
            }
            // Longest match from every position of a longer sequence (maximal-span input).
            // Repeated to a few hundred tokens: long outputs, many positions.
            let mut long: Vec<String> = queries.iter().flatten().cloned().collect();
            // Whole documents (removed ones too): long matches, which
            // `maximal_match_lengths` probes instead of searching start by start.
            for (_, t) in all.iter().take(4) {
                long.extend(tokens(t, stream));
                long.extend(queries.first().into_iter().flatten().cloned());
            }
            while !long.is_empty() && long.len() < 300 {
                long.extend_from_within(..);
            }
            let got = idx.match_lengths(stream, &long);
            let mut wants = Vec::new();
            for l in 0..long.len() {
                // Longest common run of long[l..] with any document position.
                let want = docs
                    .values()
                    .flat_map(|t| (0..t.len()).map(move |p| (t, p)))
                    .map(|(t, p)| t[p..].iter().zip(&long[l..]).take_while(|(a, b)| a == b).count())
                    .max()
                    .unwrap_or(0);
                prop_assert_eq!(got[l] as usize, want, "match length at {} of {:?}", l, long);
                wants.push(want as u32);
            }
            let fast = idx.maximal_match_lengths(stream, &long);
            prop_assert_eq!(maximal(&fast), maximal(&wants), "maximal spans of {:?}", long);
        }
        // Second round: the same answers after compaction.
        if round == 0 {
            let mut w = IndexWriter::open(&dir).unwrap().with_options(bopts.clone());
            w.compact().unwrap();
            w.commit().unwrap();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn answers_equal_brute_force(c in corpus()) {
        check(&c)?;
    }
}

/// Hits in long documents are placed by sampled source positions and a partial
/// decode of the document; their byte ranges must still be exact.
#[test]
fn hits_in_long_documents_have_exact_byte_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let mut x = 0x9E3779B97F4A7C15u64;
    let mut word = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ["lorem", "ipsum", "dolor", "sit", "amet", "ÉCLAIR", "naïve", "—", "x\u{200B}y", "😀"]
            [(x % 10) as usize]
    };
    let mut text = String::new();
    let mut planted = Vec::new();
    for k in 0..6 {
        while text.len() < (k + 1) * 60_000 {
            text.push_str(word());
            text.push(if text.len().is_multiple_of(7) { '\n' } else { ' ' });
        }
        let phrase = format!("unique marker number {k} stands here alone");
        planted.push((text.len(), phrase.clone()));
        text.push_str(&phrase);
        text.push(' ');
    }
    let idx_dir = index_one_file(tmp.path(), "long.txt", &text);
    let idx = Index::open(&idx_dir).unwrap();
    for (at, phrase) in planted {
        let r = idx.locate(&Query::text(&phrase), 5).unwrap();
        assert_eq!(r.hits.len(), 1, "{phrase}");
        let h = &r.hits[0];
        assert_eq!((h.byte_start, h.byte_end), (at, at + phrase.len()), "{phrase}");
        assert_eq!(&h.snippet[h.snippet_hit[0]..h.snippet_hit[1]], phrase);
    }
}

/// Code hits are located by lexing a window from the nearest sampled lexeme
/// (`canon.srcpos`); their byte ranges must be exact, and an index built
/// before the canonical stream had samples (the file missing) must give the
/// same ranges by lexing from the start.
#[test]
fn code_hits_in_long_files_have_exact_byte_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut planted = Vec::new();
    for k in 0..40 {
        // Filler with comments, strings and odd layout between the plants.
        for j in 0..30 {
            text.push_str(&format!(
                "/* filler {k}.{j} */ static int f{k}_{j}(int a) {{\n\treturn a * {j} + \"s{j}\"[0];\n}}\n"
            ));
        }
        let plant = format!(
            "int planted_{k}(struct s *p, long q) {{ while (p->n{k} < q) p = p->next; return {k}; }}"
        );
        planted.push((text.len(), plant.clone()));
        text.push_str(&plant);
        text.push('\n');
    }
    let idx_dir = index_one_file(tmp.path(), "long.c", &text);
    let check = |idx: &Index| {
        for (at, plant) in &planted {
            let q: Vec<String> = {
                let c = recital_text::code::canonical(plant, Lang::C);
                (0..c.len()).map(|i| c.text(i).to_string()).collect()
            };
            let r = idx.locate(&Query { tokens: q, stream: Stream::Canon }, 100).unwrap();
            // Every plant has the same shape: all 40 are hits; ours is among them.
            assert_eq!(r.hits.len(), 40);
            assert!(r.hits.iter().any(|h| (h.byte_start, h.byte_end) == (*at, at + plant.len())), "{plant}");
            for h in &r.hits {
                assert!(text[h.byte_start..h.byte_end].starts_with("int planted_"), "{h:?}");
            }
        }
    };
    check(&Index::open(&idx_dir).unwrap());
    let mut removed = 0;
    for e in std::fs::read_dir(&idx_dir).unwrap() {
        let p = e.unwrap().path().join("canon.srcpos");
        if p.exists() {
            std::fs::remove_file(p).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0, "the build wrote no canon.srcpos");
    check(&Index::open(&idx_dir).unwrap());
}

/// Long inputs have their searches split over two threads; the lengths must
/// be the brute-force ones all the same, across shards, at the split and for
/// matches that run to the end of the input.
#[test]
fn long_inputs_match_lengths_equal_brute_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("docs");
    std::fs::create_dir(&dir).unwrap();
    let mut x = 0x2545F4914F6CDD1Du64;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let mut docs: Vec<Vec<String>> = Vec::new();
    for d in 0..6 {
        let doc: Vec<String> = (0..400).map(|_| words[next(40) as usize].clone()).collect();
        std::fs::write(dir.join(format!("d{d}.txt")), doc.join(" ")).unwrap();
        docs.push(doc);
    }
    let idx_dir = tmp.path().join("idx");
    // Small shards: several of them, so the per-shard limits are exercised.
    let bopts = BuildOptions { shard_tokens: 900, ..BuildOptions::default() };
    recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &bopts).unwrap();
    let idx = Index::open(&idx_dir).unwrap();
    assert!(idx.shard_count() > 1);
    // ~9000 tokens: document excerpts, noise and an unknown word, ending in an
    // excerpt that runs to the end of the input.
    let mut q: Vec<String> = Vec::new();
    while q.len() < 9000 {
        match next(3) {
            0 => q.extend((0..next(30)).map(|_| words[next(40) as usize].clone())),
            1 => {
                // Mostly short excerpts, some long enough to be probed.
                let d = &docs[next(6) as usize];
                let len = if next(4) == 0 { 60 + next(140) } else { 5 + next(45) } as usize;
                let a = next(400 - len as u64) as usize;
                q.extend(d[a..a + len].iter().cloned());
            }
            _ => q.push("unknownword".into()),
        }
    }
    // A long excerpt across the middle, where the search is split.
    let mid = (q.len() + 60) / 2;
    q.splice(mid - 100..mid + 100, docs[1][0..200].iter().cloned());
    q.extend(docs[2][100..160].iter().cloned());
    let got = idx.match_lengths(Stream::Text, &q);
    let fast = idx.maximal_match_lengths(Stream::Text, &q);
    assert_eq!(maximal(&fast), maximal(&got), "maximal spans of {} tokens", q.len());
    for l in 0..q.len() {
        let rest = &q[l..];
        let want = docs
            .iter()
            .flat_map(|t| {
                (0..t.len()).map(move |p| t[p..].iter().zip(rest).take_while(|(a, b)| a == b).count())
            })
            .max()
            .unwrap_or(0);
        assert_eq!(got[l] as usize, want, "match length at {l} of {}", q.len());
    }
}
