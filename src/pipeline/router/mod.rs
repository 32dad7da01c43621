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
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::diagnostic::Diagnostic;
use crate::config::model::{LogItem, Model, ObjectRef};
use crate::message::LogMessage;
use crate::template::{DaemonInfo, RenderContext, TemplateOptions};

mod build;
mod objects;

use super::filter::Filter;
use super::parser::Parser;
use super::rewrite::Rewrite;
use super::{BuildEnv, Cx};
use build::Builder;

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

/// One node of [`Router::export_nodes`].
#[derive(Debug, Clone)]
pub struct ExportNode {
    pub label: &'static str,
    pub pipe_next: Option<u32>,
    pub next_hops: Vec<u32>,
    pub dest: Option<DestId>,
}

/// How often a named filter of a log path matched and did not (syslog-ng's
/// `filter;NAME;;a;matched|not_matched`, counted from `stats-level(1)`).
#[derive(Debug, Default)]
pub struct FilterTally {
    pub matched: Arc<AtomicU64>,
    pub not_matched: Arc<AtomicU64>,
}

#[derive(Debug)]
enum Kind {
    Pipe,
    /// A filter; a named one (`filter(f_x)` in a log path) with its tally.
    Filter(Arc<Filter>, Option<Arc<FilterTally>>),
    Parser(Arc<Parser>),
    Rewrite(Arc<Rewrite>),
    Mpx {
        hops: Vec<Hop>,
        fallback: bool,
    },
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
    /// Whether a log path names the source (by [`SourceId`]) or destination (by
    /// [`DestId`]): syslog-ng starts only those.
    used_sources: Vec<bool>,
    used_dests: Vec<bool>,
    /// The named filters of the log paths, each with its tally, and whether to count
    /// (`stats-level()` 1 or more).
    filters: Vec<(String, Arc<FilterTally>)>,
    count_filters: bool,
    sources: Vec<String>,
    dests: Vec<String>,
    options: TemplateOptions,
    daemon: Arc<DaemonInfo>,
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
            filter_tallies: Default::default(),
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
        let used_sources = (0..sources.len() as u32)
            .map(|id| b.source_entry.contains_key(&id))
            .collect();
        let used_dests = (0..dests.len() as u32)
            .map(|id| b.dest_head.contains_key(&id))
            .collect();
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
            used_sources,
            used_dests,
            filters: b.filter_tallies.into_iter().collect(),
            count_filters: false,
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

    /// The compiled graph as syslog-ng's `export-config-graph` shows it: each node's kind,
    /// the node after it (`pipe_next`) and the nodes it forks to (`next_hop`), and which
    /// destination a destination node hands to.
    pub fn export_nodes(&self) -> Vec<ExportNode> {
        self.nodes
            .iter()
            .map(|n| {
                let (label, hops, dest) = match &n.kind {
                    Kind::Pipe => ("cfg_tree_pipe", Vec::new(), None),
                    Kind::Filter(..) => ("filter", Vec::new(), None),
                    Kind::Parser(_) => ("parser", Vec::new(), None),
                    Kind::Rewrite(_) => ("rewrite", Vec::new(), None),
                    Kind::Mpx { hops, .. } => {
                        ("multiplexer", hops.iter().map(|h| h.node).collect(), None)
                    }
                    Kind::Dest(d) => ("destination-reference", Vec::new(), Some(*d)),
                };
                ExportNode {
                    label,
                    pipe_next: n.next,
                    next_hops: hops,
                    dest,
                }
            })
            .collect()
    }

    /// The first node of a source object's paths.
    pub fn entry(&self, source: SourceId) -> Option<u32> {
        self.entries.get(source.0 as usize).copied()
    }

    /// Counts the named filters' matches from now on (`stats-level()` 1 or more).
    pub fn count_filters(&mut self, on: bool) {
        self.count_filters = on;
    }

    /// The named filters of the log paths and their tallies.
    pub fn filter_tallies(&self) -> &[(String, Arc<FilterTally>)] {
        &self.filters
    }

    /// Whether a log path uses the source (syslog-ng does not start one no path uses).
    pub fn source_is_used(&self, id: SourceId) -> bool {
        self.used_sources
            .get(id.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Whether a log path uses the destination.
    pub fn dest_is_used(&self, id: DestId) -> bool {
        self.used_dests.get(id.0 as usize).copied().unwrap_or(false)
    }

    /// Every source object name, indexed by [`SourceId`].
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Every destination object name, indexed by [`DestId`].
    pub fn destinations(&self) -> &[String] {
        &self.dests
    }

    /// The destination objects a message from `source` can reach, whatever the filters
    /// decide (the edges of `sluice-ctl graph`), in the order they are declared.
    pub fn reachable(&self, source: SourceId) -> Vec<DestId> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut todo: Vec<u32> = self
            .entries
            .get(source.0 as usize)
            .copied()
            .into_iter()
            .collect();
        while let Some(n) = todo.pop() {
            let Some(node) = self.nodes.get(n as usize) else {
                continue;
            };
            if std::mem::replace(&mut seen[n as usize], true) {
                continue;
            }
            match &node.kind {
                Kind::Mpx { hops, .. } => todo.extend(hops.iter().rev().map(|h| h.node)),
                Kind::Dest(d) if !out.contains(d) => out.push(*d),
                _ => {}
            }
            todo.extend(node.next);
        }
        out.sort_by_key(|d| d.0);
        out
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
            Kind::Filter(f, tally) => {
                let ok = f.eval(&mut msg, cx);
                if let Some(t) = tally.as_ref().filter(|_| self.count_filters) {
                    let c = if ok { &t.matched } else { &t.not_matched };
                    c.fetch_add(1, Ordering::Relaxed);
                }
                if ok {
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
