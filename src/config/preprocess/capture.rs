//! Finding where a verbatim region ends: a block body or block argument (syslog-ng's
//! `block_content` scanner rules), or a `python {}` block (Python's own lexical rules).
//!
//! The scanners are resumable: the reader gives them the text read so far, and when they
//! run out they say where to resume once another line has been appended.

/// The result of scanning what has been read so far.
#[derive(Debug, PartialEq)]
pub enum Scan {
    /// The matching closing bracket was found: the content ends at `content_end` and
    /// reading continues at `after`.
    Closed { content_end: usize, after: usize },
    /// The text ran out; append a line and call again from `resume`.
    More { resume: usize },
}

#[derive(Clone, Copy, PartialEq)]
enum ConfigState {
    Content,
    Str,
    StrEscape,
    QStr,
    Comment,
}

/// syslog-ng's `block_content` rules: `"..."` strings (with `\` escapes) and `'...'`
/// strings and `#` comments are copied without looking inside; only the capture's own
/// bracket pair is counted (`()` inside a `{}` body are not).
pub struct ConfigScanner {
    open: char,
    close: char,
    depth: usize,
    state: ConfigState,
}

impl ConfigScanner {
    pub fn new(open: char, close: char) -> Self {
        ConfigScanner {
            open,
            close,
            depth: 1,
            state: ConfigState::Content,
        }
    }

    pub fn scan(&mut self, text: &str, from: usize) -> Scan {
        let Some(rest) = text.get(from..) else {
            return Scan::More { resume: text.len() };
        };
        for (i, c) in rest.char_indices() {
            let at = from + i;
            self.state = match (self.state, c) {
                (ConfigState::Content, '"') => ConfigState::Str,
                (ConfigState::Content, '\'') => ConfigState::QStr,
                (ConfigState::Content, '#') => ConfigState::Comment,
                (ConfigState::Content, c) if c == self.open => {
                    self.depth += 1;
                    ConfigState::Content
                }
                (ConfigState::Content, c) if c == self.close => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Scan::Closed {
                            content_end: at,
                            after: at + c.len_utf8(),
                        };
                    }
                    ConfigState::Content
                }
                (ConfigState::Str, '\\') => ConfigState::StrEscape,
                (ConfigState::Str, '"') => ConfigState::Content,
                (ConfigState::StrEscape, _) => ConfigState::Str,
                (ConfigState::QStr, '\'') => ConfigState::Content,
                (ConfigState::Comment, '\n') => ConfigState::Content,
                (state, _) => state,
            };
        }
        Scan::More { resume: text.len() }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum PyState {
    Code,
    Comment,
    Str { quote: char, triple: bool },
    StrEscape { quote: char, triple: bool },
}

/// Python's lexical structure, enough to find the brace that closes a `python {}` block:
/// `#` comments, `'`/`"` strings with `\` escapes, and `'''`/`"""` strings that span lines.
/// (syslog-ng itself uses its config-language rules here, which a `"` or an apostrophe
/// inside a triple-quoted string or a comment-free `'it\'s'` throw off; every block it
/// reads correctly is read the same way here.) `@decorator` lines are just code.
pub struct PythonScanner {
    depth: usize,
    state: PyState,
}

impl Default for PythonScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl PythonScanner {
    pub fn new() -> Self {
        PythonScanner {
            depth: 1,
            state: PyState::Code,
        }
    }

    pub fn scan(&mut self, text: &str, from: usize) -> Scan {
        let mut at = from;
        while let Some(c) = text.get(at..).and_then(|r| r.chars().next()) {
            let rest = text.get(at..).unwrap_or("");
            let mut step = c.len_utf8();
            self.state = match self.state {
                PyState::Code => match c {
                    '#' => PyState::Comment,
                    '"' | '\'' => {
                        let triple: String = [c, c, c].iter().collect();
                        if rest.starts_with(&triple) {
                            step = 3;
                            PyState::Str {
                                quote: c,
                                triple: true,
                            }
                        } else if rest.len() < 3 && !rest.contains('\n') {
                            // The line ended right after the quote; wait for more text.
                            return Scan::More { resume: at };
                        } else {
                            PyState::Str {
                                quote: c,
                                triple: false,
                            }
                        }
                    }
                    '{' => {
                        self.depth += 1;
                        PyState::Code
                    }
                    '}' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Scan::Closed {
                                content_end: at,
                                after: at + 1,
                            };
                        }
                        PyState::Code
                    }
                    _ => PyState::Code,
                },
                PyState::Comment if c == '\n' => PyState::Code,
                PyState::Comment => PyState::Comment,
                PyState::Str { quote, triple } => {
                    if c == '\\' {
                        PyState::StrEscape { quote, triple }
                    } else if triple {
                        let closing: String = [quote, quote, quote].iter().collect();
                        if rest.starts_with(&closing) {
                            step = 3;
                            PyState::Code
                        } else {
                            self.state
                        }
                    } else if c == quote || c == '\n' {
                        // An unterminated one-line string ends at the line's end, as it
                        // does for Python (which then reports it).
                        PyState::Code
                    } else {
                        self.state
                    }
                }
                PyState::StrEscape { quote, triple } => PyState::Str { quote, triple },
            };
            at += step;
        }
        Scan::More {
            resume: text.len().max(from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_end(text: &str) -> Option<usize> {
        match ConfigScanner::new('{', '}').scan(text, 0) {
            Scan::Closed { content_end, .. } => Some(content_end),
            Scan::More { .. } => None,
        }
    }

    fn python_end(text: &str) -> Option<usize> {
        match PythonScanner::new().scan(text, 0) {
            Scan::Closed { content_end, .. } => Some(content_end),
            Scan::More { .. } => None,
        }
    }

    #[test]
    fn config_capture_skips_strings_and_comments() {
        assert_eq!(config_end("a { b } c } d"), Some(10));
        assert_eq!(config_end("\"}\\\"}\" '}' # }\n}"), Some(15));
        assert_eq!(config_end("( } "), Some(2));
        assert_eq!(config_end("{ "), None);
        let mut parens = ConfigScanner::new('(', ')');
        assert_eq!(
            parens.scan("a(b) \")\" c) d", 0),
            Scan::Closed {
                content_end: 10,
                after: 11
            }
        );
    }

    #[test]
    fn python_capture_knows_python_strings() {
        let code = "\nimport re\n# don't { worry\n@staticmethod\ndef f(x):\n    d = {\"a\": '}', 'b': \"it's {\"}\n    s = \"\"\"triple { \" quoted\n    } \"\"\"\n    t = 'it\\'s }'\n    return d\n}";
        assert_eq!(python_end(code), Some(code.len() - 1));
        assert_eq!(python_end("x = {1: 2}} rest"), Some(10));
        assert_eq!(python_end("s = '''{\n"), None);
    }

    #[test]
    fn python_capture_resumes_across_lines() {
        let mut s = PythonScanner::new();
        let first = "s = '''a\n";
        let Scan::More { resume } = s.scan(first, 0) else {
            panic!()
        };
        let both = format!("{first}'''}}");
        assert_eq!(
            s.scan(&both, resume),
            Scan::Closed {
                content_end: 12,
                after: 13
            }
        );
    }
}
