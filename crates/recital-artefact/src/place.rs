//! Where extracted text came from: formats, compressed members, places, and
//! the [`Sink`] that extractors push text into.

use serde::Serialize;

use crate::error::Result;

/// The extractor (and so the structure) a segment of text came from.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// A GGUF metadata value (string, or array of strings such as a tokenizer's vocabulary).
    Gguf,
    /// A safetensors header's `__metadata__` value or tensor name.
    Safetensors,
    /// A run of printable UTF-8 or UTF-16 in bytes of no known structure.
    Strings,
    /// String values of one JSON Lines record.
    Jsonl,
    /// Text columns of one Parquet row.
    Parquet,
    /// Text columns of one SQLite row.
    Sqlite,
    /// NumPy token ids, decoded with the given tokenizer.
    Npy,
}

impl Format {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gguf => "gguf",
            Format::Safetensors => "safetensors",
            Format::Strings => "strings",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
            Format::Sqlite => "sqlite",
            Format::Npy => "npy",
        }
    }
}

/// How a piece of text maps back to the bytes it was read from: whether
/// [`Place::offset`] plus a position in the text gives the exact byte.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// The bytes themselves (UTF-8): offsets are exact.
    Utf8,
    /// UTF-16, little-endian: two bytes per code unit.
    Utf16le,
    /// UTF-16, big-endian.
    Utf16be,
    /// UTF-16 of Latin-1 characters only, whose byte order the bytes do not
    /// tell: read as little-endian, so big-endian text is read one byte off
    /// (its first and last characters may be its neighbours').
    Utf16,
    /// Decoded (JSON escapes, a database value, token ids): the offset, where
    /// there is one, is where the value starts.
    #[default]
    Decoded,
}

impl Encoding {
    /// Whether the source is UTF-16 (two bytes per code unit).
    pub fn is_utf16(self) -> bool {
        matches!(self, Encoding::Utf16le | Encoding::Utf16be | Encoding::Utf16)
    }
}

/// A compressed member that text was found in: its kind and where it starts
/// in its container (the file, or the member around it).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// `gzip` or `zstd`.
    pub kind: &'static str,
    /// Byte offset of the member's first byte in its container.
    pub offset: u64,
}

/// Renders a member chain as ` > gzip@0 > zstd@512` (empty for none).
pub fn members_label(members: &[Member]) -> String {
    members.iter().map(|m| format!(" > {}@{}", m.kind, m.offset)).collect()
}

/// Where a piece of text came from. Every field is optional: an extractor
/// fills in what its format has.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Byte offset in the file (or the innermost member): where the piece
    /// starts; for a copy, where the copy starts when [`Encoding`] allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Record number, from 1: JSONL line, Parquet or SQLite row, row of a 2-D
    /// token array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Element of an array, from 0: GGUF array element, first token id of the
    /// decoded stretch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The key, column or JSON path the value is under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How the text maps back to the bytes.
    pub encoding: Encoding,
}

/// What extractors push text into. A segment is one stretch of text scanned
/// as a whole (a metadata value, a record, a run of printable bytes); its
/// text arrives in pieces, each with its place, so memory does not grow with
/// its length.
pub trait Sink {
    /// Starts a segment of `format`, inside `members`.
    fn begin(&mut self, format: Format, members: &[Member]) -> Result<()>;
    /// Appends text to the current segment.
    fn text(&mut self, text: &str, place: Place) -> Result<()>;
    /// A boundary between two values of one segment (scanned as a line break).
    fn gap(&mut self) -> Result<()>;
    /// Ends the current segment.
    fn end(&mut self) -> Result<()>;
}
