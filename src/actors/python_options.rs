//! `options()`, the option every Python driver (source, fetcher, destination, parser)
//! shares: key-value pairs passed to the class's `init(options)`.

use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// A value of `options()`: passed to the Python class's `init(options)` as a `str`, `int` or
/// `float`.
#[derive(Debug, Clone, PartialEq)]
pub enum PyOptionValue {
    Str(String),
    Int(i64),
    Float(f64),
}

impl<'de> Deserialize<'de> for PyOptionValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PyOptionValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PyOptionValue, E> {
                Ok(PyOptionValue::Str(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PyOptionValue, E> {
                Ok(PyOptionValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PyOptionValue, E> {
                i64::try_from(v)
                    .map(PyOptionValue::Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PyOptionValue, E> {
                Ok(PyOptionValue::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `options()` of a Python driver: `options("key" "value")`, `options(key => value)` or
/// `options(key(value))`; keys as written.
pub type PyOptions = BTreeMap<String, PyOptionValue>;
