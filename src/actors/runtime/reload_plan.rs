//! What a reload will do to each component, decided by syslog-ng's rule — components are
//! matched by persist name, not by position — and printed by `sluice-ctl reload --check`.

use std::collections::HashMap;
use std::fmt;

use super::graph::Graph;
use super::plan::Plan;

/// What happens to one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Same persist name, same plan: it goes on running untouched (a destination; a source
    /// but a listener with `keep-alive(no)`, whose connections a reload closes).
    Kept,
    /// Same persist name, new plan: the new component takes the old one's state (listening
    /// socket and connections, file position, queue, kept program or connection).
    HandedOver,
    /// Same driver id (`OBJECT#INDEX`), another persist name: the old one is removed (a
    /// destination drains in the background), the new one starts fresh.
    Replaced,
    /// New in this configuration.
    Added,
    /// Not in this configuration any more.
    Removed,
}

impl Fate {
    fn word(self) -> &'static str {
        match self {
            Fate::Kept => "kept",
            Fate::HandedOver => "handed over",
            Fate::Replaced => "replaced",
            Fate::Added => "added",
            Fate::Removed => "removed",
        }
    }
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `source` or `destination`.
    pub kind: &'static str,
    pub driver_id: String,
    pub persist_name: String,
    pub fate: Fate,
    /// For [`Fate::Replaced`]: the persist name it replaces.
    pub was: Option<String>,
}

/// What a reload from one graph to a plan does, component by component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    pub changes: Vec<Change>,
}

/// The identity of a component as the matching sees it.
struct Side<'a> {
    driver_id: &'a str,
    persist_name: &'a str,
    /// `None` when it cannot go on running (a stopped destination, a `keep-alive(no)`
    /// listener).
    fingerprint: Option<u64>,
}

impl ReloadPlan {
    /// Compares the running graph (none at first start) with the next plan.
    pub fn compare(old: Option<&Graph>, new: &Plan) -> ReloadPlan {
        let mut changes = Vec::new();
        let old_sources: Vec<Side<'_>> = old
            .map(|g| {
                g.sources()
                    .map(|s| Side {
                        driver_id: &s.driver_id,
                        persist_name: &s.persist_name,
                        fingerprint: s.fingerprint,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let new_sources: Vec<Side<'_>> = new
            .sources
            .iter()
            .map(|s| Side {
                driver_id: &s.driver_id,
                persist_name: &s.persist_name,
                fingerprint: s.keep_key(),
            })
            .collect();
        diff("source", &old_sources, &new_sources, &mut changes);
        let old_dests: Vec<Side<'_>> = old
            .map(|g| {
                g.dests()
                    .iter()
                    .map(|d| Side {
                        driver_id: &d.driver_id,
                        persist_name: &d.persist_name,
                        fingerprint: d.is_running().then_some(d.fingerprint),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let new_dests: Vec<Side<'_>> = new
            .dests
            .iter()
            .map(|d| Side {
                driver_id: &d.driver_id,
                persist_name: &d.persist_name,
                fingerprint: Some(d.fingerprint),
            })
            .collect();
        diff("destination", &old_dests, &new_dests, &mut changes);
        ReloadPlan { changes }
    }

    /// How many components meet `fate`.
    pub fn count(&self, fate: Fate) -> usize {
        self.changes.iter().filter(|c| c.fate == fate).count()
    }

    /// One line for the log: `kept=2 handed-over=1 replaced=0 added=1 removed=0`.
    pub fn summary(&self) -> String {
        format!(
            "kept={} handed-over={} replaced={} added={} removed={}",
            self.count(Fate::Kept),
            self.count(Fate::HandedOver),
            self.count(Fate::Replaced),
            self.count(Fate::Added),
            self.count(Fate::Removed)
        )
    }
}

fn diff(kind: &'static str, old: &[Side<'_>], new: &[Side<'_>], out: &mut Vec<Change>) {
    let old_by_name: HashMap<&str, &Side<'_>> = old.iter().map(|s| (s.persist_name, s)).collect();
    let new_names: HashMap<&str, ()> = new.iter().map(|s| (s.persist_name, ())).collect();
    let mut replaced_old: Vec<&str> = Vec::new();
    for n in new {
        let change = |fate, was: Option<&str>| Change {
            kind,
            driver_id: n.driver_id.to_string(),
            persist_name: n.persist_name.to_string(),
            fate,
            was: was.map(str::to_string),
        };
        match old_by_name.get(n.persist_name) {
            Some(o) if o.fingerprint.is_some() && o.fingerprint == n.fingerprint => {
                out.push(change(Fate::Kept, None));
            }
            Some(_) => out.push(change(Fate::HandedOver, None)),
            None => {
                // The same driver slot under another name: it replaces that one.
                let slot = old.iter().find(|o| {
                    o.driver_id == n.driver_id && !new_names.contains_key(o.persist_name)
                });
                match slot {
                    Some(o) => {
                        replaced_old.push(o.persist_name);
                        out.push(change(Fate::Replaced, Some(o.persist_name)));
                    }
                    None => out.push(change(Fate::Added, None)),
                }
            }
        }
    }
    for o in old {
        if !new_names.contains_key(o.persist_name) && !replaced_old.contains(&o.persist_name) {
            out.push(Change {
                kind,
                driver_id: o.driver_id.to_string(),
                persist_name: o.persist_name.to_string(),
                fate: Fate::Removed,
                was: None,
            });
        }
    }
}

impl fmt::Display for ReloadPlan {
    /// One line per component: `destination d#0 affile_dd_writers(/b): replaced (was ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            write!(
                f,
                "{} {} {}: {}",
                c.kind,
                c.driver_id,
                c.persist_name,
                c.fate.word()
            )?;
            if let Some(w) = &c.was {
                write!(f, " (was {w})")?;
            }
            writeln!(f)?;
        }
        write!(f, "{}", self.summary())
    }
}
