//! Shared option groups and repeated options.
//!
//! serde's `flatten` cannot be combined with `deny_unknown_fields` (and it buffers values,
//! which loses their spans), so a driver whose options are its own plus shared groups reads
//! each group as a separate struct from the same call: [`super::from_call_groups`] with a
//! tuple of structs. Every part sees every option and ignores the ones it does not have; the
//! unknown-option check runs once, against the union of the parts' fields.

use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::error::{Error, Kind};
use super::value::{ValueDe, struct_keys, unknown_key_error};

/// Name of the newtype struct through which [`Repeated`] asks for occurrences.
pub(crate) const REPEATED_TOKEN: &str = "$sluice::de::Repeated";

/// Every occurrence of an option as its own element, where a plain `Vec` would concatenate
/// them: `pair("a" "b") pair("c" "d")` read as `Repeated<(String, String)>` is two pairs,
/// and `column(name(a)) column(name(b))` read as `Repeated<Column>` is two columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Repeated<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Repeated<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RepeatedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for RepeatedVisitor<T> {
            type Value = Repeated<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a repeated option")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                Vec::<T>::deserialize(d).map(Repeated)
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Repeated(items))
            }
        }

        deserializer.deserialize_newtype_struct(REPEATED_TOKEN, RepeatedVisitor(PhantomData))
    }
}

/// A tuple of option structs read from the same call; see the module docs of [`super`].
/// Implemented for tuples of 1 to 6 structs (each `Deserialize`, none `deny_unknown_fields`).
pub trait OptionGroups: Sized {
    /// Reads every part and checks that each option belongs to at least one of them.
    fn read(value: ValueDe<'_>) -> Result<Self, Error>;
}

/// The field names of a struct, found by letting it ask a probing deserializer. `None` when
/// the type is not a plain struct (a map or a flattened struct accepts any key).
pub(crate) fn fields_of<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut found = None;
    let _ = T::deserialize(Probe { found: &mut found });
    found
}

struct Probe<'p> {
    found: &'p mut Option<&'static [&'static str]>,
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(Error::new(Kind::Probe))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        *self.found = Some(fields);
        Err(Error::new(Kind::Probe))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Reports the first option that none of the parts declares.
pub(crate) fn check_known(
    value: &ValueDe<'_>,
    parts: &[Option<&'static [&'static str]>],
) -> Result<(), Error> {
    let mut union: Vec<&'static str> = Vec::new();
    for part in parts {
        let Some(fields) = part else {
            return Ok(());
        };
        for f in fields.iter() {
            if !union.contains(f) {
                union.push(f);
            }
        }
    }
    for (key, span, positional) in struct_keys(value, &union)? {
        if !union.iter().any(|f| *f == key) {
            let err = Error::new(Kind::UnknownField {
                field: key,
                expected: union.clone(),
            });
            return Err(unknown_key_error(err, span, positional));
        }
    }
    Ok(())
}

macro_rules! impl_groups {
    ($($t:ident),+) => {
        impl<$($t: DeserializeOwned),+> OptionGroups for ($($t,)+) {
            fn read(value: ValueDe<'_>) -> Result<Self, Error> {
                check_known(&value, &[$(fields_of::<$t>()),+])?;
                Ok(($($t::deserialize(value.clone())?,)+))
            }
        }
    };
}

impl_groups!(A);
impl_groups!(A, B);
impl_groups!(A, B, C);
impl_groups!(A, B, C, D);
impl_groups!(A, B, C, D, E);
impl_groups!(A, B, C, D, E, F);
