//! The document table of a shard: per document, where its text is in the store,
//! its external id and path, its rights record and its mode (text or code).
//!
//! Body (`docs.tab`, kind `DOCTABLE`): `n: u64 | [Record; n] | string bytes`, each
//! record 40 bytes little-endian, so the table is mapped, not parsed: opening a
//! shard of millions of documents costs what mapping costs.

use std::path::Path;

use crate::docstore::DocLoc;
use crate::error::{IndexError, Result};
use crate::file::{self, MappedFile};

/// File kind tag.
pub const KIND: &[u8; 8] = b"DOCTABLE";
const RECORD: usize = 40;

/// How a document was tokenised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocMode {
    /// Prose: the text stream only.
    Text,
    /// Source code in a language: text stream plus canonical code stream.
    Code(recital_text::code::Lang),
}

const LANGS: [recital_text::code::Lang; 8] = {
    use recital_text::code::Lang::*;
    [C, Cpp, Python, Rust, JavaScript, TypeScript, Java, Go]
};

impl DocMode {
    fn to_byte(self) -> u8 {
        match self {
            DocMode::Text => 0,
            DocMode::Code(l) => 1 + LANGS.iter().position(|x| *x == l).unwrap_or(0) as u8,
        }
    }
    fn from_byte(b: u8) -> DocMode {
        match b {
            0 => DocMode::Text,
            b => LANGS.get(b as usize - 1).map(|l| DocMode::Code(*l)).unwrap_or(DocMode::Text),
        }
    }
    /// The language, for code.
    pub fn lang(self) -> Option<recital_text::code::Lang> {
        match self {
            DocMode::Code(l) => Some(l),
            DocMode::Text => None,
        }
    }
}

/// One document as the table describes it.
#[derive(Debug, Clone)]
pub struct DocInfo {
    /// External document id.
    pub id: String,
    /// Path relative to the input root (or title), if any.
    pub path: Option<String>,
    /// Where the text is.
    pub loc: DocLoc,
    /// Index into the shard's rights table.
    pub rights: u32,
    /// Text or code.
    pub mode: DocMode,
}

/// Accumulates the table while a shard is built.
#[derive(Default)]
pub struct DocTableBuilder {
    records: Vec<u8>,
    strings: Vec<u8>,
    n: u64,
}

impl DocTableBuilder {
    /// Adds a document.
    pub fn add(&mut self, id: &str, path: Option<&str>, loc: DocLoc, rights: u32, mode: DocMode) {
        let put_str = |s: &str, strings: &mut Vec<u8>| {
            let off = strings.len() as u32;
            strings.extend_from_slice(s.as_bytes());
            (off, s.len() as u32)
        };
        let (id_off, id_len) = put_str(id, &mut self.strings);
        let (p_off, p_len) = match path {
            Some(p) => put_str(p, &mut self.strings),
            None => (0, u32::MAX),
        };
        for v in [loc.block, loc.offset, loc.len, id_off, id_len, p_off, p_len, rights] {
            self.records.extend_from_slice(&v.to_le_bytes());
        }
        self.records.extend_from_slice(&[mode.to_byte(), 0, 0, 0, 0, 0, 0, 0]);
        self.n += 1;
    }

    /// Number of documents.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Writes the table.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut w = file::EnvelopeWriter::create(path, KIND)?;
        w.write(&self.n.to_le_bytes())?;
        w.write(&self.records)?;
        w.write(&self.strings)?;
        w.finish()
    }
}

/// A mapped document table.
pub struct DocTable {
    file: MappedFile,
    n: usize,
}

impl DocTable {
    /// Maps and validates.
    pub fn open(path: &Path) -> Result<Self> {
        let file = MappedFile::open(path, KIND)?;
        let body = file.body();
        let n = body.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).unwrap_or(u64::MAX);
        if n.checked_mul(RECORD as u64)
            .and_then(|x| x.checked_add(8))
            .is_none_or(|need| need > body.len() as u64)
        {
            return Err(IndexError::Corrupt {
                path: path.to_owned(),
                why: format!("document table claims {n} documents, too many for its size"),
            });
        }
        Ok(Self { file, n: n as usize })
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn field(&self, doc: usize, i: usize) -> u32 {
        let at = 8 + doc * RECORD + i * 4;
        self.file.body().get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
    }

    fn string(&self, off: u32, len: u32) -> Result<String> {
        let base = 8 + self.n * RECORD;
        let s = self.file.body().get(base + off as usize..base + off as usize + len as usize).ok_or_else(
            || IndexError::Corrupt {
                path: self.file.path().to_owned(),
                why: "string outside the table".into(),
            },
        )?;
        Ok(String::from_utf8_lossy(s).into_owned())
    }

    /// The external id of a document (cheap: no other fields decoded).
    pub fn id(&self, doc: usize) -> Result<String> {
        self.string(self.field(doc, 3), self.field(doc, 4))
    }

    /// The index of a document's rights record (cheap: no strings decoded).
    pub fn rights_index(&self, doc: usize) -> u32 {
        self.field(doc, 7)
    }

    /// Everything about a document.
    pub fn get(&self, doc: usize) -> Result<DocInfo> {
        if doc >= self.n {
            return Err(IndexError::Corrupt {
                path: self.file.path().to_owned(),
                why: format!("document {doc} out of range"),
            });
        }
        let p_len = self.field(doc, 6);
        Ok(DocInfo {
            id: self.id(doc)?,
            path: if p_len == u32::MAX { None } else { Some(self.string(self.field(doc, 5), p_len)?) },
            loc: DocLoc { block: self.field(doc, 0), offset: self.field(doc, 1), len: self.field(doc, 2) },
            rights: self.field(doc, 7),
            mode: DocMode::from_byte(self.file.body().get(8 + doc * RECORD + 32).copied().unwrap_or(0)),
        })
    }

    /// The mapped file.
    pub fn file(&self) -> &MappedFile {
        &self.file
    }
}
