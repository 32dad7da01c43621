//! Recursive descent from the token stream to the generic tree: `stmt := node* ';'`.
//!
//! The grammar is generic on purpose (see [`super::ast`]); the parser only knows what
//! syslog-ng's grammar needs to be *read*:
//! - where `;` is mandatory: after every statement, including the last one in a braced
//!   body, except the last expression of a filter; a statement may not go on after a
//!   `{ ... }` (`source s { ... } log ...` is "unexpected `log`, expecting ';'"), except
//!   for `elif`/`else` in an `if` chain; a body may not start with a `;`;
//! - which words introduce a group rather than a call: `if (`, `elif (`, `not (`, `and (`,
//!   `or (` are a word and a parenthesised group;
//! - the top-level forms read verbatim: `python { ... };` and `block ... { ... };`;
//! - where a block may be referenced (its context), so references are expanded in place.

use super::ast::{Ast, Node, Number, PythonBlock, Stmt, keyword_eq};
use super::blocks::{BlockContext, BlockRegistry};
use super::diagnostic::Diagnostic;
use super::generators::{Applications, Generator};
use super::lexer::TokKind;
use super::preprocess::{Preprocessor, Token};
use super::span::{Span, Spanned};

/// How deep brackets may nest (a guard for the recursion, far beyond any real config).
const MAX_NESTING: usize = 128;

mod context;
mod verbatim;

use context::{Ctx, diagnostic_context, takes_group};

/// Whether a statement must end after its node `last` when `next` follows: after a
/// `{ ... }` (except `elif`/`else` continuing an `if`), and after a call among drivers,
/// options or log path elements (`file("a") file("b");` lacks a `;`).
fn statement_must_end(ctx: Ctx, nodes: &[Node], last: &Node, next: &TokKind) -> bool {
    match last {
        Node::Block { .. } => {
            let chain = nodes
                .first()
                .and_then(Node::as_word)
                .is_some_and(|w| keyword_eq(w, "if"));
            let continues =
                matches!(next, TokKind::Word(w) if keyword_eq(w, "elif") || keyword_eq(w, "else"));
            !(chain && continues)
        }
        Node::Call { .. } => {
            matches!(ctx, Ctx::Root)
                || matches!(ctx, Ctx::Object(kind) if kind != BlockContext::Filter)
        }
        _ => false,
    }
}

fn unexpected(tok: &Token, expecting: &str) -> Diagnostic {
    let what = tok.kind.describe();
    if expecting.is_empty() {
        Diagnostic::new(format!("syntax error, unexpected {what}"), tok.span)
    } else {
        Diagnostic::new(
            format!("syntax error, unexpected {what}, expecting {expecting}"),
            tok.span,
        )
    }
}

/// How a statement ended.
enum End {
    Semi,
    /// At a `}` (left in the stream for the body to read).
    Close(Span),
    Eof,
}

pub struct Parser<'p, 'o> {
    pp: &'p mut Preprocessor<'o>,
    blocks: BlockRegistry,
    python: Vec<PythonBlock>,
    /// The `application` statements read so far, for `app-parser()`.
    applications: Applications,
    depth: usize,
}

/// Parses a whole configuration from the preprocessed token stream.
pub fn parse(pp: &mut Preprocessor<'_>) -> Result<Ast, Diagnostic> {
    let mut parser = Parser {
        pp,
        blocks: BlockRegistry::default(),
        python: Vec::new(),
        applications: Applications::default(),
        depth: 0,
    };
    let stmts = parser.top_level()?;
    Ok(Ast {
        version: parser.pp.version.clone(),
        stmts,
        python_blocks: parser.python,
        modules: parser.pp.modules.clone(),
    })
}

impl Parser<'_, '_> {
    fn eof_error(&self, expecting: &str) -> Diagnostic {
        Diagnostic::new(
            format!("syntax error, unexpected end of file, expecting {expecting}"),
            self.pp.eof_span(),
        )
    }

    fn peek_kind(&mut self) -> Result<Option<TokKind>, Diagnostic> {
        Ok(self.pp.peek()?.map(|t| t.kind.clone()))
    }

    fn expect(&mut self, kind: TokKind, expecting: &str) -> Result<Token, Diagnostic> {
        match self.pp.next_token()? {
            Some(tok) if tok.kind == kind => Ok(tok),
            Some(tok) => Err(unexpected(&tok, expecting)),
            None => Err(self.eof_error(expecting)),
        }
    }

    fn top_level(&mut self) -> Result<Vec<Stmt>, Diagnostic> {
        let mut stmts = Vec::new();
        while let Some(tok) = self.pp.next_token()? {
            let word = tok.kind_word();
            if tok.kind == TokKind::Semi {
                continue;
            }
            if word.is_some_and(|w| keyword_eq(w, "python"))
                && self.peek_kind()? == Some(TokKind::LBrace)
            {
                self.python_block(&tok)
                    .map_err(|d| with_context(d, "python"))?;
                continue;
            }
            if word.is_some_and(|w| keyword_eq(w, "block")) {
                self.block_definition(&tok)
                    .map_err(|d| with_context(d, "block"))?;
                continue;
            }
            let context = match &tok.kind {
                TokKind::Word(w) => diagnostic_context(w),
                _ => None,
            };
            self.pp.push_back(tok);
            let parsed = self.statement(Ctx::Root);
            let (stmt, end) = match context {
                Some(c) => parsed.map_err(|d| with_context(d, c))?,
                None => parsed?,
            };
            match end {
                End::Close(at) => {
                    return Err(Diagnostic::new("syntax error, unexpected '}'", at));
                }
                End::Eof if stmt.is_some() => return Err(self.eof_error("';'")),
                _ => {}
            }
            if let Some(s) = &stmt {
                self.applications.record(s);
            }
            stmts.extend(stmt);
        }
        Ok(stmts)
    }

    /// Reads one statement up to its `;` (consumed), a `}` (not consumed) or the end.
    /// Returns `None` for a statement with no nodes.
    fn statement(&mut self, ctx: Ctx) -> Result<(Option<Stmt>, End), Diagnostic> {
        let mut nodes: Vec<Node> = Vec::new();
        let end = loop {
            let Some(tok) = self.pp.next_token()? else {
                break End::Eof;
            };
            match tok.kind {
                TokKind::Semi => {
                    if let Some(first) = nodes.first() {
                        let span = first.span().to(tok.span);
                        return Ok((Some(Stmt { nodes, span }), End::Semi));
                    }
                    break End::Semi;
                }
                TokKind::RBrace => {
                    let at = tok.span;
                    self.pp.push_back(tok);
                    break End::Close(at);
                }
                TokKind::RParen => return Err(unexpected(&tok, "';'")),
                _ => {}
            }
            if let Some(last) = nodes.last() {
                if statement_must_end(ctx, &nodes, last, &tok.kind) {
                    return Err(unexpected(&tok, "';'"));
                }
            } else if ctx == Ctx::Object(BlockContext::Log)
                && tok
                    .kind_word()
                    .is_some_and(|w| keyword_eq(w, "elif") || keyword_eq(w, "else"))
            {
                return Err(unexpected(&tok, "'}'").with_note(
                    "`elif` and `else` continue an `if`: they follow its `}` directly, without a `;`",
                ));
            }
            let first = nodes.first().and_then(Node::as_word).map(str::to_string);
            self.pp.push_back(tok);
            if let Some(node) = self.node(ctx, first.as_deref())? {
                nodes.push(node);
            }
        };
        let stmt = nodes.first().map(|first| {
            let last = nodes.last().map_or(first.span(), Node::span);
            Stmt {
                span: first.span().to(last),
                nodes: nodes.clone(),
            }
        });
        Ok((stmt, end))
    }

    /// Reads one node. `None` when the node was a block reference, now expanded into the
    /// stream (its tokens are read next, by the caller's loop).
    fn node(&mut self, ctx: Ctx, first: Option<&str>) -> Result<Option<Node>, Diagnostic> {
        let tok = self.pp.next_token()?.ok_or_else(|| self.eof_error("';'"))?;
        let node = match tok.kind.clone() {
            TokKind::Word(w) => {
                let next = self.peek_kind()?;
                if next == Some(TokKind::LParen) && !takes_group(&w) {
                    let block = ctx
                        .block_context()
                        .and_then(|c| self.blocks.get(c, &w).cloned());
                    if let Some(def) = block {
                        self.expand(&tok, &def)?;
                        return Ok(None);
                    }
                    let generator = ctx
                        .block_context()
                        .and_then(|c| Generator::lookup(c, &w, &self.pp.modules));
                    if let Some(g) = generator {
                        self.generate(&tok, &w, &g)?;
                        return Ok(None);
                    }
                    let args_ctx = ctx.call_args(&w);
                    return self.call(tok, w, args_ctx).map(Some);
                }
                let word = Node::Word(Spanned::new(w, tok.span));
                return self.maybe_arrow(word, ctx, first).map(Some);
            }
            TokKind::Str(s, q) => Node::Str(Spanned::new(s, tok.span), q),
            TokKind::Int(i) => Node::Number(Spanned::new(Number::Int(i), tok.span)),
            TokKind::Float(f) => Node::Number(Spanned::new(Number::Float(f), tok.span)),
            TokKind::Op(o) => Node::Op(Spanned::new(o, tok.span)),
            TokKind::Arrow => Node::Op(Spanned::new("=>".into(), tok.span)),
            TokKind::Ellipsis => Node::Op(Spanned::new("...".into(), tok.span)),
            TokKind::LParen => {
                let (items, close) = self.enclosed(&tok, ctx.group(first))?;
                return Ok(Some(Node::Group {
                    items,
                    span: tok.span.to(close.span),
                }));
            }
            TokKind::LBrace => return self.body(&tok, ctx.body(first)).map(Some),
            _ => return Err(unexpected(&tok, "")),
        };
        match node {
            Node::Str(..) | Node::Number(_) => self.maybe_arrow(node, ctx, first).map(Some),
            other => Ok(Some(other)),
        }
    }

    /// `key => value`, if an arrow follows `key`.
    fn maybe_arrow(
        &mut self,
        key: Node,
        ctx: Ctx,
        first: Option<&str>,
    ) -> Result<Node, Diagnostic> {
        if self.peek_kind()? != Some(TokKind::Arrow) {
            return Ok(key);
        }
        let arrow = self
            .pp
            .next_token()?
            .ok_or_else(|| self.eof_error("'=>'"))?;
        let key_text = match &key {
            Node::Word(w) => w.value.clone(),
            Node::Str(s, _) => s.value.clone(),
            Node::Number(n) => match n.value {
                Number::Int(i) => i.to_string(),
                Number::Float(f) => f.to_string(),
            },
            _ => return Ok(key),
        };
        self.enter(arrow.span)?;
        let value = loop {
            match self.peek_kind()? {
                None => return Err(self.eof_error("a value after '=>'")),
                Some(TokKind::RParen | TokKind::RBrace | TokKind::Semi) => {
                    let tok = self
                        .pp
                        .next_token()?
                        .ok_or_else(|| self.eof_error("a value"))?;
                    return Err(unexpected(&tok, "a value after '=>'"));
                }
                Some(_) => {}
            }
            if let Some(v) = self.node(ctx, first)? {
                break v;
            }
        };
        self.depth -= 1;
        let span = key.span().to(value.span()).to(arrow.span);
        Ok(Node::Arrow {
            key: Spanned::new(key_text, key.span()),
            value: Box::new(value),
            span,
        })
    }

    fn enter(&mut self, at: Span) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Diagnostic::new(
                format!("brackets nested too deeply (more than {MAX_NESTING} levels)"),
                at,
            ));
        }
        Ok(())
    }

    /// The nodes up to the `)` matching `open` (already read).
    fn enclosed(&mut self, open: &Token, ctx: Ctx) -> Result<(Vec<Node>, Token), Diagnostic> {
        self.enter(open.span)?;
        let mut items = Vec::new();
        loop {
            match self.peek_kind()? {
                None => {
                    return Err(Diagnostic::new(
                        "syntax error, unexpected end of file: this '(' is never closed",
                        open.span,
                    ));
                }
                Some(TokKind::RParen) => break,
                Some(TokKind::Semi | TokKind::RBrace) => {
                    let tok = self.pp.next_token()?.ok_or_else(|| self.eof_error("')'"))?;
                    return Err(unexpected(&tok, "')'"));
                }
                Some(_) => {}
            }
            items.extend(self.node(ctx, None)?);
        }
        let close = self.pp.next_token()?.ok_or_else(|| self.eof_error("')'"))?;
        self.depth -= 1;
        Ok((items, close))
    }

    fn call(&mut self, name_tok: Token, name: String, ctx: Ctx) -> Result<Node, Diagnostic> {
        let open = self.pp.next_token()?.ok_or_else(|| self.eof_error("'('"))?;
        let (args, close) = self.enclosed(&open, ctx)?;
        let raw = self.pp.text_between(&open, &close);
        Ok(Node::Call {
            name: Spanned::new(name, name_tok.span),
            args,
            raw,
            span: name_tok.span.to(close.span),
        })
    }

    /// The statements of a `{ ... }` whose `{` is `open` (already read).
    fn body(&mut self, open: &Token, ctx: Ctx) -> Result<Node, Diagnostic> {
        self.enter(open.span)?;
        let mut stmts = Vec::new();
        let mut started = false;
        let close = loop {
            match self.peek_kind()? {
                Some(TokKind::RBrace) => break self.pp.next_token()?,
                Some(TokKind::Semi) if !started => {
                    let tok = self.pp.next_token()?.ok_or_else(|| self.eof_error("'}'"))?;
                    return Err(unexpected(&tok, "'}'"));
                }
                None => {
                    return Err(Diagnostic::new(
                        "syntax error, unexpected end of file: this '{' is never closed",
                        open.span,
                    ));
                }
                _ => {}
            }
            let (stmt, end) = self.statement(ctx)?;
            started = true;
            let filter = ctx == Ctx::Object(BlockContext::Filter);
            match end {
                End::Close(at) if stmt.is_some() && !filter => {
                    return Err(Diagnostic::new(
                        "syntax error, unexpected '}', expecting ';'",
                        at,
                    ));
                }
                End::Eof => {
                    return Err(Diagnostic::new(
                        "syntax error, unexpected end of file: this '{' is never closed",
                        open.span,
                    ));
                }
                _ => {}
            }
            stmts.extend(stmt);
        };
        self.depth -= 1;
        let end = close.map_or(open.span, |c| c.span);
        Ok(Node::Block {
            stmts,
            span: open.span.to(end),
        })
    }
}

fn with_context(d: Diagnostic, context: &str) -> Diagnostic {
    if d.context.is_some() {
        d
    } else {
        d.with_context(context)
    }
}
