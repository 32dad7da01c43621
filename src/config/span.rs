//! Source locations: every token of a configuration keeps a [`Span`] that points back into
//! the file the user wrote, even when it came out of an `@include`, a backtick substitution
//! or a block expansion, so that errors can always show the user's own line.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// Index of a block expansion in a [`SourceMap`]; 0 means "written directly in the file".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExpansionId(pub u32);

/// A byte range in one original file, plus the block expansion it was produced by (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
    pub expansion: ExpansionId,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
            expansion: ExpansionId(0),
        }
    }

    /// The smallest span covering both (the file and expansion of `self` are kept).
    pub fn to(self, other: Span) -> Span {
        if other.file != self.file {
            return self;
        }
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            ..self
        }
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One file the configuration was read from (the main file, an include, or a bundled text).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user would recognise it (as written or as resolved).
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of every line, for line/column lookups.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e.saturating_sub(1));
        self.text.get(start..end.max(start))
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Where a block was expanded: the block's name and the call site that used it.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub block: String,
    pub call_site: Span,
}

/// Every file and block expansion a configuration was built from.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Index 0 is a placeholder so that `ExpansionId(0)` means "none".
    expansions: Vec<Expansion>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap {
            files: Vec::new(),
            expansions: vec![Expansion {
                block: String::new(),
                call_site: Span::default(),
            }],
        }
    }

    pub fn add_file(&mut self, path: impl AsRef<Path>, text: String) -> FileId {
        self.files
            .push(SourceFile::new(path.as_ref().to_path_buf(), text));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// "file:line:col" of the start of `span`, when its file is known.
    pub fn location(&self, span: Span) -> Option<String> {
        let file = self.file(span.file)?;
        let (line, col) = file.line_col(span.start as usize);
        Some(format!("{}:{line}:{col}", file.path.display()))
    }

    pub fn add_expansion(&mut self, block: impl Into<String>, call_site: Span) -> ExpansionId {
        self.expansions.push(Expansion {
            block: block.into(),
            call_site,
        });
        ExpansionId(self.expansions.len() as u32 - 1)
    }

    /// The expansion a span came from, `None` for text written directly in a file.
    pub fn expansion(&self, id: ExpansionId) -> Option<&Expansion> {
        if id.0 == 0 {
            None
        } else {
            self.expansions.get(id.0 as usize)
        }
    }

    /// The text a span covers, if it lies inside one file.
    pub fn snippet(&self, span: Span) -> Option<&str> {
        self.file(span.file)?
            .text
            .get(span.start as usize..span.end as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_lookups() {
        let f = SourceFile::new("x".into(), "ab\ncdé\n\nz".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.line(2), Some("cdé"));
        assert_eq!(f.line(3), Some(""));
        assert_eq!(f.line(4), Some("z"));
        assert_eq!(f.line(5), None);
        assert_eq!(f.line_col(100), (4, 2));
    }
}
