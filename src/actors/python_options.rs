//! `options()`, the option every Python driver (source, fetcher, destination, parser)
//! shares: key-value pairs passed to the class's `init(options)`.

use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// A value of `options()`, as written: passed to the Python class's `init(options)` (see
/// [`options_dict`] for the types Python sees).
#[derive(Debug, Clone, PartialEq)]
pub enum PyOptionValue {
    Str(String),
    Int(i64),
    Float(f64),
    /// `key => ("a" "b")`.
    List(Vec<PyOptionValue>),
}

impl<'de> Deserialize<'de> for PyOptionValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'a> Visitor<'a> for V {
            type Value = PyOptionValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or a list")
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
            fn visit_seq<A: de::SeqAccess<'a>>(
                self,
                mut seq: A,
            ) -> Result<PyOptionValue, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<PyOptionValue>()? {
                    items.push(v);
                }
                Ok(PyOptionValue::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// `options()` of a Python driver: `options("key" "value")`, `options(key => value)` or
/// `options(key(value))`; keys as written.
pub type PyOptions = BTreeMap<String, PyOptionValue>;

/// The `python()` parser's options (syslog-ng 3.38: `class()`, `options()`, `loaders()` and
/// the obsolete `imports()`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PythonParserOptions {
    /// The `syslogng.LogParser` class: a name from a `python {}` block or `module.Class`.
    pub class: String,
    /// Passed to `init(options)`. Default: empty.
    #[serde(default)]
    pub options: PyOptions,
    /// Modules imported before the class is looked up. Default: none.
    #[serde(default, alias = "imports")]
    pub loaders: Vec<String>,
}

impl PyOptionValue {
    /// The value as `@version` < 4.0 passes it: text.
    fn text(&self) -> String {
        match self {
            PyOptionValue::Str(s) => s.clone(),
            PyOptionValue::Int(i) => i.to_string(),
            PyOptionValue::Float(f) => f.to_string(),
            PyOptionValue::List(items) => items
                .iter()
                .map(PyOptionValue::text)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn to_py<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
        use pyo3::IntoPyObjectExt;
        use pyo3::types::PyListMethods;
        match self {
            PyOptionValue::Str(s) if s == "yes" => true.into_bound_py_any(py),
            PyOptionValue::Str(s) if s == "no" => false.into_bound_py_any(py),
            PyOptionValue::Str(s) => s.into_bound_py_any(py),
            PyOptionValue::Int(i) => i.into_bound_py_any(py),
            PyOptionValue::Float(f) => f.into_bound_py_any(py),
            PyOptionValue::List(items) => {
                let list = pyo3::types::PyList::empty(py);
                for i in items {
                    list.append(i.to_py(py)?)?;
                }
                list.into_bound_py_any(py)
            }
        }
    }
}

/// `options()` as the dict `init(options)` receives. Below `@version: 4.0` (`compat_3x`)
/// every value is a `str` and keys are as written, as in syslog-ng 3.38; from 4.0 values are
/// typed as AxoSyslog types them (`int`, `float`, `bool` for yes/no, `list`) and `-` in keys
/// becomes `_`.
pub fn options_dict<'py>(
    py: pyo3::Python<'py>,
    options: &PyOptions,
    compat_3x: bool,
) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
    use pyo3::types::PyDictMethods;
    let dict = pyo3::types::PyDict::new(py);
    for (k, v) in options {
        if compat_3x {
            dict.set_item(k, v.text())?;
        } else {
            dict.set_item(k.replace('-', "_"), v.to_py(py)?)?;
        }
    }
    Ok(dict)
}
