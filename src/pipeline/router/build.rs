//! Compiling the log paths into nodes, as syslog-ng's `cfg-tree.c` does (see the parent
//! module for the shape).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::catalog::ObjectKind;
use crate::config::diagnostic::Diagnostic;
use crate::config::model::{IfChain, LogFlags, LogItem, LogPath, Model, ObjectItem, ObjectRef};

use super::super::BuildEnv;
use super::super::parser::{self, Parser};
use super::super::rewrite::{self, Rewrite};
use super::{DROP_UNMATCHED, FALLBACK, FINAL, FLOW_CONTROL, Hop, Kind, Node};

pub(super) struct Builder<'a, 'm> {
    pub(super) model: &'m Model,
    pub(super) env: &'a BuildEnv<'m>,
    pub(super) nodes: Vec<Node>,
    pub(super) source_ids: HashMap<String, u32>,
    pub(super) dest_ids: HashMap<String, u32>,
    pub(super) source_entry: HashMap<u32, u32>,
    pub(super) source_tail: HashMap<u32, u32>,
    pub(super) dest_head: HashMap<u32, Option<u32>>,
    /// The tally of each named filter a log path uses, by name (in name order).
    pub(super) filter_tallies: std::collections::BTreeMap<String, Arc<super::FilterTally>>,
    pub(super) compiled_parsers: HashMap<String, Vec<Arc<Parser>>>,
    pub(super) compiled_rewrites: HashMap<String, Vec<Arc<Rewrite>>>,
    /// Objects whose channels are being compiled (a channel that refers back to its own
    /// object is an error, not an endless recursion).
    pub(super) building: Vec<(ObjectKind, u32)>,
    pub(super) errors: Vec<Diagnostic>,
}

pub(super) type Ends = (Option<u32>, Option<u32>);

impl<'a, 'm> Builder<'a, 'm> {
    pub(super) fn push(&mut self, kind: Kind) -> u32 {
        self.nodes.push(Node {
            kind,
            next: None,
            flags: 0,
        });
        (self.nodes.len() - 1) as u32
    }

    pub(super) fn set_next(&mut self, from: u32, to: u32) {
        if let Some(n) = self.nodes.get_mut(from as usize) {
            n.next = Some(to);
        }
    }

    pub(super) fn chain_end(&self, mut n: u32) -> u32 {
        let mut guard = 0;
        while let Some(next) = self.nodes[n as usize].next {
            n = next;
            guard += 1;
            if guard > self.nodes.len() {
                break;
            }
        }
        n
    }

    pub(super) fn add_flags(&mut self, node: u32, flags: &LogFlags, extra: u8) {
        let mut f = extra;
        if flags.r#final {
            f |= FINAL;
        }
        if flags.fallback {
            f |= FALLBACK;
        }
        if flags.flow_control {
            f |= FLOW_CONTROL;
        }
        if flags.drop_unmatched {
            f |= DROP_UNMATCHED;
        }
        self.nodes[node as usize].flags |= f;
    }

    /// `cfg_tree_compile_sequence`.
    pub(super) fn sequence(&mut self, items: &[LogItem], flags: &LogFlags, extra: u8) -> Ends {
        let mut first: Option<u32> = None;
        let mut last: Option<u32> = None;
        let mut source_join: Option<u32> = None;
        let mut propagated = false;
        let mut i = 0;
        while i < items.len() {
            // A run of nested log {}/channel {} items is one junction (syslog-ng's
            // "log_last_junction").
            let (h, t) = if matches!(items[i], LogItem::Log(_) | LogItem::Channel(_)) {
                let mut branches = Vec::new();
                while let Some(LogItem::Log(p) | LogItem::Channel(p)) = items.get(i) {
                    branches.push(p);
                    i += 1;
                }
                self.junction(&branches)
            } else {
                let e = self.item(&items[i]);
                i += 1;
                e
            };
            if let Some(h) = h {
                if !propagated {
                    self.add_flags(h, flags, extra);
                    propagated = true;
                }
                if first.is_none() && last.is_none() {
                    first = Some(h);
                }
                if let Some(l) = last {
                    self.set_next(l, h);
                }
                last = Some(match t {
                    Some(t) => t,
                    None => self.chain_end(h),
                });
            } else if let Some(t) = t {
                let join = match source_join {
                    Some(j) => j,
                    None => {
                        let j = self.push(Kind::Pipe);
                        source_join = Some(j);
                        last = Some(j);
                        j
                    }
                };
                self.set_next(t, join);
            }
        }
        if first.is_none() && last.is_none() {
            let p = self.push(Kind::Pipe);
            first = Some(p);
            last = Some(p);
        }
        if !propagated {
            if let Some(l) = last {
                self.add_flags(l, flags, extra);
            }
        }
        (first, last)
    }

    /// `cfg_tree_compile_junction`.
    pub(super) fn junction(&mut self, branches: &[&LogPath]) -> Ends {
        let mut hops = Vec::new();
        let mut join = None;
        // A branch made of sources only has no head; syslog-ng refuses to mix the two kinds.
        let mut source_branch: Option<bool> = None;
        for b in branches {
            let (h, t) = self.sequence(&b.items, &b.flags, 0);
            let is_source = h.is_none() && t.is_some();
            if *source_branch.get_or_insert(is_source) != is_source {
                self.errors.push(Diagnostic::new(
                    "Error compiling junction, source and non-source branches are mixed",
                    b.span,
                ));
            }
            if let Some(h) = h {
                hops.push(Hop { node: h, flags: 0 });
            }
            if let Some(t) = t {
                let j = match join {
                    Some(j) => j,
                    None => {
                        let j = self.push(Kind::Pipe);
                        join = Some(j);
                        j
                    }
                };
                self.set_next(t, j);
            }
        }
        let head = if hops.is_empty() {
            None
        } else {
            Some(self.push(Kind::Mpx {
                hops,
                fallback: false,
            }))
        };
        (head, join)
    }

    pub(super) fn if_chain(&mut self, chain: &IfChain, from: usize) -> Ends {
        let none = LogFlags::default();
        let fin = LogFlags {
            r#final: true,
            ..LogFlags::default()
        };
        let Some(branch) = chain.branches.get(from) else {
            // The else branch (or an empty one).
            let body = match &chain.otherwise {
                Some(p) => p.items.as_slice(),
                None => &[],
            };
            return self.sequence(body, &fin, 0);
        };
        // True branch: filter(cond); log { body; flags(drop-unmatched) }; flags(final).
        let (th, tt) = {
            let extra = if branch.condition.is_some() {
                DROP_UNMATCHED
            } else {
                0
            };
            let (bh, bt) = self.sequence(&branch.body.items, &none, extra);
            match &branch.condition {
                Some(expr) => match super::super::filter::compile(expr, self.env) {
                    Ok(f) => {
                        let fnode = self.push(Kind::Filter(Arc::new(f), None));
                        self.nodes[fnode as usize].flags |= FINAL;
                        if let Some(bh) = bh {
                            self.set_next(fnode, bh);
                        }
                        (Some(fnode), bt.or(Some(fnode)))
                    }
                    Err(d) => {
                        self.errors.push(d.with_context("log"));
                        (bh, bt)
                    }
                },
                None => {
                    if let Some(bh) = bh {
                        self.nodes[bh as usize].flags |= FINAL;
                    }
                    (bh, bt)
                }
            }
        };
        // False branch: the rest of the chain, final.
        let (fh, ft) = if from + 1 < chain.branches.len() {
            let (h, t) = self.if_chain(chain, from + 1);
            let wrap = self.push(Kind::Pipe);
            self.nodes[wrap as usize].flags |= FINAL;
            if let Some(h) = h {
                self.set_next(wrap, h);
            }
            (Some(wrap), t.or(Some(wrap)))
        } else {
            self.if_chain(chain, usize::MAX)
        };
        let mut hops = Vec::new();
        let join = self.push(Kind::Pipe);
        for (h, t) in [(th, tt), (fh, ft)] {
            if let Some(h) = h {
                hops.push(Hop { node: h, flags: 0 });
            }
            if let Some(t) = t {
                self.set_next(t, join);
            }
        }
        let fork = self.push(Kind::Mpx {
            hops,
            fallback: false,
        });
        (Some(fork), Some(join))
    }

    pub(super) fn item(&mut self, item: &LogItem) -> Ends {
        match item {
            LogItem::Source(r) => self.source_ref(r),
            LogItem::Destination(r) => self.dest_ref(r),
            LogItem::Filter(r) => match self.env.compile_filter(&r.name.value) {
                Ok(Some(f)) => {
                    let tally = self
                        .filter_tallies
                        .entry(r.name.value.clone())
                        .or_default()
                        .clone();
                    let n = self.push(Kind::Filter(f, Some(tally)));
                    (Some(n), Some(n))
                }
                Ok(None) => self.undefined("filter", r),
                Err(d) => {
                    self.errors.push(d.with_context("filter"));
                    (None, None)
                }
            },
            LogItem::Parser(r) => self.parser_ref(r),
            LogItem::Rewrite(r) => self.rewrite_ref(r),
            LogItem::Log(p) | LogItem::Channel(p) => self.junction(&[p]),
            LogItem::Junction(j) => {
                let branches: Vec<&LogPath> = j.branches.iter().collect();
                self.junction(&branches)
            }
            LogItem::If(chain) => self.if_chain(chain, 0),
        }
    }

    pub(super) fn undefined(&mut self, what: &str, r: &ObjectRef) -> Ends {
        self.errors.push(Diagnostic::new(
            format!("Error resolving reference: {what} `{}`", r.name.value),
            r.span,
        ));
        (None, None)
    }

    pub(super) fn chain_nodes(&mut self, kinds: Vec<Kind>) -> Ends {
        let mut first = None;
        let mut last: Option<u32> = None;
        for k in kinds {
            let n = self.push(k);
            if let Some(l) = last {
                self.set_next(l, n);
            }
            first.get_or_insert(n);
            last = Some(n);
        }
        if first.is_none() {
            let p = self.push(Kind::Pipe);
            return (Some(p), Some(p));
        }
        (first, last)
    }

    pub(super) fn parser_ref(&mut self, r: &ObjectRef) -> Ends {
        self.processing_ref(
            r,
            ObjectKind::Parser,
            |b| &mut b.compiled_parsers,
            parser::compile,
            Kind::Parser,
        )
    }

    pub(super) fn rewrite_ref(&mut self, r: &ObjectRef) -> Ends {
        self.processing_ref(
            r,
            ObjectKind::Rewrite,
            |b| &mut b.compiled_rewrites,
            rewrite::compile,
            Kind::Rewrite,
        )
    }

    /// A reference to a parser or rewrite object: its drivers are compiled once per name
    /// (into `cache`) and chained as nodes each time the object is referenced.
    fn processing_ref<T>(
        &mut self,
        r: &ObjectRef,
        kind: ObjectKind,
        cache: fn(&mut Self) -> &mut HashMap<String, Vec<Arc<T>>>,
        compile: fn(&crate::config::ast::Node, &BuildEnv<'_>) -> Result<T, Diagnostic>,
        wrap: fn(Arc<T>) -> Kind,
    ) -> Ends {
        let name = &r.name.value;
        if !cache(self).contains_key(name) {
            let Some(obj) = self.model.object(kind, name) else {
                return self.undefined(kind.keyword(), r);
            };
            let mut list = Vec::new();
            for call in obj.drivers() {
                match compile(call, self.env) {
                    Ok(p) => list.push(Arc::new(p)),
                    Err(d) => self.errors.push(d.with_context(kind.keyword())),
                }
            }
            cache(self).insert(name.clone(), list);
        }
        let compiled: Vec<Arc<T>> = cache(self).get(name).cloned().unwrap_or_default();
        let Some(obj) = self.model.object(kind, name) else {
            return self.undefined(kind.keyword(), r);
        };
        if !obj
            .items
            .iter()
            .any(|i| matches!(i, ObjectItem::Channel(_)))
        {
            return self.chain_nodes(compiled.into_iter().map(wrap).collect());
        }
        // `parser p { kv-parser(); channel { filter {...}; parser {...}; }; };`: the body is a
        // sequence, as in syslog-ng — drivers chained in order, a run of channels one junction.
        let id = self
            .model
            .objects(kind)
            .iter()
            .rposition(|o| o.name.value == *name)
            .unwrap_or_default() as u32;
        if !self.enter(kind, id, r) {
            return (None, None);
        }
        let mut drivers = compiled.into_iter();
        let mut first: Option<u32> = None;
        let mut last: Option<u32> = None;
        let mut items = obj.items.iter().peekable();
        while let Some(item) = items.next() {
            let (h, t) = match item {
                ObjectItem::Driver(_) => match drivers.next() {
                    Some(d) => self.chain_nodes(vec![wrap(d)]),
                    // It failed to compile (an error is recorded already).
                    None => continue,
                },
                ObjectItem::Channel(p) => {
                    let mut branches = vec![p];
                    while let Some(ObjectItem::Channel(next)) = items.peek() {
                        branches.push(next);
                        items.next();
                    }
                    let (h, t) = self.junction(&branches);
                    // A junction no branch leaves drops everything: its end is a dead pipe.
                    let t = t.unwrap_or_else(|| self.push(Kind::Pipe));
                    let h = h.unwrap_or_else(|| {
                        self.push(Kind::Mpx {
                            hops: Vec::new(),
                            fallback: false,
                        })
                    });
                    (Some(h), Some(t))
                }
            };
            let (Some(h), Some(t)) = (h, t) else { continue };
            if let Some(l) = last {
                self.set_next(l, h);
            }
            first.get_or_insert(h);
            last = Some(t);
        }
        self.building.pop();
        match first {
            Some(f) => (Some(f), last),
            None => self.chain_nodes(Vec::new()),
        }
    }

    /// Starts building object `id` of `kind` for reference `r`; false (and an error) when it
    /// is already being built: it refers to itself. `self.building.pop()` ends it.
    pub(super) fn enter(&mut self, kind: ObjectKind, id: u32, r: &ObjectRef) -> bool {
        if self.building.contains(&(kind, id)) {
            self.errors.push(Diagnostic::new(
                format!("{} `{}` refers to itself", kind.keyword(), r.name.value),
                r.span,
            ));
            return false;
        }
        self.building.push((kind, id));
        true
    }

    /// `log_multiplexer_init`: a branch's final/fallback flags are those of any node along
    /// its chain.
    pub(super) fn finish(&mut self) {
        for i in 0..self.nodes.len() {
            let Kind::Mpx { hops, .. } = &self.nodes[i].kind else {
                continue;
            };
            let mut new_hops = hops.clone();
            let mut any_fallback = false;
            for h in new_hops.iter_mut() {
                let mut f = 0;
                let mut p = Some(h.node);
                let mut guard = 0;
                while let Some(n) = p {
                    f |= self.nodes[n as usize].flags & (FINAL | FALLBACK);
                    p = self.nodes[n as usize].next;
                    guard += 1;
                    if guard > self.nodes.len() {
                        break;
                    }
                }
                h.flags = f;
                any_fallback |= f & FALLBACK != 0;
            }
            self.nodes[i].kind = Kind::Mpx {
                hops: new_hops,
                fallback: any_fallback,
            };
        }
    }
}
