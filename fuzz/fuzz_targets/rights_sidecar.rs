//! The rights sidecar, as JSONL and as CSV: any text gives rules or an
//! error naming the file, never a panic; rules that load resolve documents.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use recital_index::{DocKeys, RightsRules};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let dir = recital_fuzz::scratch();
    let name = if pick % 2 == 0 { "rights.jsonl" } else { "rights.csv" };
    let path = dir.path().join(name);
    std::fs::write(&path, rest).unwrap();
    let rules = match RightsRules::load(&path) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(name) || msg.contains("UTF-8") || msg.contains("utf-8"), "{msg}");
            return;
        }
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = RightsRules::from_jsonl(text, "derived", Some(dir.path()));
    }
    let docs: [(&str, &[&str], Option<&str>); 4] = [
        ("a.txt", &["a.txt"], None),
        ("src/lib.rs", &["src/lib.rs", "dump.jsonl"], Some("https://example.org/a?b=c#d")),
        ("", &[], Some("not a url")),
        ("dir/ünï.c", &["dir/ünï.c"], None),
    ];
    for (id, paths, url) in docs {
        let keys = DocKeys { id, paths, url, file: Some(Path::new("/nowhere/x")) };
        let r = rules.resolve(&keys, Some("MIT"), None);
        let _ = rules.resolve(&keys, None, Some("GPL-2.0+"));
        let _ = serde_json::to_string(&r).unwrap();
    }
    let _ = rules.unmatched();
});
