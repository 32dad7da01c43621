//! Tests of the `syslogng` module, run against the embedded interpreter.
//!
//! The typing mode is global module state; tests never change it (they would race each
//! other) and build 4.x-mode objects with `PyLogMessage::with_compat_3x` instead.

use std::ffi::CString;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::error::PythonException;
use super::logmsg::PyLogMessage;
use crate::message::{LogMessage, ParseOptions, UnixTime, ValueType, parse};

/// Runs `code` in fresh globals (with `extra` bound first) and returns those globals.
fn run<'py>(
    py: Python<'py>,
    code: &str,
    extra: &[(&str, Bound<'py, PyAny>)],
) -> Result<Bound<'py, PyDict>, PythonException> {
    let globals = PyDict::new(py);
    for (k, v) in extra {
        globals
            .set_item(k, v)
            .map_err(|e| PythonException::from_err(py, &e))?;
    }
    let code = CString::new(code).expect("test code has no NUL");
    py.run(&code, Some(&globals), None)
        .map_err(|e| PythonException::from_err(py, &e))?;
    Ok(globals)
}

fn get<'py, T: FromPyObjectOwned<'py>>(g: &Bound<'py, PyDict>, name: &str) -> T {
    g.get_item(name)
        .expect("lookup")
        .unwrap_or_else(|| panic!("{name} not set"))
        .extract::<T>()
        .unwrap_or_else(|_| panic!("{name} has another type"))
}

fn attach<R>(f: impl FnOnce(Python<'_>) -> R) -> R {
    crate::python::ensure_initialized().expect("interpreter starts");
    Python::attach(f)
}

#[test]
fn module_imports_and_messages_construct() {
    attach(|py| {
        let g = run(
            py,
            "import syslogng\n\
             from syslogng import LogMessage, LogDestination, LogParser, Logger\n\
             m = LogMessage('hello')\n\
             b = LogMessage(b'raw bytes')\n\
             e = LogMessage()\n\
             r = (m['MESSAGE'], m['MSG'], b['MESSAGE'], e['MESSAGE'], m.get_pri())\n\
             name = syslogng.__name__\n",
            &[],
        )
        .expect("runs");
        let r: (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, u16) = get(&g, "r");
        assert_eq!(r.0, b"hello");
        assert_eq!(r.1, b"hello");
        assert_eq!(r.2, b"raw bytes");
        assert_eq!(r.3, b"");
        assert_eq!(r.4, 13);
        assert_eq!(get::<String>(&g, "name"), "syslogng");
    });
}

#[test]
fn get_set_del_contains_and_keys_in_3x_mode() {
    attach(|py| {
        let g = run(
            py,
            "from syslogng import LogMessage\n\
             m = LogMessage('x')\n\
             m['custom.field'] = 'v\u{e9}'\n\
             m[b'PROGRAM'] = b'prog'\n\
             a = m['custom.field']\n\
             has = ('custom.field' in m, 'nope' in m, 'DATE' in m)\n\
             missing = m['nope']\n\
             dflt = (m.get('nope'), m.get('nope', 'd'), m.get('PROGRAM'))\n\
             s = (m.get_as_str('custom.field'), m.get_as_str('nope', 'z'))\n\
             keys = m.keys()\n\
             del m['custom.field']\n\
             del m['never.set']\n\
             after = ('custom.field' in m, m['custom.field'])\n\
             try:\n    m['n'] = 5\n    err = None\nexcept ValueError as e:\n    err = str(e)\n\
             try:\n    m['S_STAMP']\n    bl = None\nexcept KeyError as e:\n    bl = str(e)\n\
             try:\n    m[5]\n    kt = None\nexcept TypeError as e:\n    kt = str(e)\n",
            &[],
        )
        .expect("runs");
        assert_eq!(get::<Vec<u8>>(&g, "a"), "vé".as_bytes());
        assert_eq!(get::<(bool, bool, bool)>(&g, "has"), (true, false, true));
        assert_eq!(get::<Vec<u8>>(&g, "missing"), b"");
        let d: (Option<Vec<u8>>, String, Vec<u8>) = get(&g, "dflt");
        assert_eq!(d, (None, "d".to_string(), b"prog".to_vec()));
        assert_eq!(get::<(String, String)>(&g, "s"), ("vé".into(), "z".into()));
        let keys: Vec<Vec<u8>> = get(&g, "keys");
        for k in [
            &b"MESSAGE"[..],
            b"PROGRAM",
            b"custom.field",
            b"DATE",
            b"SOURCEIP",
        ] {
            assert!(
                keys.iter().any(|x| x == k),
                "{:?}",
                String::from_utf8_lossy(k)
            );
        }
        assert!(!keys.iter().any(|x| x == b"S_STAMP"));
        assert_eq!(get::<(bool, Vec<u8>)>(&g, "after"), (false, Vec::new()));
        let err: String = get(&g, "err");
        assert!(
            err.starts_with(
                "str or unicode object expected as log message values, got type int (key n)"
            ),
            "{err}"
        );
        assert!(get::<String>(&g, "bl").contains("Blacklisted attribute S_STAMP"));
        assert_eq!(get::<String>(&g, "kt"), "key is not a string object");
    });
}

#[test]
fn typed_mode_raises_key_error_and_reads_values_back_typed() {
    attach(|py| {
        let m = PyLogMessage::new_wrapped(Arc::new(LogMessage::new(UnixTime::default())))
            .with_compat_3x(false);
        let m = Py::new(py, m).expect("object");
        let obj = m.clone_ref(py).into_bound(py).into_any();
        let g = run(
            py,
            "import datetime\n\
             try:\n    m['nope']\n    ke = None\nexcept KeyError as e:\n    ke = e.args[0]\n\
             m['i'] = 5\n\
             m['f'] = 1.5\n\
             m['b'] = True\n\
             m['n'] = None\n\
             m['l'] = ['a', 'b c', b'd']\n\
             m['s'] = 'text'\n\
             m['PID'] = 42\n\
             m['t'] = datetime.datetime(2022, 2, 2, 10, 23, 45, 123456, tzinfo=datetime.timezone.utc)\n\
             local = datetime.datetime.fromtimestamp(1643797425).replace(microsecond=123000)\n\
             r = [repr(m[k]) for k in ('i', 'f', 'b', 'n', 'l', 's', 'PID')]\n\
             r.append(m['t'] == local and m['t'].tzinfo is None)\n\
             r.append(repr(m.get('i')))\n\
             r.append(repr(m.get('nope')))\n\
             m['i'] = 'again'\n\
             r.append(repr(m['i']))\n\
             try:\n    m['o'] = object()\n    oe = None\nexcept ValueError as e:\n    oe = str(e)\n",
            &[("m", obj)],
        )
        .expect("runs");
        assert_eq!(get::<String>(&g, "ke"), "No such name-value pair nope");
        let r: Vec<Py<PyAny>> = get(&g, "r");
        let r: Vec<String> = r.iter().map(|o| o.bind(py).to_string()).collect();
        assert_eq!(
            r,
            [
                "5",
                "1.5",
                "True",
                "None",
                "[b'a', b'b c', b'd']",
                "b'text'",
                "42",
                "True",
                "5",
                "None",
                "b'again'"
            ]
        );
        assert_eq!(
            get::<String>(&g, "oe"),
            "Error extracting value from Python object"
        );
        // What the message holds: syslog-ng's text forms, with their types.
        let held = m.borrow(py).message().clone();
        let typed = |n: &str| {
            held.nv
                .get_typed(n.as_bytes())
                .map(|(v, t)| (v.to_vec(), t))
        };
        assert_eq!(typed("f"), Some((b"1.500000".to_vec(), ValueType::Double)));
        assert_eq!(typed("l"), Some((b"a,\"b c\",d".to_vec(), ValueType::List)));
        assert_eq!(
            typed("t"),
            Some((b"1643797425.123".to_vec(), ValueType::DateTime))
        );
        assert_eq!(typed("n"), Some((Vec::new(), ValueType::Null)));
        assert_eq!(typed("PID"), Some((b"42".to_vec(), ValueType::Integer)));
        assert_eq!(typed("i"), Some((b"again".to_vec(), ValueType::String)));
    });
}

/// A value whose text does not parse as its type reads as bytes; a binary value as missing
/// (AxoSyslog's rules); 3.x mode reads every type as bytes.
#[test]
fn typed_values_that_do_not_parse_read_as_bytes() {
    attach(|py| {
        let mut msg = LogMessage::new(UnixTime::default());
        msg.set_typed("bad_int", b"12x", ValueType::Integer);
        msg.set_typed("bad_bool", b"maybe", ValueType::Boolean);
        msg.set_typed("yes", b"yes", ValueType::Boolean);
        msg.set_typed("blob", b"\x00\x01", ValueType::Bytes);
        msg.set_typed("d", b"-1.25", ValueType::Double);
        let msg = Arc::new(msg);
        let typed = PyLogMessage::new_wrapped(msg.clone()).with_compat_3x(false);
        let typed = Py::new(py, typed)
            .expect("object")
            .into_bound(py)
            .into_any();
        let bytes = PyLogMessage::new_wrapped(msg).with_compat_3x(true);
        let bytes = Py::new(py, bytes)
            .expect("object")
            .into_bound(py)
            .into_any();
        let g = run(
            py,
            "r = [repr(t[k]) for k in ('bad_int', 'bad_bool', 'yes', 'd')]\n\
             r.append(repr(t.get('blob', 'default')))\n\
             r.append(repr(b['yes']))\n\
             r.append(repr(b['d']))\n",
            &[("t", typed), ("b", bytes)],
        )
        .expect("runs");
        let r: Vec<String> = get(&g, "r");
        assert_eq!(
            r,
            [
                "b'12x'",
                "b'maybe'",
                "True",
                "-1.25",
                "'default'",
                "b'yes'",
                "b'-1.25'"
            ]
        );
    });
}

#[test]
fn read_only_messages_raise_on_every_mutation() {
    attach(|py| {
        let m = PyLogMessage::new_read_only(Arc::new(LogMessage::new(UnixTime::default())));
        let m = Py::new(py, m).expect("object").into_bound(py).into_any();
        let g = run(
            py,
            "errs = []\n\
             for f in (lambda: m.__setitem__('a', 'b'), lambda: m.__delitem__('MESSAGE'),\n\
                       lambda: m.set_pri(3), lambda: m.set_source_ipaddress('1.2.3.4')):\n\
             \x20   try:\n        f()\n        errs.append(None)\n\
             \x20   except TypeError as e:\n        errs.append(str(e))\n\
             readable = m['MESSAGE']\n",
            &[("m", m)],
        )
        .expect("runs");
        let errs: Vec<Option<String>> = get(&g, "errs");
        assert_eq!(errs.len(), 4);
        assert!(errs.iter().all(Option::is_some), "{errs:?}");
        assert_eq!(
            errs[0].as_deref(),
            Some(
                "Log message is read only, cannot set name-value pair a, you are possibly \
                 trying to change a LogMessage from a destination driver,  which is not allowed"
            )
        );
        assert_eq!(get::<Vec<u8>>(&g, "readable"), b"");
    });
}

#[test]
fn destination_constants_defaults_and_subclass_called_from_rust() {
    attach(|py| {
        let g = run(
            py,
            "from syslogng import LogDestination, LogParser\n\
             class D(LogDestination):\n\
             \x20   def __init__(self):\n        self.sent = []\n\
             \x20   def send(self, msg):\n        self.sent.append(msg['MESSAGE'])\n        return self.QUEUED\n\
             d = D()\n\
             consts = tuple(getattr(LogDestination, n) for n in ('DROP', 'ERROR', 'SUCCESS', 'QUEUED', 'NOT_CONNECTED', 'RETRY'))\n\
             inst = (d.SUCCESS, d.RETRY)\n\
             defaults = (d.init({}), d.open(), d.is_opened(), d.close(), d.deinit(), hasattr(d, 'flush'))\n\
             try:\n    LogDestination().send(None)\n    ni = False\nexcept NotImplementedError:\n    ni = True\n\
             class P(LogParser):\n\
             \x20   def parse(self, msg):\n        msg['parsed'] = 'yes'\n        return True\n\
             p = P()\n\
             pinit = p.init({})\n",
            &[],
        )
        .expect("runs");
        assert_eq!(
            get::<(i32, i32, i32, i32, i32, i32)>(&g, "consts"),
            (0, 1, 3, 4, 5, 6)
        );
        assert_eq!(get::<(i32, i32)>(&g, "inst"), (3, 6));
        let defaults: (bool, bool, bool, Option<i32>, Option<i32>, bool) = get(&g, "defaults");
        assert_eq!(defaults, (true, true, true, None, None, false));
        assert!(get::<bool>(&g, "ni"));
        assert!(get::<bool>(&g, "pinit"));

        let d = g.get_item("d").expect("lookup").expect("d");
        let msg = PyLogMessage::new_read_only(Arc::new({
            let mut m = LogMessage::new(UnixTime::default());
            m.set("MESSAGE", b"from rust");
            m
        }));
        let result: i32 = d
            .call_method1("send", (Py::new(py, msg).expect("object"),))
            .and_then(|r| r.extract())
            .expect("send returns QUEUED");
        assert_eq!(result, 4);
        let sent: Vec<Vec<u8>> = d.getattr("sent").and_then(|s| s.extract()).expect("list");
        assert_eq!(sent, vec![b"from rust".to_vec()]);

        let p = g.get_item("p").expect("lookup").expect("p");
        let original = Arc::new(LogMessage::new(UnixTime::default()));
        let obj = Py::new(py, PyLogMessage::new_wrapped(original.clone())).expect("object");
        let kept: bool = p
            .call_method1("parse", (obj.clone_ref(py),))
            .and_then(|r| r.extract())
            .expect("parse");
        assert!(kept);
        let after = obj.borrow(py).message().clone();
        assert_eq!(after.get("parsed"), Some(&b"yes"[..]));
        assert_eq!(original.get("parsed"), None);
    });
}

/// Collects the events emitted on this thread as `(level, target, message)`.
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<(tracing::Level, String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        let m = event.metadata();
        if let Ok(mut v) = self.0.lock() {
            v.push((*m.level(), m.target().to_string(), text.0));
        }
    }
}

#[test]
fn logger_emits_through_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        attach(|py| {
            run(
                py,
                "from syslogng import Logger\n\
                 for lg in (Logger('mine'), Logger()):\n\
                 \x20   lg.error('e'); lg.warning('w'); lg.info('i'); lg.debug('d'); lg.trace('t')\n\
                 try:\n    Logger().info(5)\n    te = False\nexcept TypeError:\n    te = True\n",
                &[],
            )
            .expect("logging does not raise");
        })
    });
    let got = capture.0.lock().expect("not poisoned").clone();
    use tracing::Level;
    let want: Vec<(Level, String, String)> = [
        (Level::ERROR, "python-mine: e"),
        (Level::WARN, "python-mine: w"),
        (Level::INFO, "python-mine: i"),
        (Level::DEBUG, "python-mine: d"),
        (Level::TRACE, "python-mine: t"),
        (Level::ERROR, "e"),
        (Level::WARN, "w"),
        (Level::INFO, "i"),
        (Level::DEBUG, "d"),
        (Level::TRACE, "t"),
    ]
    .into_iter()
    .map(|(l, m)| (l, super::syslogng::LOG_TARGET.to_string(), m.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn parse_uses_the_driver_parse_options() {
    attach(|py| {
        let mut opts = ParseOptions::default();
        opts.flags =
            crate::message::ParseFlags(opts.flags.0 | crate::message::ParseFlags::NO_PARSE);
        let opts = Py::new(py, super::logmsg::PyParseOptions(Arc::new(opts))).expect("object");
        let g = run(
            py,
            "from syslogng import LogMessage\n\
             raw = '<5>Feb  2 10:23:45 HOST program[1]: foobar'\n\
             r = (LogMessage.parse(raw, opts)['MESSAGE'], LogMessage.parse(raw, None)['MESSAGE'])\n",
            &[("opts", opts.into_bound(py).into_any())],
        )
        .expect("runs");
        let r: (Vec<u8>, Vec<u8>) = get(&g, "r");
        assert_eq!(r.0, b"<5>Feb  2 10:23:45 HOST program[1]: foobar");
        assert_eq!(r.1, b"foobar");
    });
}

#[test]
fn python_exception_surfaces_with_its_traceback() {
    attach(|py| {
        let err = run(
            py,
            "from syslogng import LogDestination\n\
             class Bad(LogDestination):\n\
             \x20   def send(self, msg):\n        raise RuntimeError('broken pipe dream')\n\
             Bad().send(None)\n",
            &[],
        )
        .expect_err("raises");
        assert_eq!(err.kind, "RuntimeError");
        assert_eq!(err.message, "broken pipe dream");
        assert!(
            err.traceback
                .starts_with("Traceback (most recent call last):"),
            "{}",
            err.traceback
        );
        assert!(err.traceback.contains("in send"), "{}", err.traceback);
        assert!(
            err.traceback.ends_with("RuntimeError: broken pipe dream\n"),
            "{}",
            err.traceback
        );
        assert!(err.to_string().contains("broken pipe dream"));
    });
}

#[test]
fn rfc3164_round_trip_is_copy_on_write() {
    let raw = b"<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick";
    let mut opts = ParseOptions::default();
    opts.host.keep_hostname = true;
    let original = Arc::new(parse(raw, &opts, None, UnixTime::default()));
    attach(|py| {
        let obj = Py::new(py, PyLogMessage::new_wrapped(original.clone())).expect("object");
        // Nothing is copied until Python writes.
        assert!(Arc::ptr_eq(obj.borrow(py).message(), &original));
        let g = run(
            py,
            "seen = [m['HOST'], m['PROGRAM'], m['PID'], m['MESSAGE'], m['FACILITY'], m['LEVEL']]\n\
             m['PROGRAM'] = 'sudo'\n\
             m['.extra'] = 'added'\n\
             m.set_pri(13)\n",
            &[("m", obj.bind(py).clone().into_any())],
        )
        .expect("runs");
        let seen: Vec<Vec<u8>> = get(&g, "seen");
        let want: [&[u8]; 6] = [
            b"mymachine",
            b"su",
            b"230",
            b"'su root' failed for lonvick",
            b"auth",
            b"crit",
        ];
        assert_eq!(seen, want);
        let after = obj.borrow(py).message().clone();
        assert!(!Arc::ptr_eq(&after, &original));
        assert_eq!(after.get("PROGRAM"), Some(&b"sudo"[..]));
        assert_eq!(after.get(".extra"), Some(&b"added"[..]));
        assert_eq!(after.pri, 13);
    });
    assert_eq!(original.get("PROGRAM"), Some(&b"su"[..]));
    assert_eq!(original.get(".extra"), None);
    assert_eq!(original.pri, 34);
}

#[test]
fn timestamps_source_address_parse_and_bookmark() {
    attach(|py| {
        let g = run(
            py,
            "import datetime\n\
             from syslogng import LogMessage\n\
             tz = datetime.timezone(datetime.timedelta(hours=2))\n\
             m = LogMessage('x')\n\
             m.set_timestamp(datetime.datetime(2022, 2, 2, 10, 23, 45, 500000, tzinfo=tz))\n\
             ts = m.get_timestamp()\n\
             same = (ts == datetime.datetime(2022, 2, 2, 10, 23, 45, 500000, tzinfo=tz), ts.utcoffset().total_seconds())\n\
             iso = m['ISODATE']\n\
             try:\n    m.set_timestamp('now')\n    te = None\nexcept TypeError as e:\n    te = str(e)\n\
             ip = (m.set_source_ipaddress('192.0.2.7', 514), m['SOURCEIP'], m.set_source_ipaddress('bogus'))\n\
             local = LogMessage('y')['SOURCEIP']\n\
             p = LogMessage.parse('<5>2022-02-02T10:23:45+02:00 HOST program[pid]: foobar', None)\n\
             parsed = (p['HOST'], p['PROGRAM'], p['MESSAGE'], p.get_pri())\n\
             m.set_bookmark({'pos': 7})\n",
            &[],
        )
        .expect("runs");
        assert_eq!(get::<(bool, f64)>(&g, "same"), (true, 7200.0));
        assert_eq!(get::<Vec<u8>>(&g, "iso"), b"2022-02-02T10:23:45+02:00");
        assert_eq!(
            get::<String>(&g, "te"),
            "datetime expected in the first parameter"
        );
        assert_eq!(
            get::<(bool, Vec<u8>, bool)>(&g, "ip"),
            (true, b"192.0.2.7".to_vec(), false)
        );
        assert_eq!(get::<Vec<u8>>(&g, "local"), b"127.0.0.1");
        let parsed: (Vec<u8>, Vec<u8>, Vec<u8>, u16) = get(&g, "parsed");
        assert_eq!(
            parsed,
            (b"HOST".to_vec(), b"program".to_vec(), b"foobar".to_vec(), 5)
        );
        let m = g.get_item("m").expect("lookup").expect("m");
        let m = m.cast::<PyLogMessage>().expect("a LogMessage");
        let bookmark = m.borrow().bookmark().map(|b| b.bind(py).to_string());
        assert_eq!(bookmark.as_deref(), Some("{'pos': 7}"));
    });
}

#[test]
fn source_base_classes_carry_syslog_ng_3_38_constants() {
    attach(|py| {
        let g = run(
            py,
            "from syslogng import LogFetcher, LogSource\n\
             class F(LogFetcher):\n    pass\n\
             f = F()\n\
             codes = (F.FETCH_ERROR, F.FETCH_NOT_CONNECTED, F.FETCH_SUCCESS,\n\
                      f.FETCH_TRY_AGAIN, f.FETCH_NO_DATA)\n\
             short = (F.ERROR, F.NOT_CONNECTED, F.SUCCESS, F.TRY_AGAIN, F.NO_DATA)\n\
             from syslogng import LogMessage\n\
             class S(LogSource):\n    def __init__(self, x):\n        self.x = x\n\
             try:\n    S(1).post_message(LogMessage('m'))\n    posted = 'posted'\n\
             except RuntimeError as e:\n    posted = str(e)\n\
             try:\n    S(1).post_message(None)\nexcept TypeError as e:\n    wrong = str(e)\n\
             s = S(1)\ns.auto_close_batches = False\nmanual = s.auto_close_batches\n",
            &[],
        )
        .expect("runs");
        assert_eq!(
            get::<(i32, i32, i32, i32, i32)>(&g, "codes"),
            (0, 1, 2, 3, 4)
        );
        assert_eq!(
            get::<(i32, i32, i32, i32, i32)>(&g, "short"),
            (0, 1, 2, 3, 4)
        );
        assert!(get::<String>(&g, "posted").contains("not running"));
        assert_eq!(
            get::<String>(&g, "wrong"),
            "LogMessage expected in the first parameter"
        );
        assert!(!get::<bool>(&g, "manual"));
    });
}

#[test]
fn ack_trackers_take_a_callable() {
    attach(|py| {
        let g = run(
            py,
            "from syslogng import InstantAckTracker, ConsecutiveAckTracker, BatchedAckTracker\n\
             a = InstantAckTracker(ack_callback=print)\n\
             b = ConsecutiveAckTracker(print)\n\
             c = BatchedAckTracker(timeout=500, batch_size=100, batched_ack_callback=print)\n\
             try:\n    InstantAckTracker(ack_callback=5)\nexcept TypeError as e:\n    bad = str(e)\n",
            &[],
        )
        .expect("runs");
        assert_eq!(
            get::<String>(&g, "bad"),
            "A callable object is expected (ack_callback)"
        );
    });
}

#[test]
fn persist_keeps_typed_values_in_the_persist_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(
        crate::persist::Persist::open(&dir.path().join("p")).expect("persist file"),
    );
    crate::python::persist::set_store(Some(store.clone()));
    attach(|py| {
        let g = run(
            py,
            "from syslogng import Persist\n\
             p = Persist('MyFetcher', defaults={'counter': 1, 'name': 'x'})\n\
             p['counter'] += 1\n\
             p['raw'] = b'\\x00\\xff'\n\
             p['big'] = 2**70\n\
             q = Persist('MyFetcher', defaults={'counter': 100})\n\
             got = (q['counter'], q['name'], q['raw'], q['big'], 'big' in q, 'nope' in q)\n\
             keys = sorted(q)\n\
             try:\n    q['missing']\nexcept KeyError as e:\n    missing = str(e)\n\
             try:\n    q['f'] = 1.5\nexcept TypeError as e:\n    typed = str(e)\n\
             try:\n    Persist('a##b')\nexcept ValueError as e:\n    named = str(e)\n",
            &[],
        )
        .expect("runs");
        let got: (i64, String, Vec<u8>, u128, bool, bool) = get(&g, "got");
        assert_eq!(
            got,
            (2, "x".into(), vec![0, 0xff], 1u128 << 70, true, false)
        );
        assert_eq!(
            get::<Vec<String>>(&g, "keys"),
            vec!["big", "counter", "name", "raw"]
        );
        assert_eq!(
            get::<String>(&g, "missing"),
            "'Persist has no such key: missing'"
        );
        assert_eq!(
            get::<String>(&g, "typed"),
            "Value must be either string, integer or bytes"
        );
        assert_eq!(get::<String>(&g, "named"), "persist name cannot contain ##");
    });
    crate::python::persist::set_store(None);
    assert_eq!(
        store
            .get::<serde_json::Value>("MyFetcher##counter")
            .expect("entry"),
        Some(serde_json::json!({"int": "2"}))
    );
}
