//! Code mode: clones that must match, code that must not, lexing corners,
//! and properties over arbitrary input.

use proptest::prelude::*;

use super::*;
use crate::tests::cases;

fn canon(src: &str, lang: Lang) -> Vec<String> {
    let ts = canonical(src, lang);
    check(src, &ts);
    let texts: Vec<String> = ts.texts().map(str::to_owned).collect();
    let mut fast = Vec::new();
    for_each_canonical(src, lang, &mut Scratch::default(), |t| fast.push(t.to_owned()));
    assert_eq!(fast, texts, "fast path, {lang:?}: {src:?}");
    texts
}

/// Lexemes as (kind, text).
fn lex(src: &str, lang: Lang) -> Vec<(LexemeKind, &str)> {
    lexemes(src, lang).map(|l| (l.kind, &src[l.src])).collect()
}

#[track_caller]
fn check(src: &str, ts: &TokenStream) {
    let mut end = 0;
    for t in &ts.tokens {
        assert!(t.src.start < t.src.end, "empty lexeme in {src:?}");
        assert!(t.src.start >= end, "overlap in {src:?}");
        assert!(t.src.end <= src.len());
        assert!(src.is_char_boundary(t.src.start) && src.is_char_boundary(t.src.end));
        end = t.src.end;
    }
}

#[track_caller]
fn same(lang: Lang, a: &str, b: &str) {
    let (ca, cb) = (canon(a, lang), canon(b, lang));
    assert!(!ca.is_empty());
    assert_eq!(ca, cb, "{lang:?}:\n{a}\n---\n{b}");
}

#[track_caller]
fn differ(lang: Lang, a: &str, b: &str) {
    assert_ne!(canon(a, lang), canon(b, lang), "{lang:?}:\n{a}\n---\n{b}");
}

// ---------------------------------------------------------------- clones

#[test]
fn c_clones() {
    let a = r#"
/* Sum an array. */
int sum(const int *xs, int n) {
    int total = 0; // running total
    for (int i = 0; i < n; ++i) {
        total += xs[i];
    }
    printf("%d\n", total);
    return total;
}
"#;
    let b = r#"int add_all(const int*values,int count){int acc=10;
for(int k=1;k<count;++k){acc+=values[k];} /* log it */ printf("sum=%d", acc); return acc;}"#;
    same(Lang::C, a, b);
    let c = "int sum(const int *xs, int n) { int total = 0; for (int i = 0; i < n; i++) total -= xs[i]; return total; }";
    differ(Lang::C, a, c);
}

#[test]
fn cpp_clones() {
    let a = r#"
#include <vector>
template <typename T>
T largest(const std::vector<T>& v) {
    T best = v[0];  // first
    for (auto it = v.begin(); it != v.end(); ++it) if (*it > best) best = *it;
    return best;
}
"#;
    let b = r#"#include <vector>
template<typename U> U maxOf(const std::vector<U> &items){U m=items[1];/*start*/
  for(auto p=items.begin();p!=items.end();++p)
    if(*p>m) m=*p;
  return m;}"#;
    same(Lang::Cpp, a, b);
    differ(Lang::Cpp, a, "template <typename T> T largest(const std::vector<T>& v) { return v[0]; }");
}

#[test]
fn python_clones() {
    let a = r#"
def fib(n):
    """Return the n-th Fibonacci number."""
    a, b = 0, 1  # seeds
    for _ in range(n):
        a, b = b, a + b
    return a
"#;
    let b = r#"def fibonacci(count):
    '''Docstring changed.'''
    x, y = 5, 8
    for i in range( count ):   # loop
        x, y = y, x + y
    return x
"#;
    same(Lang::Python, a, b);
    differ(Lang::Python, a, &a.replace("a + b", "a * b"));
}

#[test]
fn rust_clones() {
    let a = r#"
/// Counts words.
fn count_words(text: &str) -> usize {
    let mut n = 0usize; // counter
    for w in text.split_whitespace() { if !w.is_empty() { n += 1; } }
    n
}
"#;
    let b = r#"fn cw(s:&str)->usize{let mut k=7u32;/* nested /* comment */ here */
for tok in s.split_whitespace(){if !tok.is_empty(){k+=1;}}k}"#;
    same(Lang::Rust, a, b);
    differ(Lang::Rust, a, &a.replace("n += 1", "n -= 1"));
}

#[test]
fn javascript_clones() {
    let a = r#"
// Debounce a function.
function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
"#;
    let b = "function d(f,w){let t=null;return(...a)=>{clearTimeout(t);t=setTimeout(()=>f(...a),w);};}";
    same(Lang::JavaScript, a, b);
    differ(Lang::JavaScript, a, &a.replace("let timer", "var timer"));
}

#[test]
fn typescript_clones() {
    let a = r#"
interface Point { x: number; y: number }
export function norm(p: Point): number {
  return Math.sqrt(p.x ** 2 + p.y ** 2); // euclid
}
"#;
    let b =
        "interface P{a:number;b:number}\nexport function len(q:P):number{return Math.sqrt(q.a**3+q.b**3)}";
    // Semicolons are lexemes: the second drops one after the return.
    differ(Lang::TypeScript, a, b);
    let b =
        "interface P{a:number;b:number}\nexport function len(q:P):number{return Math.sqrt(q.a**3+q.b**3);}";
    same(Lang::TypeScript, a, b);
}

#[test]
fn java_clones() {
    let a = r#"
public class Greeter {
    /** Greets. */
    public static String greet(String name) {
        return "Hello, " + name + "!";
    }
}
"#;
    let b = r#"public class G { public static String hi(String who) { return "Hi " + who + '?'; } }"#;
    same(Lang::Java, a, b);
    differ(Lang::Java, a, &a.replace("static ", ""));
}

#[test]
fn go_clones() {
    let a = r#"
package main

import "fmt"

// Max returns the larger.
func Max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func main() { fmt.Println(Max(1, 2)) }
"#;
    let b = "package main\nimport `fmt`\nfunc Bigger(x, y int) int { if x > y { return x }; return y }\nfunc main() { fmt.Println(Bigger(3, 4)) }";
    // Go's automatic semicolons are not inserted: the explicit `;` differs.
    differ(Lang::Go, a, b);
    let b = "package main\nimport `fmt`\nfunc Bigger(x, y int) int { if x > y { return x }\n return y }\nfunc main() { fmt.Println(Bigger(3, 4)) }";
    same(Lang::Go, a, b);
}

// --------------------------------------------------------- lexing corners

#[test]
fn markers_are_stable() {
    assert_eq!(ID, "\u{1}id");
    assert_eq!(NUM, "\u{1}num");
    assert_eq!(STR, "\u{1}str");
    // Text mode never produces them.
    for m in [ID, NUM, STR] {
        let ts = crate::tokenize(m);
        assert!(ts.texts().all(|t| t != m));
    }
    assert_eq!(canon("x = 1 + 'a'", Lang::Python), [ID, "=", NUM, "+", STR]);
}

#[test]
fn numbers() {
    use LexemeKind::Number;
    for (src, lang) in [
        ("0x1F", Lang::C),
        ("0xFFul", Lang::C),
        ("1.5e-3f", Lang::C),
        ("1e+10", Lang::Java),
        (".5", Lang::JavaScript),
        ("1_000_000u64", Lang::Rust),
        ("0b1010_1010", Lang::Rust),
        ("1.0f64", Lang::Rust),
        ("0x1p-3", Lang::C),
        ("1'000'000", Lang::Cpp),
        ("3j", Lang::Python),
        ("0o777", Lang::Python),
        ("1n", Lang::JavaScript),
        ("1.", Lang::C),
    ] {
        assert_eq!(lex(src, lang), [(Number, src)], "{lang:?} {src}");
    }
    // Ranges and method calls are not fractions.
    assert_eq!(canon("0..10", Lang::Rust), [NUM, "..", NUM]);
    assert_eq!(canon("1.max(2)", Lang::Rust), [NUM, ".", ID, "(", NUM, ")"]);
    assert_eq!(canon("a - -1", Lang::C), [ID, "-", "-", NUM]);
}

#[test]
fn strings() {
    use LexemeKind::String as S;
    let cases: &[(&str, Lang)] = &[
        (r#""a \" b""#, Lang::C),
        (r"'\n'", Lang::C),
        (r#"L"wide""#, Lang::C),
        (r#"u8"utf""#, Lang::Cpp),
        (r#"R"x(raw " ) string)x""#, Lang::Cpp),
        (r#"r"C:\path""#, Lang::Python),
        (r#"rb'\x00'"#, Lang::Python),
        (r#"f"{x!r}""#, Lang::Python),
        ("'''multi\n'line'\n'''", Lang::Python),
        ("\"\"\"doc \"quoted\" \"\"\"", Lang::Python),
        (r###"r#"has "quotes""#"###, Lang::Rust),
        (r####"br##"a "# b"##"####, Lang::Rust),
        (r#"b"bytes""#, Lang::Rust),
        (r"b'x'", Lang::Rust),
        (r"'\u{1F600}'", Lang::Rust),
        ("'é'", Lang::Rust),
        ("\"multi\nline\"", Lang::Rust),
        ("`raw\\n\nstring`", Lang::Go),
        ("'x'", Lang::Go),
        ("`a ${b + `c ${d}`} e`", Lang::JavaScript),
        ("`x ${ {a: '}'}.a } y`", Lang::TypeScript),
        ("\"\"\"\n  text block \"\" \n\"\"\"", Lang::Java),
        ("'c'", Lang::Java),
    ];
    for &(src, lang) in cases {
        assert_eq!(lex(src, lang), [(S, src)], "{lang:?} {src}");
    }
}

#[test]
fn rust_lifetimes_and_raw_identifiers() {
    assert_eq!(
        canon("fn f<'a>(x: &'a str) -> &'static str", Lang::Rust),
        ["fn", ID, "<", ID, ">", "(", ID, ":", "&", ID, ID, ")", "->", "&", ID, ID]
    );
    assert_eq!(lex("r#type", Lang::Rust), [(LexemeKind::Identifier, "r#type")]);
    assert_eq!(canon("'label: loop { break 'label; }", Lang::Rust)[..3], [ID, ":", "loop"]);
}

#[test]
fn javascript_regex_or_division() {
    assert_eq!(canon("x = a / b / c", Lang::JavaScript), [ID, "=", ID, "/", ID, "/", ID]);
    assert_eq!(canon("x = /ab+c/gi.test(s)", Lang::JavaScript), [ID, "=", STR, ".", ID, "(", ID, ")"]);
    assert_eq!(canon("return /[/]\"/.source", Lang::JavaScript), ["return", STR, ".", ID]);
    assert_eq!(canon("f(x) / 2", Lang::JavaScript), [ID, "(", ID, ")", "/", NUM]);
    // A JSX closing tag is not a regular expression.
    assert_eq!(
        canon("<b>{x}</b>; y = 1 / 2", Lang::JavaScript),
        ["<", ID, ">", "{", ID, "}", "<", "/", ID, ">", ";", ID, "=", NUM, "/", NUM]
    );
}

#[test]
fn operators_longest_match() {
    assert_eq!(canon("a->b::c", Lang::Cpp), [ID, "->", ID, "::", ID]);
    assert_eq!(canon("x <<= 1", Lang::C), [ID, "<<=", NUM]);
    assert_eq!(canon("a === b !== c", Lang::JavaScript), [ID, "===", ID, "!==", ID]);
    assert_eq!(canon("x >>>= 2", Lang::Java), [ID, ">>>=", NUM]);
    assert_eq!(canon("a => a ?? b?.c", Lang::TypeScript), [ID, "=>", ID, "??", ID, "?.", ID]);
    assert_eq!(canon("a?.5:1", Lang::JavaScript), [ID, "?", NUM, ":", NUM]);
    assert_eq!(canon("x := <-ch", Lang::Go), [ID, ":=", "<-", ID]);
    assert_eq!(canon("a<-b", Lang::C), [ID, "<", "-", ID]);
    assert_eq!(canon("a &^= b", Lang::Go), [ID, "&^=", ID]);
    assert_eq!(canon("x //= 2 ** 3", Lang::Python), [ID, "//=", NUM, "**", NUM]);
    assert_eq!(canon("x && y || z", Lang::Rust), [ID, "&&", ID, "||", ID]);
    assert_eq!(canon("a <=> b", Lang::Cpp), [ID, "<=>", ID]);
    assert_eq!(canon("0..=9", Lang::Rust), [NUM, "..=", NUM]);
}

#[test]
fn comments_dropped() {
    assert_eq!(canon("a // b\n/* c\n d */ e", Lang::C), [ID, ID]);
    assert_eq!(canon("a # b\nc", Lang::Python), [ID, ID]);
    assert_eq!(canon("a /* x /* y */ z */ b", Lang::Rust), [ID, ID]);
    // Not nested in C: the second `*/` closes nothing.
    assert_eq!(canon("a /* x /* y */ z */ b", Lang::C), [ID, ID, "*", "/", ID]);
    // `//` is floor division in Python, `#` a token in C.
    assert_eq!(canon("a // b", Lang::Python), [ID, "//", ID]);
    assert_eq!(canon("#define N 1", Lang::C), ["#", ID, ID, NUM]);
    // Line continuations are layout.
    assert_eq!(canon("x = 1 + \\\n 2", Lang::Python), [ID, "=", NUM, "+", NUM]);
}

#[test]
fn keywords_per_language() {
    assert_eq!(canon("int x;", Lang::C), ["int", ID, ";"]);
    assert_eq!(canon("var x int", Lang::Go), ["var", ID, ID]);
    assert_eq!(canon("class A: pass", Lang::Python), ["class", ID, ":", "pass"]);
    assert_eq!(canon("class A {}", Lang::C), [ID, ID, "{", "}"]);
    assert_eq!(canon("class A {}", Lang::Cpp), ["class", ID, "{", "}"]);
    assert_eq!(canon("let $el = _x", Lang::JavaScript), ["let", ID, "=", ID]);
    assert_eq!(canon("type T = keyof U", Lang::TypeScript), ["type", ID, "=", "keyof", ID]);
    assert_eq!(canon("type T = keyof U", Lang::JavaScript), [ID, ID, "=", ID, ID]);
    assert_eq!(canon("None is True", Lang::Python), ["None", "is", "True"]);
    assert_eq!(canon("nil == true", Lang::Go), [ID, "==", ID]);
}

#[test]
fn unterminated_constructs() {
    let cases: &[(&str, Lang)] = &[
        ("x = \"abc", Lang::C),
        ("x = \"abc\ny = 2", Lang::C),
        ("/* never closed", Lang::C),
        ("/* /* nested */ never", Lang::Rust),
        ("r##\"raw", Lang::Rust),
        ("'''doc", Lang::Python),
        ("f\"{", Lang::Python),
        ("`tmpl ${ `inner ${", Lang::JavaScript),
        ("`raw", Lang::Go),
        ("R\"d(never", Lang::Cpp),
        ("R\"(", Lang::Cpp),
        ("\"\"\"", Lang::Java),
        ("'", Lang::Rust),
        ("'\\", Lang::Rust),
        ("b'", Lang::Rust),
        ("x = /abc", Lang::JavaScript),
        ("\"\\", Lang::Go),
        ("0x", Lang::C),
        ("1e+", Lang::C),
        ("'é", Lang::C),
        ("\"é\\é", Lang::Java),
    ];
    for &(src, lang) in cases {
        let ts = canonical(src, lang);
        check(src, &ts);
    }
    // A single-line string ends at its line; the next line still lexes.
    assert_eq!(canon("x = \"abc\ny = 2", Lang::C), [ID, "=", STR, ID, "=", NUM]);
    // A block comment runs to the end.
    assert_eq!(canon("a /* b c", Lang::Java), [ID]);
    // Deep template nesting does not exhaust the stack.
    let deep = "`${".repeat(10_000);
    check(&deep, &canonical(&deep, Lang::JavaScript));
}

#[test]
fn unicode_in_code() {
    assert_eq!(canon("let naïve = «x»;", Lang::Rust), ["let", ID, "=", "«", ID, "»", ";"]);
    assert_eq!(canon("x\u{200B}y", Lang::C), [ID, ID]);
    assert_eq!(canon("π = 3.14", Lang::Python), [ID, "=", NUM]);
}

// ------------------------------------------------------------ properties

fn code_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,6}",
        "[0-9][0-9a-fx.eE+_]{0,5}",
        "[ \t\n]{1,3}",
        "[-+*/%=<>!&|^~?:;,.(){}\\[\\]#@$\\\\]{1,3}",
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("`".to_owned()),
        Just("\"\"\"".to_owned()),
        Just("'''".to_owned()),
        Just("/*".to_owned()),
        Just("*/".to_owned()),
        Just("//".to_owned()),
        Just("${".to_owned()),
        Just("r#\"".to_owned()),
        Just("\"#".to_owned()),
        Just("R\"x(".to_owned()),
        Just(")x\"".to_owned()),
        Just("é".to_owned()),
        Just("\u{200B}".to_owned()),
        any::<char>().prop_map(String::from),
    ]
}

fn code_text() -> impl Strategy<Value = String> {
    prop::collection::vec(code_piece(), 0..24).prop_map(|v| v.concat())
}

fn any_lang() -> impl Strategy<Value = Lang> {
    prop::sample::select(Lang::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_input_lexes(s in any::<String>(), lang in any_lang()) {
        let _ = canon(&s, lang);
    }

    #[test]
    fn code_like_input_lexes(s in code_text(), lang in any_lang()) {
        let _ = canon(&s, lang);
    }

    #[test]
    fn layout_does_not_matter(s in code_text(), lang in any_lang()) {
        // Doubling every space, tab and newline changes nothing when no
        // string literal holds layout.
        let ts = canonical(&s, lang);
        let has_layout_in_literal = lexemes(&s, lang)
            .any(|l| l.kind == LexemeKind::String && s[l.src].contains([' ', '\t', '\n']));
        let relaid = s.replace(' ', "  ").replace('\t', "\t ").replace('\n', "\n\n");
        if !has_layout_in_literal {
            let a: Vec<&str> = ts.texts().collect();
            let b = canon(&relaid, lang);
            prop_assert_eq!(a, b);
        }
    }
}
