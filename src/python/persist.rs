//! `syslogng.Persist(persist_name, defaults=None)`: a dictionary of `str`, `bytes` and `int`
//! values that outlives reloads and restarts, kept in the daemon's persist file (`-R`).
//!
//! Layout, as syslog-ng's `python-persist.c`: a master entry under `persist_name` (its
//! version, 1) and one entry per key under `persist_name##key`, each with its type. Values
//! are JSON in sluice's persist file: `{"str": "..."}`, `{"int": "123"}` (decimal text, so
//! any Python int fits) or `{"bytes": [...]}`. A write reaches the persist file's journal
//! before `p[key] = value` returns, so it survives a `kill -9` of the daemon (seed 003:
//! "backed up to disk immediately after changing them").
//!
//! The persist file is the daemon's: [`set_store`] gives it to Python when the daemon has
//! opened it (before the configuration's Python parts are bound, so `init()` may use it).

use std::sync::{Arc, RwLock};

use pyo3::exceptions::{PyIOError, PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyString};
use serde::{Deserialize, Serialize};

use crate::persist::Persist;

/// Separates a dictionary's name from its keys in the persist file.
const SUBKEY_DELIMITER: &str = "##";
const MASTER_ENTRY_VERSION: u8 = 1;

static STORE: RwLock<Option<Arc<Persist>>> = RwLock::new(None);

/// Gives Python the daemon's persist file (None: none is open).
pub(crate) fn set_store(store: Option<Arc<Persist>>) {
    *STORE.write().unwrap_or_else(|p| p.into_inner()) = store;
}

fn store() -> Option<Arc<Persist>> {
    STORE.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The master entry of a dictionary.
#[derive(Debug, Serialize, Deserialize)]
struct Master {
    version: u8,
}

/// One stored value with its Python type.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Value {
    Str(String),
    Int(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn from_py(v: &Bound<'_, PyAny>) -> PyResult<Value> {
        if let Ok(b) = v.cast::<PyBytes>() {
            return Ok(Value::Bytes(b.as_bytes().to_vec()));
        }
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(Value::Str(s.to_str()?.to_owned()));
        }
        if let Ok(b) = v.cast::<PyBool>() {
            return Ok(Value::Int(u8::from(b.is_true()).to_string()));
        }
        if v.cast::<PyInt>().is_ok() {
            return Ok(Value::Int(v.str()?.to_str()?.to_owned()));
        }
        Err(PyTypeError::new_err(
            "Value must be either string, integer or bytes",
        ))
    }

    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            Value::Str(s) => PyString::new(py, s).into_any().unbind(),
            Value::Bytes(b) => PyBytes::new(py, b).into_any().unbind(),
            Value::Int(t) => py.get_type::<PyInt>().call1((t.as_str(),))?.unbind(),
        })
    }
}

fn key_text(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match super::logmsg::str_or_bytes(key)? {
        Some(k) => Ok(String::from_utf8_lossy(&k).into_owned()),
        None => Err(PyTypeError::new_err("key is not a string object")),
    }
}

fn stored_err(e: crate::persist::PersistError) -> PyErr {
    tracing::error!(error = %e, "Error storing a Python Persist value");
    PyIOError::new_err("value could not be stored")
}

/// `syslogng.Persist`.
#[pyclass(name = "Persist", module = "syslogng", subclass, frozen)]
pub(crate) struct PyPersist {
    #[pyo3(get)]
    persist_name: String,
    store: Arc<Persist>,
}

impl PyPersist {
    fn entry(&self, key: &str) -> String {
        format!("{}{SUBKEY_DELIMITER}{key}", self.persist_name)
    }

    fn lookup(&self, key: &str) -> PyResult<Option<Value>> {
        self.store
            .get::<Value>(&self.entry(key))
            .map_err(|e| PyRuntimeError::new_err(format!("Error reading persist entry {key}: {e}")))
    }

    fn keys(&self) -> PyResult<Vec<String>> {
        let prefix = self.entry("");
        let names = self
            .store
            .names_with_prefix(&prefix)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }
}

#[pymethods]
impl PyPersist {
    #[new]
    #[pyo3(signature = (persist_name, defaults=None))]
    fn new(persist_name: String, defaults: Option<&Bound<'_, PyDict>>) -> PyResult<PyPersist> {
        let Some(store) = store() else {
            tracing::error!(
                name = %persist_name,
                "Attempting to use persist_state while the configuration is not yet \
                 initialized, please use Persist() in or after the init() method"
            );
            return Err(PyRuntimeError::new_err(
                "persist_state is not yet available",
            ));
        };
        if persist_name.contains(SUBKEY_DELIMITER) {
            return Err(PyValueError::new_err(format!(
                "persist name cannot contain {SUBKEY_DELIMITER}"
            )));
        }
        match store.get::<Master>(&persist_name) {
            Ok(Some(m)) if m.version == MASTER_ENTRY_VERSION => {}
            Ok(Some(m)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "Invalid persist version: {}\nPossible persist file corruption",
                    m.version
                )));
            }
            Ok(None) | Err(_) => {
                let master = Master {
                    version: MASTER_ENTRY_VERSION,
                };
                store.set(&persist_name, &master).map_err(|e| {
                    tracing::error!(error = %e, "Error allocating a Python Persist entry");
                    PyRuntimeError::new_err("Could not allocate persist entry")
                })?;
            }
        }
        let me = PyPersist {
            persist_name,
            store,
        };
        if let Some(d) = defaults {
            for (k, v) in d.iter() {
                let key = key_text(&k)?;
                if me.lookup(&key)?.is_none() {
                    let value = Value::from_py(&v)?;
                    me.store.set(&me.entry(&key), &value).map_err(stored_err)?;
                }
            }
        }
        Ok(me)
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let key = key_text(key)?;
        match self.lookup(&key)? {
            Some(v) => v.to_py(py),
            None => Err(PyKeyError::new_err(format!(
                "Persist has no such key: {key}"
            ))),
        }
    }

    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = key_text(key)?;
        let value = Value::from_py(value)?;
        self.store
            .set(&self.entry(&key), &value)
            .map_err(stored_err)
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.lookup(&key_text(key)?)?.is_some())
    }

    /// Iterates over the keys, as syslog-ng's (which iterates over a fresh dict).
    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let dict = PyDict::new(py);
        for k in self.keys()? {
            if let Some(v) = self.lookup(&k)? {
                dict.set_item(&k, v.to_py(py)?)?;
            }
        }
        Ok(dict.try_iter()?.into_any().unbind())
    }
}
