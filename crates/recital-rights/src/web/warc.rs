//! WARC files (ISO 28500; `.warc`, or `.warc.gz` compressed per record as
//! crawlers write them), read with the `warc` crate: every `response`
//! record's target URI, capture date and HTTP response. A page becomes a
//! record selected by its URL (`doc_url`), since a corpus extracted from a
//! WARC keeps each page's URL in its JSONL.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use ::warc::{RecordType, WarcHeader, WarcReader};
use url::Url;

use crate::error::{Result, RightsError};
use crate::record::Selector;

use super::{http, Crawl};

/// Whether `path` names a WARC file (by its extension).
pub(crate) fn is_warc(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.ends_with(".warc") || name.ends_with(".warc.gz")
}

/// Reads every response of the WARC file at `path` into `crawl`; returns
/// how many response records there were.
pub(crate) fn read(path: &Path, crawl: &mut Crawl) -> Result<usize> {
    let file = File::open(path).map_err(|e| RightsError::io(path, e))?;
    let mut buffered = BufReader::with_capacity(1 << 20, file);
    let head = buffered.fill_buf().map_err(|e| RightsError::io(path, e))?;
    let reader: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    };
    let mut responses = 0;
    for (i, record) in WarcReader::new(reader).iter_records().enumerate() {
        let at = || format!("{}: record {}", path.display(), i + 1);
        let record = record.map_err(|e| RightsError::format(at(), format!("not a WARC record: {e}")))?;
        if *record.warc_type() != RecordType::Response {
            continue;
        }
        responses += 1;
        let Some(target) = record.header(WarcHeader::TargetURI) else {
            crawl.warnings.push(format!("{}: response without WARC-Target-URI; skipped", at()));
            continue;
        };
        let Ok(url) = Url::parse(target.trim().trim_start_matches('<').trim_end_matches('>')) else {
            crawl.warnings.push(format!("{}: WARC-Target-URI {target:?} is not a URL; skipped", at()));
            continue;
        };
        match http::parse(record.body()) {
            Ok(response) => {
                let observed = Some(record.date().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                let selector = Selector::DocUrl(recital_index::normalize_url(url.as_str()));
                crawl.add(url, observed, response, selector);
            }
            Err(e) => crawl.warnings.push(format!("{}: {e}; skipped", at())),
        }
    }
    Ok(responses)
}
