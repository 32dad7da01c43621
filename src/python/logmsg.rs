//! `syslogng.LogMessage`: a Python view of a Rust [`LogMessage`].
//!
//! The object holds an `Arc<LogMessage>`: handing a message to Python copies nothing, and
//! the first write from Python clones it only if someone else still holds the `Arc`
//! (`Arc::make_mut`, syslog-ng's `log_msg_make_writable`). Rust gets the result back with
//! [`PyLogMessage::message`].
//!
//! Value typing follows syslog-ng (see `syslogng::set_compat_3x`):
//! * 3.x mode (`@version` < 4.0, the default): values read as `bytes`, a missing name as
//!   `b''`, `S_STAMP`, `C_STAMP` and `_` raise `KeyError` (3.38's blacklist); only `str` and
//!   `bytes` can be assigned, anything else raises 3.38's `ValueError`.
//! * 4.x mode: a missing name raises `KeyError`; `int`, `float`, `bool`, `None`, `list` and
//!   `datetime` can be assigned and are stored in syslog-ng's text form (`5`, `1.500000`,
//!   `true`, empty, a syslog-ng list, `sec.msec`) with their [`ValueType`], and read back as
//!   that type (AxoSyslog's `py_obj_from_log_msg_value`): an integer as `int`, a double as
//!   `float`, a boolean as `bool`, null as `None`, a list as a `list` of `bytes`, a datetime
//!   as a naive local `datetime`; a value whose text does not parse as its type reads as
//!   `bytes`, and a binary (`bytes`/protobuf) value as missing. Strings are `bytes` in both
//!   modes, as in syslog-ng; macros are strings.
//!
//! Reading a name resolves, in order: a built-in value (`MESSAGE`/`MSG`, `HOST`, `PROGRAM`,
//! `PID`...), a macro (`DATE`, `ISODATE`, `R_*`, `S_*`, `FACILITY`, `SOURCEIP`, `MSGHDR`,
//! `SDATA`...; rendered with the module's macro environment, always present), then any
//! other name-value pair. Match groups (`$1`...) are not available.
//!
//! Assignment truncates at the first NUL byte, as syslog-ng (which stores C strings) does.
//! A read-only object (what template functions and destinations get) raises `TypeError` on
//! every mutation.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDateTime, PyDelta, PyDeltaAccess, PyFloat, PyInt, PyList, PyString, PyTzInfo,
};
use pyo3::{PyTraverseError, PyVisit};

use crate::message::{Builtin, LogMessage, ParseOptions, UnixTime, ValueType};
use crate::template::RenderContext;
use crate::template::macros::{Macro, expand};

use super::syslogng::{compat_3x, macro_env};

/// Names 3.38 refuses to read (and leaves out of `keys()`).
const BLACKLIST_3X: [&str; 3] = ["S_STAMP", "_", "C_STAMP"];

/// The `syslogng.LogMessage` class.
#[pyclass(name = "LogMessage", module = "syslogng", subclass)]
pub(crate) struct PyLogMessage {
    msg: Arc<LogMessage>,
    read_only: bool,
    /// 3.x typing (taken from the module state when the object is created).
    cast_to_bytes: bool,
    bookmark: Option<Py<PyAny>>,
}

/// Parse options handed to Python code (a fetcher's `self.parse_options`). Opaque to
/// Python; `LogMessage.parse` uses them.
#[pyclass(name = "ParseOptions", module = "syslogng", frozen)]
pub(crate) struct PyParseOptions(pub(crate) Arc<ParseOptions>);

/// syslog-ng's defaults, built once (host name and zone detection are not free), with the
/// HOST of the text kept: syslog-ng's `msg_format_parse` does not apply the host-name rules,
/// the source does when the message is posted.
static DEFAULT_PARSE_OPTIONS: LazyLock<Arc<ParseOptions>> = LazyLock::new(|| {
    let mut o = ParseOptions::default();
    o.host.keep_hostname = true;
    Arc::new(o)
});

impl PyLogMessage {
    /// A writable view of `msg` in the current typing mode.
    pub(crate) fn new_wrapped(msg: Arc<LogMessage>) -> PyLogMessage {
        PyLogMessage {
            msg,
            read_only: false,
            cast_to_bytes: compat_3x(),
            bookmark: None,
        }
    }

    /// A view of `msg` on which every mutation raises (template functions, destinations).
    pub(crate) fn new_read_only(msg: Arc<LogMessage>) -> PyLogMessage {
        PyLogMessage {
            read_only: true,
            ..PyLogMessage::new_wrapped(msg)
        }
    }

    /// The same view with the typing mode given explicitly (the driver knows the
    /// configuration's version; tests must not flip the global flag).
    pub(crate) fn with_compat_3x(mut self, compat: bool) -> PyLogMessage {
        self.cast_to_bytes = compat;
        self
    }

    /// The message as it is now (modifications from Python included).
    pub(crate) fn message(&self) -> &Arc<LogMessage> {
        &self.msg
    }

    /// Takes the message out to be posted by a source (the poster copies it only if it is
    /// shared). The view is left empty until [`PyLogMessage::share`] gives it the posted
    /// message back.
    pub(crate) fn take_message(&mut self) -> Arc<LogMessage> {
        static EMPTY: LazyLock<Arc<LogMessage>> =
            LazyLock::new(|| Arc::new(LogMessage::new(UnixTime::new(0, 0, 0))));
        std::mem::replace(&mut self.msg, EMPTY.clone())
    }

    /// Makes the view show `msg` (what a source posted, shared with the queues: a later
    /// write from Python copies it first, so what was posted does not change).
    pub(crate) fn share(&mut self, msg: Arc<LogMessage>) {
        self.msg = msg;
    }

    /// What `set_bookmark()` stored (or the constructor's `bookmark`); the ack
    /// tracker of the source that posts the message reports it.
    pub(crate) fn bookmark(&self) -> Option<&Py<PyAny>> {
        self.bookmark.as_ref()
    }

    /// The Python object for `name` in this view's typing mode, `None` when missing.
    fn value(&self, py: Python<'_>, name: &str) -> PyResult<Option<Py<PyAny>>> {
        match lookup_typed(&self.msg, name) {
            None => Ok(None),
            Some((v, _)) if self.cast_to_bytes => {
                Ok(Some(PyBytes::new(py, &v).into_any().unbind()))
            }
            Some((v, ty)) => typed_to_py(py, &v, ty),
        }
    }

    fn check_writable(&self, what: &str) -> PyResult<()> {
        if self.read_only {
            return Err(PyTypeError::new_err(format!(
                "Log message is read only, cannot set {what}, you are possibly trying to \
                 change a LogMessage from a destination driver,  which is not allowed"
            )));
        }
        Ok(())
    }

    /// The message to modify (cloned first when another holder shares it).
    fn writable(&mut self, what: &str) -> PyResult<&mut LogMessage> {
        self.check_writable(what)?;
        Ok(Arc::make_mut(&mut self.msg))
    }
}

/// The value Python sees for `name`, `None` when it is not set.
fn lookup<'m>(msg: &'m LogMessage, name: &str) -> Option<Cow<'m, [u8]>> {
    lookup_typed(msg, name).map(|(v, _)| v)
}

/// The value Python sees for `name` with its type, `None` when it is not set.
fn lookup_typed<'m>(msg: &'m LogMessage, name: &str) -> Option<(Cow<'m, [u8]>, ValueType)> {
    let typed = |(v, t): (&'m [u8], ValueType)| (Cow::Borrowed(v), t);
    match Builtin::from_name(name.as_bytes()) {
        Some(Builtin::SourceIp) | None => {}
        Some(_) => return msg.nv.get_typed(name.as_bytes()).map(typed),
    }
    if let Some(m) = Macro::lookup(name) {
        let env = macro_env();
        let ctx = RenderContext::new(&env.options, &env.daemon);
        let mut out = Vec::new();
        expand(m, msg, &ctx, false, &mut out);
        return Some((Cow::Owned(out), ValueType::String));
    }
    msg.nv.get_typed(name.as_bytes()).map(typed)
}

/// A stored value as Python sees it in 4.x mode (`None`: treat it as missing — a binary
/// value, which has no Python class yet).
fn typed_to_py(py: Python<'_>, value: &[u8], ty: ValueType) -> PyResult<Option<Py<PyAny>>> {
    let text = std::str::from_utf8(value).ok().map(str::trim);
    let obj = match ty {
        ValueType::Integer => text
            .and_then(|t| t.parse::<i64>().ok())
            .map(|i| i.into_pyobject(py).map(|o| o.into_any().unbind()))
            .transpose()?,
        ValueType::Double => text
            .and_then(|t| t.parse::<f64>().ok())
            .map(|d| PyFloat::new(py, d).into_any().unbind()),
        ValueType::Boolean => text
            .and_then(parse_bool)
            .map(|b| PyBool::new(py, b).to_owned().into_any().unbind()),
        ValueType::Null => Some(py.None()),
        ValueType::List => Some(list_to_py(py, value)?.into_any().unbind()),
        ValueType::DateTime => match text.and_then(parse_msec) {
            Some(msec) => Some(local_datetime(py, msec)?),
            None => None,
        },
        ValueType::Bytes | ValueType::Protobuf => return Ok(None),
        ValueType::String | ValueType::Json => None,
    };
    // A value whose text does not parse as its type reads as bytes, as in AxoSyslog.
    Ok(Some(obj.unwrap_or_else(|| {
        PyBytes::new(py, value).into_any().unbind()
    })))
}

/// A syslog-ng list (`a,"b c"`) as a Python `list` of `bytes`.
pub(crate) fn list_to_py<'py>(py: Python<'py>, value: &[u8]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in crate::template::functions::list::scan(value) {
        list.append(PyBytes::new(py, &item))?;
    }
    Ok(list)
}

/// syslog-ng's boolean spellings.
pub(crate) fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// `sec[.frac]` (how a datetime value is stored) as milliseconds since the epoch.
fn parse_msec(t: &str) -> Option<i64> {
    let (sec, frac) = t.split_once('.').unwrap_or((t, ""));
    let sec: i64 = sec.parse().ok()?;
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let ms: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    let ms = if sec < 0 || t.starts_with('-') {
        -ms
    } else {
        ms
    };
    sec.checked_mul(1000)?.checked_add(ms)
}

/// A naive `datetime` of local wall-clock time (AxoSyslog's `py_datetime_from_msec`).
fn local_datetime(py: Python<'_>, msec: i64) -> PyResult<Py<PyAny>> {
    let datetime = py.import("datetime")?.getattr("datetime")?;
    let secs = msec.div_euclid(1000);
    let micros = msec.rem_euclid(1000) * 1000;
    let dt = datetime.call_method1("fromtimestamp", (secs,))?;
    let kwargs = pyo3::types::IntoPyDict::into_py_dict([("microsecond", micros)], py)?;
    let dt = dt.call_method("replace", (), Some(&kwargs))?;
    Ok(dt.unbind())
}

/// A key as syslog-ng takes it: `str` (UTF-8) or `bytes`.
fn key_name(key: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = key.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    if let Ok(b) = key.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    Err(PyTypeError::new_err("key is not a string object"))
}

/// `str` as UTF-8 or `bytes` as they are; `None` for other types.
pub(crate) fn str_or_bytes(value: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(s.to_str()?.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    Ok(None)
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// The bytes and type stored for an assigned value in 4.x mode (syslog-ng's
/// `py_obj_to_log_msg_value`).
pub(crate) fn typed_value(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
) -> PyResult<(Vec<u8>, ValueType)> {
    let bytes = typed_text(py, value)?;
    let ty = if value.is_exact_instance_of::<PyString>() || value.is_exact_instance_of::<PyBytes>()
    {
        ValueType::String
    } else if value.is_exact_instance_of::<PyInt>() {
        ValueType::Integer
    } else if value.is_exact_instance_of::<PyFloat>() {
        ValueType::Double
    } else if value.is_instance_of::<PyBool>() {
        ValueType::Boolean
    } else if value.is_none() {
        ValueType::Null
    } else if value.is_exact_instance_of::<PyList>() {
        ValueType::List
    } else {
        ValueType::DateTime
    };
    Ok((bytes, ty))
}

/// The text form of an assigned value in 4.x mode.
fn typed_text(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if value.is_exact_instance_of::<PyString>() || value.is_exact_instance_of::<PyBytes>() {
        return Ok(str_or_bytes(value)?.unwrap_or_default());
    }
    if value.is_exact_instance_of::<PyInt>() {
        return Ok(value.extract::<i64>()?.to_string().into_bytes());
    }
    if value.is_exact_instance_of::<PyFloat>() {
        let d = value.extract::<f64>()?;
        let text = if d.is_nan() {
            "nan".to_string()
        } else {
            format!("{d:.6}")
        };
        return Ok(text.into_bytes());
    }
    if value.is_instance_of::<PyBool>() {
        let b = value.extract::<bool>()?;
        return Ok(if b {
            b"true".to_vec()
        } else {
            b"false".to_vec()
        });
    }
    if value.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(list) = value.cast_exact::<PyList>() {
        let mut items = Vec::with_capacity(list.len());
        for item in list.iter() {
            let Some(b) = str_or_bytes(&item)? else {
                return Err(PyValueError::new_err("Error extracting value from list"));
            };
            items.push(b);
        }
        let mut out = Vec::new();
        crate::template::functions::list::push_list(&mut out, items.iter().map(|v| &v[..]));
        return Ok(out);
    }
    if value.is_instance_of::<PyDateTime>() {
        let t = datetime_to_unix(py, value)?;
        return Ok(format!("{}.{:03}", t.sec, t.usec / 1000).into_bytes());
    }
    Err(PyValueError::new_err(
        "Error extracting value from Python object",
    ))
}

/// A `datetime` as a stamp: an aware one exactly, with its offset; a naive one as local
/// time (what `datetime.astimezone()` assumes), with the local offset then.
fn datetime_to_unix(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<UnixTime> {
    let dt = value
        .cast::<PyDateTime>()
        .map_err(|_| PyTypeError::new_err("datetime expected in the first parameter"))?;
    let aware = if dt.call_method0("utcoffset")?.is_none() {
        dt.call_method0("astimezone")?
    } else {
        dt.clone().into_any()
    };
    let offset = aware.call_method0("utcoffset")?;
    let offset = offset.cast::<PyDelta>()?;
    let gmtoff = i64::from(offset.get_days()) * 86_400 + i64::from(offset.get_seconds());
    let utc = PyTzInfo::utc(py)?.to_owned();
    let epoch = PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc))?;
    let since = aware.call_method1("__sub__", (epoch,))?;
    let since = since.cast::<PyDelta>()?;
    Ok(UnixTime {
        sec: i64::from(since.get_days()) * 86_400 + i64::from(since.get_seconds()),
        usec: u32::try_from(since.get_microseconds()).unwrap_or(0),
        gmtoff: i32::try_from(gmtoff).unwrap_or(0),
    })
}

/// A stamp as an aware `datetime` in the stamp's own offset.
fn unix_to_datetime<'py>(py: Python<'py>, t: &UnixTime) -> PyResult<Bound<'py, PyDateTime>> {
    let bad = |e: jiff::Error| PyValueError::new_err(format!("timestamp out of range: {e}"));
    let ts = jiff::Timestamp::new(t.sec, 0).map_err(bad)?;
    let offset = jiff::tz::Offset::from_seconds(t.gmtoff).map_err(bad)?;
    let wall = offset.to_datetime(ts);
    let delta = PyDelta::new(py, 0, t.gmtoff, 0, true)?;
    let tz = PyTzInfo::fixed_offset(py, delta)?;
    PyDateTime::new(
        py,
        i32::from(wall.year()),
        wall.month() as u8,
        wall.day() as u8,
        wall.hour() as u8,
        wall.minute() as u8,
        wall.second() as u8,
        t.usec.min(999_999),
        Some(&tz),
    )
}

/// syslog-ng stores C strings: a value ends at its first NUL.
fn c_string(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(p) = memchr::memchr(0, &v) {
        v.truncate(p);
    }
    v
}

fn local_zone() -> &'static jiff::tz::TimeZone {
    static TZ: LazyLock<jiff::tz::TimeZone> = LazyLock::new(jiff::tz::TimeZone::system);
    &TZ
}

/// Now, in the local zone, with the zone's offset looked up once per second per thread (a
/// Python source makes messages by the million: the lookup was a good part of the cost).
fn now_local() -> UnixTime {
    thread_local! {
        static OFFSET: std::cell::Cell<(i64, i32)> = const { std::cell::Cell::new((i64::MIN, 0)) };
    }
    let now = jiff::Timestamp::now();
    let sec = now.as_second();
    let usec = now.subsec_microsecond().max(0) as u32;
    let gmtoff = OFFSET.with(|c| {
        let (at, off) = c.get();
        if at == sec {
            return off;
        }
        let off = crate::message::timestamp::offset_at(local_zone(), sec);
        c.set((sec, off));
        off
    });
    UnixTime::new(sec, usec, gmtoff)
}

#[pymethods]
impl PyLogMessage {
    /// `LogMessage(message=None, bookmark=None)`: an empty message received now, with
    /// `message` (str or bytes) as MESSAGE.
    #[new]
    #[pyo3(signature = (message=None, bookmark=None))]
    fn py_new(
        py: Python<'_>,
        message: Option<&Bound<'_, PyAny>>,
        bookmark: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let mut msg = LogMessage::new(now_local());
        if let Some(m) = message.filter(|m| !m.is_none()) {
            let Some(text) = str_or_bytes(m)? else {
                return Err(PyTypeError::new_err(format!(
                    "LogMessage() argument 1 must be str, bytes or None, not {}",
                    type_name(m)
                )));
            };
            // Room for what a source adds when it is posted (HOST, HOST_FROM, SOURCE).
            msg.nv.reserve(text.len() + 64);
            msg.set_builtin(Builtin::Message, &text);
        }
        let mut me = PyLogMessage::new_wrapped(Arc::new(msg));
        me.bookmark = bookmark.filter(|b| !b.is_none(py));
        Ok(me)
    }

    /// `LogMessage.parse(raw_msg, parse_options)`: parses like a source would. Options other
    /// than a `ParseOptions` object from the driver (not wired yet) mean syslog-ng's
    /// defaults.
    #[staticmethod]
    #[pyo3(signature = (raw_msg, parse_options=None))]
    fn parse(
        raw_msg: &Bound<'_, PyAny>,
        parse_options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyLogMessage> {
        let Some(raw) = str_or_bytes(raw_msg)? else {
            return Err(PyTypeError::new_err(format!(
                "parse() argument 1 must be str or bytes, not {}",
                type_name(raw_msg)
            )));
        };
        let opts = match parse_options.and_then(|o| o.cast::<PyParseOptions>().ok()) {
            Some(o) => o.get().0.clone(),
            None => DEFAULT_PARSE_OPTIONS.clone(),
        };
        let received = UnixTime::now(&opts.local_time_zone);
        let msg = crate::message::parse(&raw, &opts, None, received);
        Ok(PyLogMessage::new_wrapped(Arc::new(msg)))
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        let name = key_name(key)?;
        if self.cast_to_bytes && BLACKLIST_3X.contains(&name.as_str()) {
            return Err(PyKeyError::new_err(format!(
                "Blacklisted attribute {name} was requested"
            )));
        }
        match self.value(py, &name)? {
            Some(v) => Ok(v),
            None if self.cast_to_bytes => Ok(PyBytes::new(py, b"").into_any().unbind()),
            None => Err(PyKeyError::new_err(format!(
                "No such name-value pair {name}"
            ))),
        }
    }

    fn __setitem__(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let name = key_name(key)?;
        let what = format!("name-value pair {name}");
        self.check_writable(&what)?;
        let (bytes, ty) = if self.cast_to_bytes {
            match str_or_bytes(value)? {
                Some(b) => (b, ValueType::String),
                None => {
                    return Err(PyValueError::new_err(format!(
                        "str or unicode object expected as log message values, got type {} \
                         (key {name}). Earlier syslog-ng accepted any type, implicitly \
                         converting it to a string. With this version please convert it \
                         explicitly to a string using str()",
                        type_name(value)
                    )));
                }
            }
        } else {
            typed_value(py, value)?
        };
        let bytes = c_string(bytes);
        self.writable(&what)?.set_typed(&name, &bytes, ty);
        Ok(())
    }

    /// Unsets a value (a name that is not set is left alone, as `unset()` does).
    fn __delitem__(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = key_name(key)?;
        let what = format!("name-value pair {name}");
        self.check_writable(&what)?;
        if lookup(&self.msg, &name).is_none() {
            return Ok(());
        }
        self.writable(&what)?.unset(&name);
        Ok(())
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(lookup(&self.msg, &key_name(key)?).is_some())
    }

    /// The value of `key`, `default` when it is not set.
    #[pyo3(signature = (key, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match self.value(py, &key_name(key)?)? {
            Some(v) => Ok(v),
            None => Ok(default.unwrap_or_else(|| py.None())),
        }
    }

    /// The value of `key` decoded to `str` (`repr` is accepted for syslog-ng compatibility;
    /// `internal` is the only representation).
    #[pyo3(signature = (key, default=None, encoding="utf-8", errors="strict", repr="internal"))]
    fn get_as_str(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
        encoding: &str,
        errors: &str,
        repr: &str,
    ) -> PyResult<Py<PyAny>> {
        let _ = repr;
        if let Some(v) = lookup(&self.msg, &key_name(key)?) {
            let decoded = PyBytes::new(py, &v).call_method1("decode", (encoding, errors))?;
            return Ok(decoded.unbind());
        }
        match default {
            None => Ok(py.None()),
            Some(d) if d.bind(py).is_none() || d.bind(py).is_instance_of::<PyString>() => Ok(d),
            Some(_) => Err(PyTypeError::new_err("default is not a string object")),
        }
    }

    /// Every set name, then every macro name, as `bytes` (as syslog-ng lists them).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (name, _) in self.msg.nv.iter() {
            if name != Builtin::SourceIp.name().as_bytes() {
                list.append(PyBytes::new(py, name))?;
            }
        }
        for name in Macro::all_names() {
            let shadowed = !matches!(
                Builtin::from_name(name.as_bytes()),
                None | Some(Builtin::SourceIp)
            );
            if shadowed || (self.cast_to_bytes && BLACKLIST_3X.contains(name)) {
                continue;
            }
            list.append(PyBytes::new(py, name.as_bytes()))?;
        }
        Ok(list)
    }

    /// Sets the priority (`facility * 8 + severity`; kept as 16 bits, as syslog-ng does).
    fn set_pri(&mut self, pri: u32) -> PyResult<()> {
        self.writable("the priority")?.pri = (pri & 0xffff) as u16;
        Ok(())
    }

    fn get_pri(&self) -> u16 {
        self.msg.pri
    }

    /// Sets the message's own stamp from a `datetime` (naive ones are local time).
    fn set_timestamp(&mut self, py: Python<'_>, timestamp: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = datetime_to_unix(py, timestamp)?;
        self.writable("the timestamp")?.stamp = t;
        Ok(())
    }

    /// The message's own stamp as an aware `datetime` in the stamp's offset.
    fn get_timestamp<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        unix_to_datetime(py, &self.msg.stamp)
    }

    /// Sets SOURCEIP; False when `ip` is not an address. The port is accepted but not kept
    /// (messages do not record the peer's port yet).
    #[pyo3(signature = (ip, port=0))]
    fn set_source_ipaddress(&mut self, ip: Option<&str>, port: u32) -> PyResult<bool> {
        let _ = port;
        let Some(addr) = ip.and_then(|i| i.parse::<IpAddr>().ok()) else {
            return Ok(false);
        };
        let text = crate::message::options::format_ip(addr);
        self.writable("the source address")?
            .set_builtin(Builtin::SourceIp, text.as_str().as_bytes());
        Ok(true)
    }

    /// Stores the bookmark the source's ack tracker reports when the message is delivered.
    fn set_bookmark(&mut self, bookmark: Py<PyAny>) {
        self.bookmark = Some(bookmark);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(b) = &self.bookmark {
            visit.call(b)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.bookmark = None;
    }
}
