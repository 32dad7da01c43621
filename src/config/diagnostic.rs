//! Configuration errors rendered the way syslog-ng renders them: the location, the offending
//! line with its neighbours, and a caret under the token.

use std::fmt::Write as _;

use super::span::{SourceMap, Span};

/// One problem found in a configuration. Produced by every stage (lexer, preprocessor, parser,
/// typed model, semantic checks) and rendered for humans by [`Diagnostic::render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// What went wrong, e.g. "unknown option `folow-freq`".
    pub message: String,
    /// Where: the token or construct at fault. `None` for errors without a location
    /// (an unreadable main file).
    pub span: Option<Span>,
    /// The construct being read, as syslog-ng names it ("source", "destination", "log", ...).
    pub context: Option<String>,
    /// Extra lines printed after the snippet, e.g. "did you mean `follow-freq`?".
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            context: None,
            notes: Vec::new(),
        }
    }

    /// An error that has no place in the configuration text.
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            context: None,
            notes: Vec::new(),
        }
    }

    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// "file:line:col" of the start of the span, if it has one.
    pub fn location(&self, map: &SourceMap) -> Option<String> {
        map.location(self.span?)
    }

    /// Renders the error like syslog-ng does:
    ///
    /// ```text
    /// Error parsing within source, unknown option `folow-freq` in bad.conf:3:32-3:42:
    /// 1       @version: 3.38
    /// 2       source s_a {
    /// 3----->   file("/tmp/x" follow-freq(1) folow-freq(2));
    /// 3----->                                ^^^^^^^^^^
    /// 4       };
    /// ```
    pub fn render(&self, map: &SourceMap) -> String {
        let mut out = String::new();
        let what = match &self.context {
            Some(ctx) => format!("Error parsing within {ctx}, {}", self.message),
            None => format!("Error parsing configuration, {}", self.message),
        };
        let located = self.span.and_then(|s| map.file(s.file).map(|f| (s, f)));
        let Some((span, file)) = located else {
            let _ = writeln!(out, "{what}");
            self.render_notes(&mut out);
            return out;
        };
        let (l1, c1) = file.line_col(span.start as usize);
        let (l2, c2) = file.line_col(span.end as usize);
        let _ = writeln!(
            out,
            "{what} in {}:{l1}:{c1}-{l2}:{c2}:",
            file.path.display()
        );
        let first = l1.saturating_sub(2).max(1);
        let last = (l1 + 2).min(file.line_count());
        for n in first..=last {
            let text = file.line(n).unwrap_or("");
            if n == l1 {
                let _ = writeln!(out, "{:-<6}> {text}", n);
                let indent: String = text
                    .chars()
                    .take(c1 - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let line_len = text.chars().count();
                let width = if l2 == l1 {
                    c2.saturating_sub(c1)
                } else {
                    line_len + 1 - c1.min(line_len + 1)
                };
                let _ = writeln!(out, "{:-<6}> {indent}{}", n, "^".repeat(width.max(1)));
            } else {
                let _ = writeln!(out, "{:<8}{text}", n);
            }
        }
        let mut expansion = span.expansion;
        let mut depth = 0;
        while let Some(exp) = map.expansion(expansion) {
            let site = Diagnostic::new("", exp.call_site)
                .location(map)
                .unwrap_or_else(|| "?".into());
            let _ = writeln!(
                out,
                "  in the expansion of block `{}` used at {site}",
                exp.block
            );
            expansion = exp.call_site.expansion;
            depth += 1;
            if depth > 64 {
                break;
            }
        }
        self.render_notes(&mut out);
        out
    }

    fn render_notes(&self, out: &mut String) {
        for note in &self.notes {
            let _ = writeln!(out, "  {note}");
        }
    }
}

/// Renders a list of diagnostics, separated by blank lines.
pub fn render_all(diags: &[Diagnostic], map: &SourceMap) -> String {
    diags
        .iter()
        .map(|d| d.render(map))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The closest candidate to a misspelt word, for "did you mean" notes. `-` and `_` are the
/// same in syslog-ng keywords, so they compare equal here.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let norm = |s: &str| s.replace('_', "-").to_ascii_lowercase();
    let word = norm(word);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &norm(c)), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1) + 1 && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_syslog_ng() {
        let mut map = SourceMap::new();
        let text = "@version: 3.38\nsource s_a {\n  file(\"/tmp/x\" follow-freq(1) folow_freq(2));\n};\nlog { source(s_a); };\n";
        let id = map.add_file("bad1.conf", text.to_string());
        let start = text.find("folow").unwrap();
        let d = Diagnostic::new(
            "unknown option `folow-freq`",
            Span::new(id, start, start + 10),
        )
        .with_context("source")
        .with_note("did you mean `follow-freq`?");
        let expected = "Error parsing within source, unknown option `folow-freq` in bad1.conf:3:32-3:42:\n\
1       @version: 3.38\n\
2       source s_a {\n\
3----->   file(\"/tmp/x\" follow-freq(1) folow_freq(2));\n\
3----->                                ^^^^^^^^^^\n\
4       };\n\
5       log { source(s_a); };\n\
\x20 did you mean `follow-freq`?\n";
        assert_eq!(d.render(&map), expected);
    }

    #[test]
    fn suggests_close_words_only() {
        let opts = ["follow-freq", "flags", "log-fetch-limit"];
        assert_eq!(did_you_mean("folow_freq", opts), Some("follow-freq"));
        assert_eq!(did_you_mean("flag", opts), Some("flags"));
        assert_eq!(did_you_mean("completely-else", opts), None);
    }
}
