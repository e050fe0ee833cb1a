//! How a channel's raw text (what the client receives) relates to the text
//! that is judged (what the scan reads). For plain text they are the same.
//! For a JSON document the judged text is its decoded string values, and
//! whatever the guard releases or redacts is written back into the raw
//! document: released view bytes become the raw bytes they came from
//! (escapes, quotes and structure included), a redaction becomes the escaped
//! marker inside each string literal it touches, so the document stays valid
//! JSON however the copy straddles its strings.

/// A channel's raw text and the view judged on it.
pub(crate) trait Lens: Send {
    /// Appends raw text (a streamed fragment, or the whole channel).
    fn push(&mut self, raw: &str);
    /// Everything pushed.
    fn raw(&self) -> &str;
    /// The text judged: decoded so far.
    fn view(&self) -> &str;
    /// Raw offset where view byte `v` starts; for `v == view().len()`, where
    /// the raw bytes that no view byte accounts for yet begin.
    fn raw_at(&self, v: usize) -> usize;
    /// Raw offset just after the source of view byte `v`.
    fn raw_after(&self, v: usize) -> usize;
    /// Which piece of structure (a JSON string literal) view byte `v` lies in:
    /// a redaction is written piece by piece.
    fn segment(&self, v: usize) -> usize;
    /// A marker as it is written into the raw text.
    fn escape(&self, marker: &str) -> String;
}

/// Plain text: the view is the raw text.
#[derive(Default)]
pub(crate) struct Plain {
    text: String,
}

impl Lens for Plain {
    fn push(&mut self, raw: &str) {
        self.text.push_str(raw);
    }
    fn raw(&self) -> &str {
        &self.text
    }
    fn view(&self) -> &str {
        &self.text
    }
    fn raw_at(&self, v: usize) -> usize {
        v
    }
    fn raw_after(&self, v: usize) -> usize {
        v + 1
    }
    fn segment(&self, _: usize) -> usize {
        0
    }
    fn escape(&self, marker: &str) -> String {
        marker.to_string()
    }
}

/// A JSON document: the view is its decoded string values
/// ([`recital_detect::JsonStrings`], fed fragment by fragment; an escape
/// split between two fragments is decoded once it is whole).
#[derive(Default)]
pub(crate) struct Json {
    strings: recital_detect::JsonStrings,
}

impl Lens for Json {
    fn push(&mut self, raw: &str) {
        self.strings.push(raw);
    }
    fn raw(&self) -> &str {
        self.strings.raw()
    }
    fn view(&self) -> &str {
        self.strings.view()
    }
    fn raw_at(&self, v: usize) -> usize {
        self.strings.raw_start(v)
    }
    fn raw_after(&self, v: usize) -> usize {
        self.strings.raw_end(v)
    }
    fn segment(&self, v: usize) -> usize {
        self.strings.segment(v)
    }
    fn escape(&self, marker: &str) -> String {
        recital_detect::json_escape(marker)
    }
}

/// The lens for a channel format.
pub(crate) fn for_format(format: crate::channel::Format) -> Box<dyn Lens> {
    match format {
        crate::channel::Format::Plain => Box::new(Plain::default()),
        crate::channel::Format::Json => Box::new(Json::default()),
    }
}
