//! The Python code of one configuration: its `python {}` blocks, run in a module of their
//! own, and the lookup of the names drivers refer to (`class(MyDest)`,
//! `class(mymodule.MyDest)`, `$(python mymodule.func)`).
//!
//! As in syslog-ng, the blocks run in a fresh `_syslogng_main` module per configuration
//! (start and every reload), so their globals reset on reload, while modules imported by a
//! dotted name stay in `sys.modules` and keep their state across reloads. Unlike syslog-ng
//! (which names the code `FILE{python-global-code:LINE}` and counts lines from the block),
//! a block is compiled under the configuration file's own name, padded so that its line
//! numbers are the file's: a traceback points at the line to edit, and shows it (the text
//! is put into `linecache` when a traceback is formatted, so it is the text that ran even
//! when the file changed since).

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};

use super::error::PythonException;

/// The module the `python {}` blocks run in (syslog-ng's name: plugins sometimes refer to it).
pub(crate) const MAIN_MODULE: &str = "_syslogng_main";

/// The directory syslog-ng adds to the import path for Python plugins (`${sysconfdir}/python`).
pub(crate) const SYSCONF_PYTHON_DIR: &str = "/etc/syslog-ng/python";

/// One `python {}` block as the configuration holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Block {
    pub code: String,
    /// The file it is in, and the 1-based line its code starts on.
    pub file: PathBuf,
    pub line: usize,
}

/// The loaded code of one configuration generation.
#[derive(Debug)]
pub(crate) struct ConfigCode {
    main: Py<PyModule>,
}

impl ConfigCode {
    /// Runs `blocks` in a new `_syslogng_main` (replacing the previous configuration's in
    /// `sys.modules`; the previous module object lives on while its drivers hold it) and
    /// puts `<config dir>/python` and `/etc/syslog-ng/python` on the import path.
    pub(crate) fn load(
        py: Python<'_>,
        config_dir: Option<&Path>,
        blocks: &[Block],
    ) -> Result<ConfigCode, PythonException> {
        let to_exc = |e: PyErr| PythonException::from_err(py, &e);
        let mut dirs = vec![PathBuf::from(SYSCONF_PYTHON_DIR)];
        if let Some(dir) = config_dir {
            dirs.insert(0, dir.join("python"));
        }
        extend_sys_path(py, &dirs).map_err(to_exc)?;
        let main = PyModule::new(py, MAIN_MODULE).map_err(to_exc)?;
        main.add("__builtins__", py.import("builtins").map_err(to_exc)?)
            .map_err(to_exc)?;
        py.import("sys")
            .and_then(|sys| sys.getattr("modules"))
            .and_then(|m| m.set_item(MAIN_MODULE, &main))
            .map_err(to_exc)?;
        for block in blocks {
            run_block(py, &main, block).map_err(to_exc)?;
        }
        Ok(ConfigCode {
            main: main.unbind(),
        })
    }

    /// Finds what `name` refers to: a dotted name imports its module (once: Python keeps it
    /// in `sys.modules`) and takes the attribute; a plain name is looked up in the
    /// configuration's `python {}` blocks, then among Python's built-ins.
    pub(crate) fn resolve<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        match name.rsplit_once('.') {
            Some((module, attr)) => {
                let m = match self.main.bind(py).getattr(module) {
                    // `import mymodule` inside a python {} block also makes `mymodule.X` work.
                    Ok(m) if m.is_instance_of::<PyModule>() => m,
                    _ => py.import(module)?.into_any(),
                };
                m.getattr(attr)
            }
            None => match self.main.bind(py).getattr(name) {
                Ok(v) => Ok(v),
                Err(e) => py.import("builtins")?.getattr(name).map_err(|_| e),
            },
        }
    }

    /// Imports the modules of a driver's `loaders()` option.
    pub(crate) fn import_all(&self, py: Python<'_>, modules: &[String]) -> PyResult<()> {
        for m in modules {
            py.import(m.as_str())?;
        }
        Ok(())
    }
}

fn extend_sys_path(py: Python<'_>, dirs: &[PathBuf]) -> PyResult<()> {
    let path = py.import("sys")?.getattr("path")?.cast_into::<PyList>()?;
    for dir in dirs.iter().rev() {
        let dir = dir.to_string_lossy();
        if !path.contains(dir.as_ref())? {
            path.insert(0, dir.as_ref())?;
        }
    }
    Ok(())
}

/// Compiles and runs one block in `main`, named after its file, with its lines where they
/// are in the file.
fn run_block(py: Python<'_>, main: &Bound<'_, PyModule>, block: &Block) -> PyResult<()> {
    let filename = block.file.to_string_lossy().into_owned();
    let padded = format!(
        "{}{}",
        "\n".repeat(block.line.saturating_sub(1)),
        block.code
    );
    remember_source(&filename, &padded);
    let builtins = py.import("builtins")?;
    let compiled =
        builtins.call_method1("compile", (padded.as_str(), filename.as_str(), "exec"))?;
    let globals = main.dict();
    builtins.call_method1("exec", (compiled, &globals))?;
    Ok(())
}

/// The blocks' code by file name, for [`sources_into_linecache`].
static SOURCES: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Keeps `source` for tracebacks of code compiled under `filename` (the latest wins).
fn remember_source(filename: &str, source: &str) {
    let mut sources = match SOURCES.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    sources.retain(|(f, _)| f != filename);
    sources.push((filename.to_string(), source.to_string()));
}

/// Puts the blocks' code into `linecache`, without a modification time (which
/// `linecache.checkcache` leaves alone), so a traceback formatted next shows the code as it
/// ran even if the file changed since. Done when a traceback is formatted rather than when
/// the blocks load: importing `linecache` (and `tokenize`, `re`...) costs memory most
/// configurations never need; code that formats a traceback itself reads the file.
pub(crate) fn sources_into_linecache(py: Python<'_>) -> PyResult<()> {
    let sources = match SOURCES.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    };
    if sources.is_empty() {
        return Ok(());
    }
    let cache = py.import("linecache")?.getattr("cache")?;
    let cache = cache.cast::<PyDict>()?;
    for (filename, source) in &sources {
        let lines = PyList::empty(py);
        for line in source.split_inclusive('\n') {
            lines.append(line)?;
        }
        cache.set_item(filename, (source.len(), py.None(), lines, filename))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(code: &str, line: usize) -> Block {
        Block {
            code: code.to_string(),
            file: PathBuf::from("/etc/test-sluice/code.conf"),
            line,
        }
    }

    fn with_py<R>(f: impl FnOnce(Python<'_>) -> R) -> R {
        crate::python::ensure_initialized().expect("interpreter starts");
        Python::attach(f)
    }

    #[test]
    fn globals_reset_per_load_and_names_resolve() {
        with_py(|py| {
            let a = ConfigCode::load(py, None, &[block("x = 1\ndef f():\n    return x\n", 3)])
                .expect("loads");
            let f = a.resolve(py, "f").expect("f defined");
            assert_eq!(f.call0().unwrap().extract::<i64>().unwrap(), 1);
            let b = ConfigCode::load(py, None, &[block("y = 2\n", 1)]).expect("loads");
            assert!(
                b.resolve(py, "x").is_err(),
                "globals of the first load are gone"
            );
            // The first generation's objects keep working.
            assert_eq!(f.call0().unwrap().extract::<i64>().unwrap(), 1);
            assert!(b.resolve(py, "len").is_ok(), "built-ins resolve");
            assert!(b.resolve(py, "os.path.join").is_ok(), "dotted names import");
            assert!(b.resolve(py, "nosuchmodule_sluice.X").is_err());
        });
    }

    #[test]
    fn tracebacks_name_the_config_file_and_line() {
        with_py(|py| {
            let code = ConfigCode::load(
                py,
                None,
                &[block("\ndef boom():\n    raise ValueError('no')\n", 10)],
            )
            .expect("loads");
            let err = code.resolve(py, "boom").unwrap().call0().unwrap_err();
            let e = PythonException::from_err(py, &err);
            assert!(
                e.traceback
                    .contains("File \"/etc/test-sluice/code.conf\", line 12, in boom"),
                "{}",
                e.traceback
            );
            assert!(
                e.traceback.contains("raise ValueError('no')"),
                "{}",
                e.traceback
            );
        });
    }

    #[test]
    fn a_block_that_fails_is_an_exception_with_its_line() {
        with_py(|py| {
            let e = ConfigCode::load(py, None, &[block("def f(:\n", 5)]).unwrap_err();
            assert_eq!(e.kind, "SyntaxError");
            assert!(e.traceback.contains("line 5"), "{}", e.traceback);
            let e = ConfigCode::load(py, None, &[block("x = 1\n1/0\n", 7)]).unwrap_err();
            assert_eq!(e.kind, "ZeroDivisionError");
            assert!(e.traceback.contains("line 8"), "{}", e.traceback);
        });
    }
}
