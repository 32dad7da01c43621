//! Compiling references to source and destination objects: a source's body (its drivers and
//! channels) feeding a multiplexer each reference attaches to, a destination's drivers and
//! channels behind one.

use crate::config::catalog::ObjectKind;
use crate::config::diagnostic::Diagnostic;
use crate::config::model::{LogPath, ObjectItem, ObjectRef};

use super::build::{Builder, Ends};
use super::{DestId, Hop, Kind};

impl Builder<'_, '_> {
    /// `cfg_tree_compile_reference` for a source: attach a new pipe to the source's
    /// multiplexer.
    pub(super) fn source_ref(&mut self, r: &ObjectRef) -> Ends {
        let Some(&id) = self.source_ids.get(&r.name.value) else {
            return self.undefined("source", r);
        };
        let tail = match self.source_tail.get(&id) {
            Some(t) => *t,
            None => {
                if !self.enter(ObjectKind::Source, id, r) {
                    return (None, None);
                }
                let entry = self.push(Kind::Pipe);
                self.source_entry.insert(id, entry);
                let tail = self.source_body(&r.name.value, entry);
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

    /// The body of a source object as syslog-ng compiles it: a junction whose branches are its
    /// drivers (which feed `entry`) and its channels, each of which must hold sources
    /// (`channel { source {...}; rewrite {...}; }`); a channel without sources beside them is
    /// syslog-ng's "source and non-source branches are mixed". Returns the tail everything
    /// leaves by.
    fn source_body(&mut self, name: &str, entry: u32) -> u32 {
        let Some(obj) = self.model.object(ObjectKind::Source, name) else {
            return entry;
        };
        let channels: Vec<LogPath> = obj
            .items
            .iter()
            .filter_map(|i| match i {
                ObjectItem::Channel(p) => Some(p.clone()),
                ObjectItem::Driver(_) => None,
            })
            .collect();
        if channels.is_empty() {
            return entry;
        }
        let join = self.push(Kind::Pipe);
        self.set_next(entry, join);
        for c in &channels {
            match self.sequence(&c.items, &c.flags, 0) {
                (None, Some(t)) => self.set_next(t, join),
                _ => self.errors.push(Diagnostic::new(
                    "Error compiling junction, source and non-source branches are mixed",
                    c.span,
                )),
            }
        }
        join
    }

    /// A destination reference: a multiplexer forking to the destination, continuing on.
    pub(super) fn dest_ref(&mut self, r: &ObjectRef) -> Ends {
        let Some(&id) = self.dest_ids.get(&r.name.value) else {
            return self.undefined("destination", r);
        };
        let head = match self.dest_head.get(&id) {
            Some(h) => *h,
            None => {
                if !self.enter(ObjectKind::Destination, id, r) {
                    return (None, None);
                }
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
}
