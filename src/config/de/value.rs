//! Deserializing a value: everything written between the parentheses of one option, for every
//! time the option was given.
//!
//! A value is a list of *occurrences* (`flags(a) flags(b)` is one value with two), each a list
//! of nodes. Sequences and option lists read the occurrences concatenated; scalars read the last
//! occurrence only, because in syslog-ng a later option overrides an earlier one.
//!
//! As a struct or map, a value's nodes become entries: `name(args)` and `name => value` are
//! keyed by name, and positional scalars are keyed by their position, `"0"`, `"1"`, ...
//! (structs declare positional arguments as fields renamed `"0"`, or `"0:path"` to give the
//! argument a name for messages). In a map, consecutive positional values pair up as key and
//! value (`options("k" "v")`).

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::{Error, Kind, is_positional, positional_index};
use super::groups::REPEATED_TOKEN;
use super::node::{KeyDe, NodeDe, describe, scalar_text};
use crate::config::ast::{Node, normalize_keyword};
use crate::config::span::Span;

/// One `(...)`: the nodes inside it and the place to report about the whole (the option's
/// name, or the call).
#[derive(Clone, Debug)]
pub(crate) struct Occ<'a> {
    pub(crate) nodes: Vec<&'a Node>,
    pub(crate) span: Span,
}

/// Deserializer for a value made of one or more occurrences.
#[derive(Clone, Debug)]
pub struct ValueDe<'a> {
    pub(crate) occs: Vec<Occ<'a>>,
    /// Where to report a problem with the value as a whole if it has no occurrence.
    pub(crate) span: Span,
}

/// One key of a struct or map, with every occurrence of its value.
struct Entry<'a> {
    key: String,
    key_span: Span,
    /// The node, for a positional argument (to name it in "unexpected value" errors).
    positional: Option<&'a Node>,
    value: ValueDe<'a>,
}

/// How positional values are keyed.
enum Keying<'f> {
    /// Struct fields: names normalized (`_` → `-`); positional values keyed by the declared
    /// positional fields, extra values going to the last one (so it can be a list).
    Struct { positional: &'f [&'static str] },
    /// Map keys kept as written; positional values pair up as key and value.
    Map,
}

impl<'a> ValueDe<'a> {
    pub(crate) fn from_slice(nodes: &'a [Node], span: Span) -> Self {
        ValueDe {
            occs: vec![Occ {
                nodes: nodes.iter().collect(),
                span,
            }],
            span,
        }
    }

    /// The arguments of a call; problems with the call as a whole are reported at its name.
    pub(crate) fn from_call_parts(args: &'a [Node], name_span: Span, _call_span: Span) -> Self {
        ValueDe::from_slice(args, name_span)
    }

    fn single(node: &'a Node, span: Span) -> Self {
        ValueDe {
            occs: vec![Occ {
                nodes: vec![node],
                span,
            }],
            span,
        }
    }

    /// Where to report about the value as a whole: its last occurrence.
    fn anchor(&self) -> Span {
        self.occs.last().map_or(self.span, |o| o.span)
    }

    fn all_nodes(&self) -> impl Iterator<Item = &'a Node> + '_ {
        self.occs.iter().flat_map(|o| o.nodes.iter().copied())
    }

    /// The single node of the last occurrence, for scalars.
    fn scalar(&self, expected: &str) -> Result<&'a Node, Error> {
        let Some(occ) = self.occs.last() else {
            return Err(Error::at_span(
                format!("expected {expected}, found nothing"),
                self.span,
            ));
        };
        match occ.nodes.as_slice() {
            [] => Err(Error::at_span(
                format!("expected {expected}, found nothing"),
                occ.span,
            )),
            [one] => Ok(one),
            [_, extra, ..] => Err(Error::at_span(
                format!("too many values, expected {expected}"),
                extra.span(),
            )),
        }
    }

    /// Groups the nodes into keyed entries, merging repeated keys.
    fn entries(&self, keying: Keying<'_>) -> Result<Vec<Entry<'a>>, Error> {
        let mut entries: Vec<Entry<'a>> = Vec::new();
        let mut position = 0usize;
        let mut pending_key: Option<&'a Node> = None;
        for node in self.all_nodes() {
            let (key, key_span, value, positional) = match node {
                Node::Call {
                    name, args, span, ..
                } => (
                    name.value.clone(),
                    name.span,
                    ValueDe::from_call_parts(args, name.span, *span),
                    None,
                ),
                Node::Arrow { key, value, .. } => (
                    key.value.clone(),
                    key.span,
                    ValueDe::single(value, key.span),
                    None,
                ),
                other => match &keying {
                    Keying::Map => {
                        let Some(key_node) = pending_key.take() else {
                            pending_key = Some(other);
                            continue;
                        };
                        let key = scalar_text(key_node).ok_or_else(|| {
                            Error::at_span(
                                format!("expected a key, found {}", describe(key_node)),
                                key_node.span(),
                            )
                        })?;
                        (
                            key.into_owned(),
                            key_node.span(),
                            ValueDe::single(other, other.span()),
                            None,
                        )
                    }
                    Keying::Struct { positional } => {
                        let index = position;
                        position += 1;
                        if index >= positional.len() && !positional.is_empty() {
                            // Extra positional values join the last positional argument's
                            // occurrence: a list takes them all, a scalar reports "too many".
                            let last = positional[positional.len() - 1];
                            if let Some(e) = entries.iter_mut().find(|e| e.key == last) {
                                if let Some(occ) = e.value.occs.last_mut() {
                                    occ.nodes.push(other);
                                    continue;
                                }
                            }
                        }
                        let key = positional
                            .get(index)
                            .map_or_else(|| index.to_string(), |f| (*f).to_string());
                        (
                            key,
                            other.span(),
                            ValueDe::single(other, other.span()),
                            Some(other),
                        )
                    }
                },
            };
            if let Some(dangling) = pending_key {
                return Err(missing_map_value(dangling));
            }
            let key = match keying {
                Keying::Struct { .. } if positional.is_none() => normalize_keyword(&key),
                _ => key,
            };
            if let Some(existing) = entries.iter_mut().find(|e| e.key == key) {
                existing.value.occs.extend(value.occs);
            } else {
                entries.push(Entry {
                    key,
                    key_span,
                    positional,
                    value,
                });
            }
        }
        if let Some(dangling) = pending_key {
            return Err(missing_map_value(dangling));
        }
        Ok(entries)
    }

    /// `deserialize_any` for values that contain options: a map of entries.
    pub(crate) fn visit_entries_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let anchor = self.anchor();
        let entries = self.entries(Keying::Struct { positional: &[] })?;
        visitor
            .visit_map(EntriesAccess::new(entries))
            .map_err(|e| e.at(anchor))
    }

    /// `deserialize_any` for a plain list of nodes.
    pub(crate) fn visit_nodes_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let anchor = self.anchor();
        let nodes: Vec<&'a Node> = self.all_nodes().collect();
        let mut seq = NodeSeq {
            nodes: nodes.into_iter(),
        };
        let value = visitor.visit_seq(&mut seq).map_err(|e| e.at(anchor))?;
        seq.finish()?;
        Ok(value)
    }
}

fn missing_map_value(key: &Node) -> Error {
    Error::at_span(
        format!("missing the value for key {}", describe(key)),
        key.span(),
    )
}

/// The struct field names that take positional arguments, ordered by position.
fn positional_fields(fields: &[&'static str]) -> Vec<&'static str> {
    let mut positional: Vec<(usize, &'static str)> = fields
        .iter()
        .filter(|f| is_positional(f))
        .filter_map(|f| positional_index(f).map(|i| (i, *f)))
        .collect();
    positional.sort_by_key(|(i, _)| *i);
    // Positions must be 0, 1, 2, ...: a gap leaves later arguments unnamed.
    positional
        .iter()
        .enumerate()
        .take_while(|(n, (i, _))| n == i)
        .map(|(_, (_, f))| *f)
        .collect()
}

/// A key as read with struct keying: the key, where it was written, and the node if it was a
/// positional value.
pub(crate) type KeyInfo<'a> = (String, Span, Option<&'a Node>);

/// Entry keys of a value read with struct keying, for the unknown-option check of option
/// groups.
pub(crate) fn struct_keys<'a>(
    value: &ValueDe<'a>,
    fields: &[&'static str],
) -> Result<Vec<KeyInfo<'a>>, Error> {
    let positional = positional_fields(fields);
    Ok(value
        .entries(Keying::Struct {
            positional: &positional,
        })?
        .into_iter()
        .map(|e| (e.key, e.key_span, e.positional))
        .collect())
}

/// Error for a key the target does not know, phrased for positional values too.
pub(crate) fn unknown_key_error(err: Error, key_span: Span, positional: Option<&Node>) -> Error {
    match (&err.kind, positional) {
        (Kind::UnknownField { .. }, Some(node)) => {
            Error::at_span(format!("unexpected value {}", describe(node)), key_span)
        }
        _ => err.at(key_span),
    }
}

struct EntriesAccess<'a> {
    entries: std::vec::IntoIter<Entry<'a>>,
    value: Option<ValueDe<'a>>,
}

impl<'a> EntriesAccess<'a> {
    fn new(entries: Vec<Entry<'a>>) -> Self {
        EntriesAccess {
            entries: entries.into_iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for EntriesAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed
            .deserialize(KeyDe {
                key: entry.key,
                span: entry.key_span,
            })
            .map_err(|e| unknown_key_error(e, entry.key_span, entry.positional))?;
        self.value = Some(entry.value);
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => {
                let anchor = value.anchor();
                seed.deserialize(value).map_err(|e| e.at(anchor))
            }
            None => Err(Error::new(Kind::Message(
                "internal: option value requested before its name".into(),
            ))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Each node of a list, one element each.
struct NodeSeq<'a> {
    nodes: std::vec::IntoIter<&'a Node>,
}

impl NodeSeq<'_> {
    /// Values the visitor did not take (a tuple shorter than the list) are an error.
    fn finish(mut self) -> Result<(), Error> {
        match self.nodes.next() {
            Some(extra) => Err(Error::at_span(
                format!("unexpected extra value {}", describe(extra)),
                extra.span(),
            )),
            None => Ok(()),
        }
    }
}

impl<'de> de::SeqAccess<'de> for &mut NodeSeq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.nodes.next() {
            Some(node) => seed
                .deserialize(NodeDe::new(node))
                .map(Some)
                .map_err(|e| e.at(node.span())),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.nodes.len())
    }
}

/// Each occurrence of a value, one element each (for [`super::Repeated`]).
struct OccSeq<'a> {
    occs: std::vec::IntoIter<Occ<'a>>,
}

impl<'de> de::SeqAccess<'de> for OccSeq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.occs.next() {
            Some(occ) => {
                let span = occ.span;
                let value = ValueDe {
                    occs: vec![occ],
                    span,
                };
                seed.deserialize(value).map(Some).map_err(|e| e.at(span))
            }
            None => Ok(None),
        }
    }
}

macro_rules! forward_scalar {
    ($($method:ident => $expected:literal),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            NodeDe::new(self.scalar($expected)?).$method(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let has_options = self
            .all_nodes()
            .any(|n| matches!(n, Node::Call { .. } | Node::Arrow { .. }));
        let each_scalar = self.occs.iter().all(|o| o.nodes.len() <= 1);
        if has_options {
            self.visit_entries_any(visitor)
        } else if self.all_nodes().next().is_none() {
            visitor.visit_unit::<Error>()
        } else if each_scalar {
            // One value per occurrence: the last one wins, as for any scalar.
            let node = self.scalar("a value")?;
            NodeDe::new(node).deserialize_any(visitor)
        } else {
            self.visit_nodes_seq(visitor)
        }
    }

    forward_scalar! {
        deserialize_bool => "yes or no",
        deserialize_i8 => "a whole number",
        deserialize_i16 => "a whole number",
        deserialize_i32 => "a whole number",
        deserialize_i64 => "a whole number",
        deserialize_u8 => "a whole number",
        deserialize_u16 => "a whole number",
        deserialize_u32 => "a whole number",
        deserialize_u64 => "a whole number",
        deserialize_f32 => "a number",
        deserialize_f64 => "a number",
        deserialize_char => "a character",
        deserialize_str => "a string",
        deserialize_string => "a string",
        deserialize_bytes => "a string",
        deserialize_byte_buf => "a string",
        deserialize_identifier => "a name",
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.all_nodes().next() {
            None => visitor.visit_unit::<Error>(),
            Some(node) => Err(Error::at_span(
                format!("expected nothing, found {}", describe(node)),
                node.span(),
            )),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == REPEATED_TOKEN {
            let anchor = self.anchor();
            return visitor
                .visit_seq(OccSeq {
                    occs: self.occs.into_iter(),
                })
                .map_err(|e| e.at(anchor));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_nodes_seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.visit_nodes_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.visit_nodes_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let anchor = self.anchor();
        let entries = self.entries(Keying::Map)?;
        visitor
            .visit_map(EntriesAccess::new(entries))
            .map_err(|e| e.at(anchor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let anchor = self.anchor();
        let positional = positional_fields(fields);
        let entries = self.entries(Keying::Struct {
            positional: &positional,
        })?;
        visitor
            .visit_map(EntriesAccess::new(entries))
            .map_err(|e| e.at(anchor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        NodeDe::new(self.scalar("a keyword")?).deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit::<Error>()
    }
}

impl<'de> IntoDeserializer<'de, Error> for ValueDe<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
