//! Log-path routing: the configuration's `log {}` statements compiled into a graph of nodes
//! the way syslog-ng's `cfg-tree.c` builds its pipes, and walked per message the way its
//! `LogMultiplexer` walks them.
//!
//! The shape, which decides every corner case the same way syslog-ng does:
//!
//! * a source object ends in a **multiplexer** whose branches are the log paths that refer
//!   to it, in configuration order (a `flags(catchall)` path refers to every named source);
//! * a path is a **sequence** of nodes linked by `next`: filters, parsers, rewrites, and for
//!   each destination reference a multiplexer that forks the message to the destination and
//!   goes on with the rest of the path (so `destination(a); filter(f); destination(b);` is
//!   valid and `b` sees only what `f` lets through);
//! * `log {}`/`channel {}` branches at the end of a path, and `junction {}`, are a fork whose
//!   branches all continue into what follows the junction;
//! * `if (c) {A} elif (d) {B} else {C}` is syslog-ng's rewriting of it: a junction of
//!   `{ filter(c); log { A; flags(drop-unmatched) }; flags(final) }` and the rest.
//!
//! A node that drops a message (a filter that does not match, a parser that fails) marks the
//! branch **unmatched**. A multiplexer counts a branch as delivered when it stayed matched;
//! `flags(final)` on a delivered branch stops the later branches, `flags(fallback)` branches
//! run only when no other branch was delivered, and a multiplexer at the end of a branch with
//! no delivered branch makes that branch unmatched too. `flags(drop-unmatched)` turns
//! unmatched back into matched for what encloses it. `final`/`fallback` belong to a branch
//! when any node along its chain carries them (syslog-ng ORs them in at start-up).
//!
//! Messages travel as `Arc<LogMessage>`: a fork hands each branch a clone of the `Arc`, and a
//! node that modifies the message calls `Arc::make_mut`, so one branch's rewrites are never
//! seen by another, while nodes later on the same branch (and after a junction) see them.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::catalog::ObjectKind;
use crate::config::diagnostic::Diagnostic;
use crate::config::model::{IfChain, LogFlags, LogItem, LogPath, Model, ObjectItem, ObjectRef};
use crate::message::LogMessage;
use crate::template::{DaemonInfo, RenderContext, TemplateOptions};

use super::filter::Filter;
use super::parser::{self, Parser};
use super::rewrite::{self, Rewrite};
use super::{BuildEnv, Cx};

/// A source object of the configuration (messages enter here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceId(pub u32);

/// A destination object of the configuration (messages leave here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DestId(pub u32);

/// One delivery of a message to a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub dest: DestId,
    /// The path asked for `flags(flow-control)` (somewhere upstream of this destination):
    /// the destination acknowledges only once it has written the message, and a full queue
    /// holds the source back instead of dropping.
    pub flow_control: bool,
}

const FINAL: u8 = 1;
const FALLBACK: u8 = 2;
const DROP_UNMATCHED: u8 = 4;
const FLOW_CONTROL: u8 = 8;

#[derive(Debug, Clone, Copy)]
struct Hop {
    node: u32,
    flags: u8,
}

#[derive(Debug)]
enum Kind {
    Pipe,
    Filter(Arc<Filter>),
    Parser(Arc<Parser>),
    Rewrite(Arc<Rewrite>),
    Mpx { hops: Vec<Hop>, fallback: bool },
    Dest(DestId),
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    next: Option<u32>,
    flags: u8,
}

/// Where a walk through the graph is: how deep (a guard) and whether an enclosing path asked
/// for flow control.
#[derive(Debug, Clone, Copy, Default)]
struct At {
    depth: u32,
    fc: bool,
}

impl At {
    fn down(self) -> At {
        At {
            depth: self.depth + 1,
            ..self
        }
    }
}

/// The compiled log paths of a configuration.
#[derive(Debug)]
pub struct Router {
    nodes: Vec<Node>,
    /// Entry node of each source object (by [`SourceId`]).
    entries: Vec<u32>,
    sources: Vec<String>,
    dests: Vec<String>,
    options: TemplateOptions,
    daemon: Arc<DaemonInfo>,
}

struct Builder<'a, 'm> {
    model: &'m Model,
    env: &'a BuildEnv<'m>,
    nodes: Vec<Node>,
    source_ids: HashMap<String, u32>,
    dest_ids: HashMap<String, u32>,
    source_entry: HashMap<u32, u32>,
    source_tail: HashMap<u32, u32>,
    dest_head: HashMap<u32, Option<u32>>,
    compiled_parsers: HashMap<String, Vec<Arc<Parser>>>,
    compiled_rewrites: HashMap<String, Vec<Arc<Rewrite>>>,
    /// Objects whose channels are being compiled (a channel that refers back to its own
    /// object is an error, not an endless recursion).
    building: Vec<(ObjectKind, u32)>,
    errors: Vec<Diagnostic>,
}

type Ends = (Option<u32>, Option<u32>);

impl<'a, 'm> Builder<'a, 'm> {
    fn push(&mut self, kind: Kind) -> u32 {
        self.nodes.push(Node {
            kind,
            next: None,
            flags: 0,
        });
        (self.nodes.len() - 1) as u32
    }

    fn set_next(&mut self, from: u32, to: u32) {
        if let Some(n) = self.nodes.get_mut(from as usize) {
            n.next = Some(to);
        }
    }

    fn chain_end(&self, mut n: u32) -> u32 {
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

    fn add_flags(&mut self, node: u32, flags: &LogFlags, extra: u8) {
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
    fn sequence(&mut self, items: &[LogItem], flags: &LogFlags, extra: u8) -> Ends {
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
    fn junction(&mut self, branches: &[&LogPath]) -> Ends {
        let mut hops = Vec::new();
        let mut join = None;
        for b in branches {
            let (h, t) = self.sequence(&b.items, &b.flags, 0);
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

    fn if_chain(&mut self, chain: &IfChain, from: usize) -> Ends {
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
                Some(expr) => match super::filter::compile(expr, self.env) {
                    Ok(f) => {
                        let fnode = self.push(Kind::Filter(Arc::new(f)));
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

    fn item(&mut self, item: &LogItem) -> Ends {
        match item {
            LogItem::Source(r) => self.source_ref(r),
            LogItem::Destination(r) => self.dest_ref(r),
            LogItem::Filter(r) => match self.env.compile_filter(&r.name.value) {
                Ok(Some(f)) => {
                    let n = self.push(Kind::Filter(f));
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

    fn undefined(&mut self, what: &str, r: &ObjectRef) -> Ends {
        self.errors.push(Diagnostic::new(
            format!("Error resolving reference: {what} `{}`", r.name.value),
            r.span,
        ));
        (None, None)
    }

    fn chain_nodes(&mut self, kinds: Vec<Kind>) -> Ends {
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

    fn parser_ref(&mut self, r: &ObjectRef) -> Ends {
        let name = &r.name.value;
        if !self.compiled_parsers.contains_key(name) {
            let Some(obj) = self.model.object(ObjectKind::Parser, name) else {
                return self.undefined("parser", r);
            };
            let mut list = Vec::new();
            for call in obj.drivers() {
                match parser::compile(call, self.env) {
                    Ok(p) => list.push(Arc::new(p)),
                    Err(d) => self.errors.push(d.with_context("parser")),
                }
            }
            self.compiled_parsers.insert(name.clone(), list);
        }
        let kinds = self.compiled_parsers[name]
            .iter()
            .map(|p| Kind::Parser(p.clone()))
            .collect();
        self.chain_nodes(kinds)
    }

    fn rewrite_ref(&mut self, r: &ObjectRef) -> Ends {
        let name = &r.name.value;
        if !self.compiled_rewrites.contains_key(name) {
            let Some(obj) = self.model.object(ObjectKind::Rewrite, name) else {
                return self.undefined("rewrite", r);
            };
            let mut list = Vec::new();
            for call in obj.drivers() {
                match rewrite::compile(call, self.env) {
                    Ok(p) => list.push(Arc::new(p)),
                    Err(d) => self.errors.push(d.with_context("rewrite")),
                }
            }
            self.compiled_rewrites.insert(name.clone(), list);
        }
        let kinds = self.compiled_rewrites[name]
            .iter()
            .map(|p| Kind::Rewrite(p.clone()))
            .collect();
        self.chain_nodes(kinds)
    }

    /// `cfg_tree_compile_reference` for a source: attach a new pipe to the source's
    /// multiplexer.
    fn source_ref(&mut self, r: &ObjectRef) -> Ends {
        let Some(&id) = self.source_ids.get(&r.name.value) else {
            return self.undefined("source", r);
        };
        let tail = match self.source_tail.get(&id) {
            Some(t) => *t,
            None => {
                if self.building.contains(&(ObjectKind::Source, id)) {
                    self.errors.push(Diagnostic::new(
                        format!("source `{}` refers to itself", r.name.value),
                        r.span,
                    ));
                    return (None, None);
                }
                self.building.push((ObjectKind::Source, id));
                let entry = self.push(Kind::Pipe);
                self.source_entry.insert(id, entry);
                let channels: Vec<LogPath> = self
                    .model
                    .object(ObjectKind::Source, &r.name.value)
                    .map(|o| {
                        o.items
                            .iter()
                            .filter_map(|i| match i {
                                ObjectItem::Channel(p) => Some(p.clone()),
                                ObjectItem::Driver(_) => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let tail = if channels.is_empty() {
                    entry
                } else {
                    let join = self.push(Kind::Pipe);
                    self.set_next(entry, join);
                    for c in &channels {
                        let (_, t) = self.sequence(&c.items, &c.flags, 0);
                        if let Some(t) = t {
                            self.set_next(t, join);
                        }
                    }
                    join
                };
                self.building.pop();
                self.source_tail.insert(id, tail);
                tail
            }
        };
        let mpx = match self.nodes[tail as usize].next {
            Some(m) if matches!(self.nodes[m as usize].kind, Kind::Mpx { .. }) => m,
            _ => {
                let m = self.push(Kind::Mpx {
                    hops: Vec::new(),
                    fallback: false,
                });
                self.set_next(tail, m);
                m
            }
        };
        let attach = self.push(Kind::Pipe);
        if let Kind::Mpx { hops, .. } = &mut self.nodes[mpx as usize].kind {
            hops.push(Hop {
                node: attach,
                flags: 0,
            });
        }
        (None, Some(attach))
    }

    /// A destination reference: a multiplexer forking to the destination, continuing on.
    fn dest_ref(&mut self, r: &ObjectRef) -> Ends {
        let Some(&id) = self.dest_ids.get(&r.name.value) else {
            return self.undefined("destination", r);
        };
        let head = match self.dest_head.get(&id) {
            Some(h) => *h,
            None => {
                if self.building.contains(&(ObjectKind::Destination, id)) {
                    self.errors.push(Diagnostic::new(
                        format!("destination `{}` refers to itself", r.name.value),
                        r.span,
                    ));
                    return (None, None);
                }
                self.building.push((ObjectKind::Destination, id));
                let mut hops = Vec::new();
                let obj = self.model.object(ObjectKind::Destination, &r.name.value);
                let has_drivers = obj.is_some_and(|o| o.drivers().next().is_some());
                if has_drivers {
                    let d = self.push(Kind::Dest(DestId(id)));
                    hops.push(Hop { node: d, flags: 0 });
                }
                let channels: Vec<LogPath> = obj
                    .map(|o| {
                        o.items
                            .iter()
                            .filter_map(|i| match i {
                                ObjectItem::Channel(p) => Some(p.clone()),
                                ObjectItem::Driver(_) => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for c in &channels {
                    if let (Some(h), _) = self.sequence(&c.items, &c.flags, 0) {
                        hops.push(Hop { node: h, flags: 0 });
                    }
                }
                let head = match hops.as_slice() {
                    [] => None,
                    [one] if channels.is_empty() => Some(one.node),
                    _ => Some(self.push(Kind::Mpx {
                        hops,
                        fallback: false,
                    })),
                };
                self.building.pop();
                self.dest_head.insert(id, head);
                head
            }
        };
        let hops = head
            .map(|h| vec![Hop { node: h, flags: 0 }])
            .unwrap_or_default();
        let m = self.push(Kind::Mpx {
            hops,
            fallback: false,
        });
        (Some(m), None)
    }

    /// `log_multiplexer_init`: a branch's final/fallback flags are those of any node along
    /// its chain.
    fn finish(&mut self) {
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

impl Router {
    /// Compiles the log paths of `model`. Every problem found is returned.
    pub fn build(model: &Model, env: &BuildEnv<'_>) -> Result<Router, Vec<Diagnostic>> {
        let mut sources: Vec<String> = Vec::new();
        let mut source_ids = HashMap::new();
        for o in &model.sources {
            if !source_ids.contains_key(&o.name.value) {
                source_ids.insert(o.name.value.clone(), sources.len() as u32);
                sources.push(o.name.value.clone());
            }
        }
        let mut dests: Vec<String> = Vec::new();
        let mut dest_ids = HashMap::new();
        for o in &model.destinations {
            if !dest_ids.contains_key(&o.name.value) {
                dest_ids.insert(o.name.value.clone(), dests.len() as u32);
                dests.push(o.name.value.clone());
            }
        }
        let mut b = Builder {
            model,
            env,
            nodes: Vec::new(),
            source_ids,
            dest_ids,
            source_entry: HashMap::new(),
            source_tail: HashMap::new(),
            dest_head: HashMap::new(),
            compiled_parsers: HashMap::new(),
            compiled_rewrites: HashMap::new(),
            building: Vec::new(),
            errors: Vec::new(),
        };
        for path in &model.log_paths {
            if path.flags.catchall {
                let mut items: Vec<LogItem> = model
                    .sources
                    .iter()
                    .filter(|o| !o.inline)
                    .map(|o| {
                        LogItem::Source(ObjectRef {
                            name: o.name.clone(),
                            span: path.span,
                            inline: false,
                        })
                    })
                    .collect();
                items.extend(path.items.iter().cloned());
                b.sequence(&items, &path.flags, 0);
            } else {
                b.sequence(&path.items, &path.flags, 0);
            }
        }
        if !b.errors.is_empty() {
            return Err(b.errors);
        }
        b.finish();
        let entries = (0..sources.len() as u32)
            .map(|id| match b.source_entry.get(&id) {
                Some(e) => *e,
                None => {
                    b.nodes.push(Node {
                        kind: Kind::Pipe,
                        next: None,
                        flags: 0,
                    });
                    (b.nodes.len() - 1) as u32
                }
            })
            .collect();
        Ok(Router {
            nodes: b.nodes,
            entries,
            sources,
            dests,
            options: TemplateOptions::default(),
            daemon: crate::template::options::default_daemon_info(),
        })
    }

    /// Sets the template options and daemon facts the templates of filters and rewrites are
    /// rendered with (the global `options {}`).
    pub fn set_render_options(&mut self, options: TemplateOptions, daemon: Arc<DaemonInfo>) {
        self.options = options;
        self.daemon = daemon;
    }

    /// The id of a source object by name.
    pub fn source_id(&self, name: &str) -> Option<SourceId> {
        self.sources
            .iter()
            .position(|s| s == name)
            .map(|i| SourceId(i as u32))
    }

    /// The id of a destination object by name.
    pub fn dest_id(&self, name: &str) -> Option<DestId> {
        self.dests
            .iter()
            .position(|s| s == name)
            .map(|i| DestId(i as u32))
    }

    /// Every source object name, indexed by [`SourceId`].
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Every destination object name, indexed by [`DestId`].
    pub fn destinations(&self) -> &[String] {
        &self.dests
    }

    /// Runs `msg` from `source` through every log path; `out` gets each delivery (a
    /// destination may get the same message more than once, as in syslog-ng when two paths or
    /// two junction branches lead to it). Returns
    /// whether any path matched (syslog-ng's "matched" at the source).
    pub fn route(
        &self,
        source: SourceId,
        msg: Arc<LogMessage>,
        out: &mut impl FnMut(Delivery, Arc<LogMessage>),
    ) -> bool {
        let mut cx = Cx::new(RenderContext::new(&self.options, &self.daemon));
        self.route_with(&mut cx, source, msg, out)
    }

    /// [`Router::route`] with a caller-kept context (reuses its scratch buffers; use one per
    /// batch).
    pub fn route_with(
        &self,
        cx: &mut Cx<'_>,
        source: SourceId,
        msg: Arc<LogMessage>,
        out: &mut impl FnMut(Delivery, Arc<LogMessage>),
    ) -> bool {
        let Some(&entry) = self.entries.get(source.0 as usize) else {
            return false;
        };
        let mut matched = true;
        self.queue(entry, msg, &mut matched, cx, out, At::default());
        matched
    }

    /// A context for [`Router::route_with`].
    pub fn context(&self) -> Cx<'_> {
        Cx::new(RenderContext::new(&self.options, &self.daemon))
    }

    fn forward(
        &self,
        next: Option<u32>,
        msg: Arc<LogMessage>,
        matched: &mut bool,
        cx: &mut Cx<'_>,
        out: &mut impl FnMut(Delivery, Arc<LogMessage>),
        at: At,
    ) {
        if let Some(n) = next {
            self.queue(n, msg, matched, cx, out, at.down());
        }
    }

    fn queue(
        &self,
        id: u32,
        mut msg: Arc<LogMessage>,
        matched: &mut bool,
        cx: &mut Cx<'_>,
        out: &mut impl FnMut(Delivery, Arc<LogMessage>),
        at: At,
    ) {
        // The graph is acyclic and as deep as the configuration nests; the guard only
        // protects against a bug turning into a stack overflow.
        if at.depth > 10_000 {
            return;
        }
        let Some(node) = self.nodes.get(id as usize) else {
            return;
        };
        // flags(flow-control) holds for everything downstream of the path's first node.
        let at = At {
            fc: at.fc || node.flags & FLOW_CONTROL != 0,
            ..at
        };
        match &node.kind {
            Kind::Pipe => self.forward(node.next, msg, matched, cx, out, at),
            Kind::Filter(f) => {
                if f.eval(&mut msg, cx) {
                    self.forward(node.next, msg, matched, cx, out, at);
                } else {
                    *matched = false;
                }
            }
            Kind::Parser(p) => {
                if p.process(&mut msg, cx) {
                    self.forward(node.next, msg, matched, cx, out, at);
                } else {
                    *matched = false;
                }
            }
            Kind::Rewrite(r) => {
                r.apply(&mut msg, cx);
                self.forward(node.next, msg, matched, cx, out, at);
            }
            Kind::Dest(d) => out(
                Delivery {
                    dest: *d,
                    flow_control: at.fc,
                },
                msg,
            ),
            Kind::Mpx { hops, fallback } => {
                let mut delivered = false;
                for pass in 0..2 {
                    // The fallback pass runs only when fallback branches exist and nothing else
                    // was delivered.
                    if pass == 1 && (delivered || !*fallback) {
                        break;
                    }
                    for h in hops {
                        let is_fallback = h.flags & FALLBACK != 0;
                        if (pass == 0) == is_fallback {
                            continue;
                        }
                        let mut m = true;
                        self.queue(h.node, msg.clone(), &mut m, cx, out, at.down());
                        if m {
                            delivered = true;
                            if h.flags & FINAL != 0 {
                                break;
                            }
                        }
                    }
                }
                if node.next.is_none() && !delivered {
                    *matched = false;
                }
                self.forward(node.next, msg, matched, cx, out, at);
            }
        }
        if node.flags & DROP_UNMATCHED != 0 && !*matched {
            *matched = true;
        }
    }
}
