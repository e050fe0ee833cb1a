//! C2PA manifest stores as `recital rights import` reads them (JPEG APP11
//! segments, a PNG caBX chunk, a bare .c2pa store): any bytes give a
//! manifest, nothing, or an error naming the file, never a panic; what a
//! manifest says agrees with its entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recital_rights::{C2paManifest, Usage};

fuzz_target!(|data: &[u8]| {
    match C2paManifest::read(data, "fuzz.c2pa") {
        Ok(Some(m)) => {
            let tdm: Vec<Usage> =
                m.training_mining.iter().flat_map(|t| &t.entries).filter(|e| e.is_tdm()).map(|e| e.usage).collect();
            let expected = (!tdm.is_empty()).then(|| tdm.iter().any(|u| *u != Usage::Allowed));
            assert_eq!(m.tdm_opt_out(), expected, "{m:?}");
        }
        Ok(None) => {}
        Err(e) => assert!(e.to_string().starts_with("fuzz.c2pa: C2PA "), "{e}"),
    }
});
