//! The syntax read verbatim or spliced: `python { ... };` blocks, `block` definitions, and
//! block references, which are expanded into the token stream where they appear.

use crate::config::ast::PythonBlock;
use crate::config::blocks::{self, Arg, BlockContext, BlockDef, Param};
use crate::config::diagnostic::Diagnostic;
use crate::config::generators::Generator;
use crate::config::lexer::TokKind;
use crate::config::preprocess::subst::SegMap;
use crate::config::preprocess::{MAX_EXPANSION_DEPTH, Token};
use crate::config::span::{Span, Spanned};

use super::{Parser, unexpected};

impl Parser<'_, '_> {
    /// `python { code };`: the code is kept verbatim.
    pub(super) fn python_block(&mut self, keyword: &Token) -> Result<(), Diagnostic> {
        let open = self.expect(TokKind::LBrace, "'{'")?;
        let code = self.pp.capture(&open, true)?;
        self.python.push(PythonBlock {
            code: code.text,
            span: code.span,
        });
        let _ = keyword;
        self.expect(TokKind::Semi, "';'")?;
        Ok(())
    }

    /// `block <context> <name>(<params>) { <body> };`
    pub(super) fn block_definition(&mut self, keyword: &Token) -> Result<(), Diagnostic> {
        let ctx_tok = self
            .pp
            .next_token()?
            .ok_or_else(|| self.eof_error("a block context"))?;
        let TokKind::Word(ctx_word) = &ctx_tok.kind else {
            return Err(unexpected(&ctx_tok, "a block context"));
        };
        let context = BlockContext::from_word(ctx_word).ok_or_else(|| {
            Diagnostic::new(format!("unknown context \"{ctx_word}\""), ctx_tok.span).with_note(
                "a block's context is one of root, source, destination, parser, rewrite, filter, log, options",
            )
        })?;
        let name_tok = self
            .pp
            .next_token()?
            .ok_or_else(|| self.eof_error("a block name"))?;
        let TokKind::Word(name) = &name_tok.kind else {
            return Err(unexpected(&name_tok, "a block name"));
        };
        let name = Spanned::new(name.clone(), name_tok.span);
        self.expect(TokKind::LParen, "'('")?;
        let mut params = Vec::new();
        let mut varargs = false;
        loop {
            let tok = self.pp.next_token()?.ok_or_else(|| self.eof_error("')'"))?;
            match &tok.kind {
                TokKind::RParen => break,
                TokKind::Ellipsis => varargs = true,
                TokKind::Word(param) => {
                    let param = Spanned::new(param.clone(), tok.span);
                    let open = match self.pp.next_token()? {
                        Some(t) if t.kind == TokKind::LParen => t,
                        Some(t) => {
                            return Err(unexpected(&t, "'('").with_note(format!(
                                "a block parameter needs parentheses: `{0}(default)`, or `{0}()` if it is mandatory",
                                param.value
                            )));
                        }
                        None => return Err(self.eof_error("'('")),
                    };
                    let raw = self.pp.capture(&open, false)?;
                    params.push(Param {
                        name: param,
                        default: blocks::arg_value(&raw.text),
                    });
                }
                _ => return Err(unexpected(&tok, "a parameter name, '...' or ')'")),
            }
        }
        let open = self.expect(TokKind::LBrace, "'{'")?;
        let body = self.pp.capture(&open, false)?;
        self.expect(TokKind::Semi, "';'")?;
        let _ = keyword;
        self.blocks.define(BlockDef {
            context,
            name,
            params,
            varargs,
            body: body.text,
            body_map: body.map,
            file: body.span.file,
            dir: self.pp.current_dir(),
        });
        Ok(())
    }

    /// Expands a reference to `def` whose name is `name_tok` (its `(` is next).
    pub(super) fn expand(&mut self, name_tok: &Token, def: &BlockDef) -> Result<(), Diagnostic> {
        let (args, close) = self.reference_args(&def.name.value)?;
        let call_site = name_tok.span.to(close.span);
        self.check_depth(&def.name.value, call_site)?;
        let pp = &*self.pp;
        let globals = |n: &str| pp.lookup_global(n);
        let (text, map) = blocks::instantiate(def, &args, call_site, &globals)?;
        let expansion = self.pp.map.add_expansion(def.name.value.clone(), call_site);
        self.pp
            .push_expansion(def.file, def.dir.clone(), text, map, expansion, call_site)
    }

    /// A generator reference (`system()`, `app-parser(...)`, a confgen module's name): its
    /// text is read next, as a file of its own named after the reference (where errors in
    /// it point), expanded from the reference.
    pub(super) fn generate(
        &mut self,
        name_tok: &Token,
        name: &str,
        generator: &Generator,
    ) -> Result<(), Diagnostic> {
        let (args, close) = self.reference_args(name)?;
        let call_site = name_tok.span.to(close.span);
        self.check_depth(name, call_site)?;
        let text = generator.generate(name, &args, &self.applications, call_site)?;
        let len = text.len();
        let file = self
            .pp
            .map
            .add_file(format!("{name}() generated"), text.clone());
        let expansion = self.pp.map.add_expansion(name.to_string(), call_site);
        let dir = self.pp.current_dir();
        self.pp.push_expansion(
            file,
            dir,
            text,
            SegMap::identity(0, len),
            expansion,
            call_site,
        )
    }

    fn check_depth(&self, name: &str, call_site: Span) -> Result<(), Diagnostic> {
        if self.pp.expansion_depth() >= MAX_EXPANSION_DEPTH {
            return Err(Diagnostic::new(
                format!(
                    "block expansions nested too deeply (more than {MAX_EXPANSION_DEPTH} levels): does block `{name}` reference itself?"
                ),
                call_site,
            ));
        }
        Ok(())
    }

    /// The `name(value) ...` arguments of a reference, up to its `)` (returned).
    fn reference_args(&mut self, block: &str) -> Result<(Vec<Arg>, Token), Diagnostic> {
        self.expect(TokKind::LParen, "'('")?;
        let mut args = Vec::new();
        let close = loop {
            let tok = self.pp.next_token()?.ok_or_else(|| self.eof_error("')'"))?;
            match &tok.kind {
                TokKind::RParen => break tok,
                TokKind::Word(arg) => {
                    let name = Spanned::new(arg.clone(), tok.span);
                    let open = match self.pp.next_token()? {
                        Some(t) if t.kind == TokKind::LParen => t,
                        Some(t) => return Err(unexpected(&t, "'('")),
                        None => return Err(self.eof_error("'('")),
                    };
                    let raw = self.pp.capture(&open, false)?;
                    let span = tok.span.to(raw.span);
                    args.push(Arg {
                        name,
                        value: blocks::arg_value(&raw.text),
                        span,
                    });
                }
                _ => {
                    return Err(unexpected(&tok, "')'").with_note(format!(
                        "arguments of block `{block}` are written `name(value)`"
                    )));
                }
            }
        };
        Ok((args, close))
    }
}
