//! Deserializing one node: a scalar (`yes`, `"x"`, `5`), a keyword choice (`dst-idle`), or a
//! compound node whose contents are a value of their own (`column(name(a) type(int))`).
//!
//! Scalars are converted leniently where syslog-ng is strict only by accident of its grammar
//! (a quoted `"5"` is accepted as a number, `true`/`false` as booleans) and exactly where the
//! user would notice a difference (keyword choices stay case-sensitive, as in syslog-ng, with
//! `-` and `_` interchangeable).

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::error::Error;
use super::value::ValueDe;
use crate::config::ast::{Node, Number, keyword_eq};
use crate::config::span::Span;

/// Deserializer for a single node.
#[derive(Clone, Copy)]
pub(crate) struct NodeDe<'a> {
    pub(crate) node: &'a Node,
}

impl<'a> NodeDe<'a> {
    pub(crate) fn new(node: &'a Node) -> Self {
        NodeDe { node }
    }

    fn span(&self) -> Span {
        self.node.span()
    }

    fn invalid(&self, expected: &str) -> Error {
        Error::at_span(
            format!("expected {expected}, found {}", describe(self.node)),
            self.span(),
        )
    }

    /// The contents of a compound node as a value: a call's arguments, a group's items.
    fn contents(&self, expected: &str) -> Result<ValueDe<'a>, Error> {
        match self.node {
            Node::Call {
                name, args, span, ..
            } => Ok(ValueDe::from_call_parts(args, name.span, *span)),
            Node::Group { items, span } => Ok(ValueDe::from_slice(items, *span)),
            _ => Err(self.invalid(expected)),
        }
    }

    fn integer(&self) -> Result<i128, Error> {
        match self.node {
            Node::Number(n) => match n.value {
                Number::Int(i) => Ok(i128::from(i)),
                Number::Float(_) => Err(self.invalid("a whole number")),
            },
            Node::Str(s, _) | Node::Word(s) => s
                .value
                .trim()
                .parse::<i128>()
                .map_err(|_| self.invalid("a whole number")),
            _ => Err(self.invalid("a whole number")),
        }
    }

    fn float(&self) -> Result<f64, Error> {
        match self.node {
            Node::Number(n) => Ok(match n.value {
                Number::Int(i) => i as f64,
                Number::Float(f) => f,
            }),
            Node::Str(s, _) | Node::Word(s) => {
                let t = s.value.trim();
                // Rust's parser accepts "inf" and "NaN"; a configuration number never means those.
                if t.chars()
                    .any(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'))
                {
                    return Err(self.invalid("a number"));
                }
                t.parse::<f64>().map_err(|_| self.invalid("a number"))
            }
            _ => Err(self.invalid("a number")),
        }
    }

    fn boolean(&self) -> Result<bool, Error> {
        let text = match self.node {
            Node::Number(n) => match n.value {
                Number::Int(i) => return Ok(i != 0),
                Number::Float(_) => return Err(self.invalid("yes or no")),
            },
            Node::Str(s, _) | Node::Word(s) => s.value.as_str(),
            _ => return Err(self.invalid("yes or no")),
        };
        match text {
            "yes" | "on" | "true" | "1" => Ok(true),
            "no" | "off" | "false" | "0" => Ok(false),
            _ => Err(self.invalid("yes or no")),
        }
    }

    fn integer_in(&self, min: i128, max: i128) -> Result<i128, Error> {
        let n = self.integer()?;
        if n < min {
            if min == 0 {
                return Err(self.invalid("a non-negative whole number"));
            }
            return Err(self.invalid(&format!("a whole number of at least {min}")));
        }
        if n > max {
            return Err(self.invalid(&format!("a whole number of at most {max}")));
        }
        Ok(n)
    }
}

/// Text of a scalar node as the user wrote it (numbers re-printed), or `None` for compound
/// nodes.
pub(crate) fn scalar_text(node: &Node) -> Option<Cow<'_, str>> {
    match node {
        Node::Word(w) => Some(Cow::Borrowed(&w.value)),
        Node::Str(s, _) => Some(Cow::Borrowed(&s.value)),
        Node::Number(n) => Some(Cow::Owned(number_text(n.value))),
        _ => None,
    }
}

pub(crate) fn number_text(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => f.to_string(),
    }
}

/// A short rendering of a node for messages: "found `abc`".
pub(crate) fn describe(node: &Node) -> String {
    let text = match node {
        Node::Word(w) => w.value.clone(),
        Node::Str(s, _) => format!("\"{}\"", s.value),
        Node::Number(n) => number_text(n.value),
        Node::Op(o) => o.value.clone(),
        Node::Call { name, .. } => format!("{}(...)", name.value),
        Node::Group { .. } => "(...)".to_string(),
        Node::Block { .. } => "{...}".to_string(),
        Node::Arrow { key, .. } => format!("{} => ...", key.value),
    };
    let short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        format!("`{short}...`")
    } else {
        format!("`{short}`")
    }
}

/// The variant of `variants` that `word` names, with `-` and `_` interchangeable. Falls back
/// to the word as written, which serde then reports as unknown.
pub(crate) fn resolve_variant<'v>(word: &'v str, variants: &'static [&'static str]) -> &'v str {
    variants
        .iter()
        .find(|v| keyword_eq(v, word))
        .copied()
        .unwrap_or(word)
}

macro_rules! deserialize_int {
    ($($method:ident => $visit:ident as $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let n = self.integer_in(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
            // In range by the check above.
            let value = <$ty>::try_from(n).map_err(|_| self.invalid("a whole number"))?;
            visitor.$visit::<Error>(value).map_err(|e| e.at(self.span()))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.span();
        let result = match self.node {
            Node::Word(w) => visitor.visit_borrowed_str::<Error>(&w.value),
            Node::Str(s, _) => visitor.visit_borrowed_str::<Error>(&s.value),
            Node::Op(o) => visitor.visit_borrowed_str::<Error>(&o.value),
            Node::Number(n) => match n.value {
                Number::Int(i) => visitor.visit_i64::<Error>(i),
                Number::Float(f) => visitor.visit_f64::<Error>(f),
            },
            Node::Call { .. } | Node::Arrow { .. } => {
                ValueDe::from_slice(std::slice::from_ref(self.node), span)
                    .visit_entries_any(visitor)
            }
            Node::Group { items, span } => {
                ValueDe::from_slice(items, *span).visit_nodes_seq(visitor)
            }
            Node::Block { stmts, .. } => visitor.visit_seq(de::value::SeqDeserializer::new(
                stmts.iter().map(|s| ValueDe::from_slice(&s.nodes, s.span)),
            )),
        };
        result.map_err(|e| e.at(span))
    }

    deserialize_int! {
        deserialize_i8 => visit_i8 as i8,
        deserialize_i16 => visit_i16 as i16,
        deserialize_i32 => visit_i32 as i32,
        deserialize_i64 => visit_i64 as i64,
        deserialize_u8 => visit_u8 as u8,
        deserialize_u16 => visit_u16 as u16,
        deserialize_u32 => visit_u32 as u32,
        deserialize_u64 => visit_u64 as u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        visitor
            .visit_f32::<Error>(f as f32)
            .map_err(|e| e.at(self.span()))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        visitor.visit_f64::<Error>(f).map_err(|e| e.at(self.span()))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let b = self.boolean()?;
        visitor
            .visit_bool::<Error>(b)
            .map_err(|e| e.at(self.span()))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = scalar_text(self.node).ok_or_else(|| self.invalid("a character"))?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor
                .visit_char::<Error>(c)
                .map_err(|e| e.at(self.span())),
            _ => Err(self.invalid("a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.node {
            Node::Word(w) => visitor.visit_borrowed_str::<Error>(&w.value),
            Node::Str(s, _) => visitor.visit_borrowed_str::<Error>(&s.value),
            Node::Number(n) => visitor.visit_string::<Error>(number_text(n.value)),
            _ => return Err(self.invalid("a string")),
        };
        result.map_err(|e| e.at(self.span()))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = scalar_text(self.node).ok_or_else(|| self.invalid("a string"))?;
        visitor
            .visit_byte_buf::<Error>(text.into_owned().into_bytes())
            .map_err(|e| e.at(self.span()))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node {
            Node::Call { args, .. } if args.is_empty() => visitor.visit_unit::<Error>(),
            Node::Group { items, .. } if items.is_empty() => visitor.visit_unit::<Error>(),
            _ => Err(self.invalid("nothing")),
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
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.contents("a list of values")?.deserialize_seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.contents("a list of values")?
            .deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.contents("a list of options")?.deserialize_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.contents("a list of options")?
            .deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor
            .visit_enum(EnumDe {
                node: self.node,
                variants,
            })
            .map_err(|e| e.at(self.span()))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit::<Error>()
    }
}

/// A keyword choice: a word or string names a unit variant, a call names a variant whose
/// contents are the call's arguments (`periodical(...)`).
struct EnumDe<'a> {
    node: &'a Node,
    variants: &'static [&'static str],
}

impl<'de> de::EnumAccess<'de> for EnumDe<'de> {
    type Error = Error;
    type Variant = VariantDe<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        let (word, span) = match self.node {
            Node::Call { name, .. } => (Cow::Borrowed(name.value.as_str()), name.span),
            other => match scalar_text(other) {
                Some(text) => (text, other.span()),
                None => {
                    return Err(Error::at_span(
                        format!("expected a keyword, found {}", describe(other)),
                        other.span(),
                    ));
                }
            },
        };
        let resolved = resolve_variant(&word, self.variants).to_string();
        let value = seed
            .deserialize(KeyDe {
                key: resolved,
                span,
            })
            .map_err(|e| e.at(span))?;
        Ok((value, VariantDe { node: self.node }))
    }
}

struct VariantDe<'a> {
    node: &'a Node,
}

impl<'a> VariantDe<'a> {
    /// The variant's contents: a call's arguments, or nothing for a bare word (so that a
    /// variant whose options all have defaults can be written without parentheses).
    fn contents(&self) -> ValueDe<'a> {
        match self.node {
            Node::Call {
                name, args, span, ..
            } => ValueDe::from_call_parts(args, name.span, *span),
            other => ValueDe::from_slice(&[], other.span()),
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantDe<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.node {
            Node::Call { name, args, .. } if !args.is_empty() => Err(Error::at_span(
                format!("`{}` takes no arguments", name.value),
                args[0].span(),
            )),
            _ => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.contents())
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple(self.contents(), len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(self.contents(), "", fields, visitor)
    }
}

/// An option name or map key. Integer and boolean keys are parsed from the text.
pub(crate) struct KeyDe {
    pub(crate) key: String,
    pub(crate) span: Span,
}

impl<'de> de::Deserializer<'de> for KeyDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor
            .visit_string::<Error>(self.key)
            .map_err(|e| e.at(self.span))
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.span;
        match self.key.parse::<i64>() {
            Ok(n) => visitor.visit_i64::<Error>(n).map_err(|e| e.at(span)),
            Err(_) => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.span;
        match self.key.parse::<u64>() {
            Ok(n) => visitor.visit_u64::<Error>(n).map_err(|e| e.at(span)),
            Err(_) => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i128 u8 u16 u32 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for NodeDe<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}
