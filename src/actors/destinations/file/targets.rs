//! The files of a templated `file()` name: each rendered name's [`Target`], found by name
//! per message (the previous message's first: consecutive messages often go to one file).

use std::collections::HashMap;
use tokio::time::Instant;

use super::sink::Target;
use crate::actors::runtime::queue::Entry;
use crate::template::{RenderContext, Template};

/// Groups `batch` by rendered file name: each target's `batch` gets the indices of its
/// entries, `order` the targets in order of first appearance (`name` is scratch).
pub(super) fn group(
    batch: &[Entry],
    template: &Template,
    targets: &mut Targets,
    name: &mut Vec<u8>,
    order: &mut Vec<usize>,
    cx: &RenderContext<'_>,
    now: Instant,
) {
    order.clear();
    for (i, e) in batch.iter().enumerate() {
        name.clear();
        template.render(&e.msg, cx, name);
        let slot = targets.slot_for(name, now);
        if let Some(t) = targets.get_mut(slot) {
            if t.batch.is_empty() {
                order.push(slot);
            }
            t.batch.push(i);
        }
    }
}

/// The files of a templated name, by rendered name.
#[derive(Default)]
pub(super) struct Targets {
    index: HashMap<Box<[u8]>, usize>,
    slots: Vec<Option<Target>>,
    free: Vec<usize>,
    /// The slot of the previous message: consecutive messages often go to the same file.
    last: Option<usize>,
}

impl Targets {
    /// The slot of the file called `name`, made when there is none.
    pub(super) fn slot_for(&mut self, name: &[u8], now: Instant) -> usize {
        let hit = self
            .last
            .filter(|&s| {
                self.slots
                    .get(s)
                    .and_then(Option::as_ref)
                    .is_some_and(|t| *t.key == *name)
            })
            .or_else(|| self.index.get(name).copied());
        let slot = match hit {
            Some(s) => s,
            None => {
                let mut t = Target::new(name.into(), now);
                let slot = self.free.pop().unwrap_or(self.slots.len());
                t.slot = slot;
                self.index.insert(name.into(), slot);
                if slot == self.slots.len() {
                    self.slots.push(Some(t));
                } else {
                    self.slots[slot] = Some(t);
                }
                slot
            }
        };
        self.last = Some(slot);
        slot
    }

    pub(super) fn get_mut(&mut self, slot: usize) -> Option<&mut Target> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    pub(super) fn remove(&mut self, slot: usize) -> Option<Target> {
        let t = self.slots.get_mut(slot)?.take()?;
        self.index.remove(&t.key);
        self.free.push(slot);
        if self.last == Some(slot) {
            self.last = None;
        }
        Some(t)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Target> {
        self.slots.iter().flatten()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Target> {
        self.slots.iter_mut().flatten()
    }
}
