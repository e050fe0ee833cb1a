//! Policy files: any text is a policy or an error (`check` lists at least
//! one), never a panic; a policy that parses decides and applies on a real
//! scan report without panicking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use recital_detect::{scan, Input, ScanOptions, ScanReport};
use recital_fuzz::{build_index, scratch, SAMPLE_DOCS};
use recital_policy::{apply, check, Policy, Request};

const OUTPUT: &str = "He said: it was the best of times, it was the worst of times, it was the age \
    of wisdom, and then: to be, or not to be, that is the question. int sum(const int *a, int n) {";

fn report() -> &'static ScanReport {
    static R: OnceLock<ScanReport> = OnceLock::new();
    R.get_or_init(|| {
        let dir = scratch();
        let idx = recital_index::Index::open(&build_index(dir.path(), SAMPLE_DOCS)).expect("index");
        let input = Input::decode(OUTPUT.as_bytes()).expect("input");
        let opts = ScanOptions { min_tokens: 5, seed_tokens: 5, ..ScanOptions::default() };
        scan(&idx, &input, &opts).expect("scan")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let parsed = Policy::parse(src, "fuzz.toml");
    match check(src, "fuzz.toml") {
        Ok((p, _warnings)) => {
            assert!(parsed.is_ok(), "check accepts what parse refuses: {:?}", parsed.err());
            let _ = (p.label(), p.rule_names(), p.description(), p.scan_options());
            for j in [None, Some("EU"), Some("us"), Some(""), Some("zz")] {
                let req = Request { jurisdiction: j, ..Request::default() };
                let d = p.decide(report(), &req);
                for s in &d.spans {
                    let _ = p.redaction_marker(s);
                }
                let _ = apply(OUTPUT, report(), &d);
            }
            for l in
                ["MIT", "GPL-3.0-only", "NOASSERTION", "LicenseRef-x", "(MIT OR Apache-2.0) AND BSD-3-Clause"]
            {
                let _ = p.classify_license(l);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error list must name an error");
            assert!(parsed.is_err(), "parse accepts what check refuses: {errors:?}");
        }
    }
});
