//! The languages the lexer knows: names, file extensions, keywords and
//! operators.
//!
//! Keyword lists are the reserved words of each language's reference (plus,
//! for TypeScript, the contextual words that start declarations). Words that
//! are only predeclared identifiers (Go's `int`, `nil`, `true`) stay
//! identifiers, as their compilers see them. Operator lists are per language
//! so that longest match splits `a<-b` as Go does (`<-`) and as C does
//! (`<`, `-`): a reformatted copy must lex the same as the original.

use std::path::Path;
use std::sync::OnceLock;

/// Languages the code lexer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// C (`.c`, `.h`).
    C,
    /// C++ (`.cc`, `.cpp`, `.cxx`, `.hpp`, `.hh`, `.hxx`).
    Cpp,
    /// Python (`.py`).
    Python,
    /// Rust (`.rs`).
    Rust,
    /// JavaScript (`.js`, `.mjs`, `.cjs`, `.jsx`).
    JavaScript,
    /// TypeScript (`.ts`, `.tsx`).
    TypeScript,
    /// Java (`.java`).
    Java,
    /// Go (`.go`).
    Go,
}

impl Lang {
    /// Every language, in declaration order.
    pub const ALL: [Lang; 8] = [
        Lang::C,
        Lang::Cpp,
        Lang::Python,
        Lang::Rust,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Java,
        Lang::Go,
    ];

    /// The language of a file, from its extension (ASCII case-insensitive);
    /// `None` for any other file.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "c" | "h" => Lang::C,
            "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Lang::Cpp,
            "py" => Lang::Python,
            "rs" => Lang::Rust,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "tsx" => Lang::TypeScript,
            "java" => Lang::Java,
            "go" => Lang::Go,
            _ => return None,
        })
    }

    /// The language called `name` (ASCII case-insensitive, surrounding
    /// whitespace ignored): the canonical names of [`Lang::name`] and the
    /// usual aliases (`c++`, `py`, `rs`, `js`, `ts`, `golang`…).
    pub fn from_name(name: &str) -> Option<Lang> {
        let n = name.trim().to_ascii_lowercase();
        Some(match n.as_str() {
            "c" => Lang::C,
            "c++" | "cpp" | "cxx" | "cc" => Lang::Cpp,
            "python" | "py" | "python3" => Lang::Python,
            "rust" | "rs" => Lang::Rust,
            "javascript" | "js" | "jsx" | "node" | "ecmascript" => Lang::JavaScript,
            "typescript" | "ts" | "tsx" => Lang::TypeScript,
            "java" => Lang::Java,
            "go" | "golang" => Lang::Go,
            _ => return None,
        })
    }

    /// The lowercase canonical name: `c`, `cpp`, `python`, `rust`,
    /// `javascript`, `typescript`, `java`, `go`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Java => "java",
            Lang::Go => "go",
        }
    }

    /// Whether `word` is a reserved word of the language.
    pub fn is_keyword(self, word: &str) -> bool {
        // One hash set per language, built once: a linear scan or a binary
        // search over 50-odd words per identifier cost a third of the
        // lexer's time in string comparisons.
        static SETS: OnceLock<[foldhash::HashSet<&'static str>; 8]> = OnceLock::new();
        if word.len() > MAX_KEYWORD_LEN {
            return false;
        }
        let sets = SETS.get_or_init(|| {
            Lang::ALL.map(|lang| lang.keyword_lists().iter().flat_map(|l| l.iter().copied()).collect())
        });
        sets[self as usize].contains(word)
    }

    /// The keyword lists that make up the language's reserved words.
    fn keyword_lists(self) -> &'static [&'static [&'static str]] {
        match self {
            Lang::C => &[C_KEYWORDS],
            Lang::Cpp => &[C_KEYWORDS, CPP_KEYWORDS],
            Lang::Python => &[PYTHON_KEYWORDS],
            Lang::Rust => &[RUST_KEYWORDS],
            Lang::JavaScript => &[JS_KEYWORDS],
            Lang::TypeScript => &[JS_KEYWORDS, TS_KEYWORDS],
            Lang::Java => &[JAVA_KEYWORDS],
            Lang::Go => &[GO_KEYWORDS],
        }
    }

    /// Multi-character operators, longest first.
    pub(crate) fn operators(self) -> &'static [&'static str] {
        match self {
            Lang::C => C_OPS,
            Lang::Cpp => CPP_OPS,
            Lang::Python => PYTHON_OPS,
            Lang::Rust => RUST_OPS,
            Lang::JavaScript | Lang::TypeScript => JS_OPS,
            Lang::Java => JAVA_OPS,
            Lang::Go => GO_OPS,
        }
    }

    /// Whether `//` and `/* */` start comments (all but Python).
    pub(crate) fn c_comments(self) -> bool {
        self != Lang::Python
    }

    /// Whether `$` may appear in identifiers.
    pub(crate) fn dollar_ident(self) -> bool {
        matches!(self, Lang::JavaScript | Lang::TypeScript | Lang::Java)
    }
}

/// Length of the longest keyword of any language (`reinterpret_cast`).
const MAX_KEYWORD_LEN: usize = 16;

const C_KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Bool",
    "_Complex",
    "_Generic",
    "_Imaginary",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
    "alignas",
    "alignof",
    "bool",
    "constexpr",
    "false",
    "nullptr",
    "static_assert",
    "thread_local",
    "true",
    "typeof",
    "typeof_unqual",
];

/// C++ words on top of [`C_KEYWORDS`].
const CPP_KEYWORDS: &[&str] = &[
    "and",
    "and_eq",
    "asm",
    "bitand",
    "bitor",
    "catch",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "consteval",
    "constinit",
    "const_cast",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "delete",
    "dynamic_cast",
    "explicit",
    "export",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "operator",
    "or",
    "or_eq",
    "private",
    "protected",
    "public",
    "reinterpret_cast",
    "requires",
    "static_cast",
    "template",
    "this",
    "throw",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "wchar_t",
    "xor",
    "xor_eq",
];

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield", "union",
];

const JS_KEYWORDS: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// TypeScript words on top of [`JS_KEYWORDS`].
const TS_KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "asserts",
    "declare",
    "infer",
    "is",
    "keyof",
    "module",
    "namespace",
    "readonly",
    "satisfies",
    "type",
    "unique",
];

const JAVA_KEYWORDS: &[&str] = &[
    "abstract",
    "assert",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extends",
    "final",
    "finally",
    "float",
    "for",
    "goto",
    "if",
    "implements",
    "import",
    "instanceof",
    "int",
    "interface",
    "long",
    "native",
    "new",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "short",
    "static",
    "strictfp",
    "super",
    "switch",
    "synchronized",
    "this",
    "throw",
    "throws",
    "transient",
    "try",
    "void",
    "volatile",
    "while",
    "true",
    "false",
    "null",
    "var",
    "record",
    "yield",
];

const GO_KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

const C_OPS: &[&str] = &[
    "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=",
    "+=", "-=", "&=", "^=", "|=", "##",
];

const CPP_OPS: &[&str] = &[
    "<=>", "->*", "<<=", ">>=", "...", "->", "::", ".*", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
    "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##",
];

const PYTHON_OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
];

const RUST_OPS: &[&str] = &[
    "<<=", ">>=", "...", "..=", "..", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=",
    "/=", "%=", "^=", "&=", "|=", "<<", ">>",
];

const JS_OPS: &[&str] = &[
    ">>>=", "===", "!==", ">>>", "<<=", ">>=", "**=", "&&=", "||=", "??=", "...", "=>", "**", "??", "?.",
    "++", "--", "&&", "||", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<",
    ">>",
];

const JAVA_OPS: &[&str] = &[
    ">>>=", ">>>", "<<=", ">>=", "...", "->", "::", "++", "--", "&&", "||", "==", "!=", "<=", ">=", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>",
];

const GO_OPS: &[&str] = &[
    "<<=", ">>=", "&^=", "...", "&&", "||", "<-", "++", "--", "==", "!=", "<=", ">=", ":=", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "<<", ">>", "&^",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_lists_are_longest_first() {
        for lang in Lang::ALL {
            let ops = lang.operators();
            for w in ops.windows(2) {
                assert!(w[0].len() >= w[1].len(), "{lang:?}: {w:?}");
            }
        }
    }

    #[test]
    fn keyword_lookup() {
        assert!(Lang::C.is_keyword("while"));
        assert!(!Lang::C.is_keyword("class"));
        assert!(Lang::Cpp.is_keyword("while") && Lang::Cpp.is_keyword("class"));
        assert!(Lang::TypeScript.is_keyword("function") && Lang::TypeScript.is_keyword("keyof"));
        assert!(!Lang::JavaScript.is_keyword("keyof"));
        assert!(Lang::Rust.is_keyword("Self") && !Lang::Rust.is_keyword("self_"));
        for lang in Lang::ALL {
            for list in lang.keyword_lists() {
                for kw in *list {
                    assert!(lang.is_keyword(kw), "{lang:?} {kw}");
                }
            }
            assert!(!lang.is_keyword("") && !lang.is_keyword("foo"));
            for list in lang.keyword_lists() {
                assert!(list.iter().all(|k| k.len() <= MAX_KEYWORD_LEN));
            }
        }
    }

    #[test]
    fn names_and_paths() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_name(lang.name()), Some(lang));
        }
        let cases = [
            ("a.c", Lang::C),
            ("a.h", Lang::C),
            ("a.cc", Lang::Cpp),
            ("a.cpp", Lang::Cpp),
            ("a.cxx", Lang::Cpp),
            ("a.hpp", Lang::Cpp),
            ("a.hh", Lang::Cpp),
            ("a.hxx", Lang::Cpp),
            ("a.py", Lang::Python),
            ("src/lib.rs", Lang::Rust),
            ("a.js", Lang::JavaScript),
            ("a.mjs", Lang::JavaScript),
            ("a.cjs", Lang::JavaScript),
            ("a.jsx", Lang::JavaScript),
            ("a.ts", Lang::TypeScript),
            ("a.tsx", Lang::TypeScript),
            ("A.java", Lang::Java),
            ("main.go", Lang::Go),
            ("MAIN.GO", Lang::Go),
        ];
        for (p, l) in cases {
            assert_eq!(Lang::from_path(Path::new(p)), Some(l), "{p}");
        }
        for p in ["README", "a.txt", "a.", ".rs", "a.rs.bak"] {
            assert_eq!(Lang::from_path(Path::new(p)), None, "{p}");
        }
        for (n, l) in [
            ("c", Lang::C),
            ("C++", Lang::Cpp),
            ("cpp", Lang::Cpp),
            ("python", Lang::Python),
            ("py", Lang::Python),
            ("rust", Lang::Rust),
            ("rs", Lang::Rust),
            ("JavaScript", Lang::JavaScript),
            ("js", Lang::JavaScript),
            ("typescript", Lang::TypeScript),
            ("ts", Lang::TypeScript),
            ("java", Lang::Java),
            ("go", Lang::Go),
        ] {
            assert_eq!(Lang::from_name(n), Some(l), "{n}");
        }
        assert_eq!(Lang::from_name("cobol"), None);
        assert_eq!(Lang::from_name(""), None);
    }
}
