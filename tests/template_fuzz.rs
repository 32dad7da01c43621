//! Property tests: the template compiler never panics, whatever the text, and rendering a
//! template that compiled never panics, whatever the message.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use proptest::prelude::*;
use sluice::message::{LocalHost, LogMessage, ParseFlags, ParseOptions, PeerInfo, UnixTime, parse};
use sluice::template::{
    CompileEnv, DaemonInfo, OnError, OutputFormat, RenderContext, Template, TemplateOptions,
    TsFormat, WriterFlags, format_message,
};

fn messages(raw: &[u8]) -> Vec<LogMessage> {
    let mut opts = ParseOptions {
        local_time_zone: jiff::tz::TimeZone::UTC,
        local_host: LocalHost::new("h"),
        ..ParseOptions::default()
    };
    let peer = PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        dns_name: Some(Arc::from("localhost")),
    };
    let recvd = UnixTime::new(1_700_000_000, 123_456, 3600);
    let mut out = vec![parse(raw, &opts, Some(&peer), recvd)];
    opts.flags.0 |= ParseFlags::SYSLOG_PROTOCOL;
    let mut m = parse(raw, &opts, Some(&peer), recvd);
    m.set(".json.a.b", raw);
    m.set("x", b"1,2,\"3\"");
    m.set(".SDATA.meta.sequenceId", raw);
    out.push(m);
    out
}

/// Pieces templates are made of, so random ones reach the interesting paths.
const PIECES: &[&str] = &[
    "$",
    "$$",
    "${",
    "}",
    "$(",
    ")",
    "(",
    "\"",
    "'",
    "\\",
    " ",
    ":-",
    "@",
    "@1",
    "@@",
    "MSG",
    "HOST",
    "ISODATE",
    "R_DATE",
    "C_WEEK",
    ".json.a.b",
    "x",
    "echo",
    "if",
    "grep",
    "or",
    "format-json",
    "--scope",
    "everything",
    "--key",
    "--pair",
    "a=int(",
    "--rekey",
    "--shift",
    "--add-prefix",
    "--replace-prefix",
    "x=y",
    "substr",
    "-3",
    "padding",
    "binary",
    "0x41",
    "sanitize",
    "-r",
    "strip",
    "list-slice",
    "1:-1",
    "implode",
    "explode",
    ",",
    "+",
    "/",
    "0",
    "round",
    "sum",
    "md5",
    "--length",
    "url-decode",
    "%zz",
    "base64-encode",
    "indent-multi-line",
    "names",
    "values",
    "==",
    "eq",
    "and",
    "not",
    "\n",
    "é",
    "\u{0}",
    "format-flat-json",
    "--key-delimiter",
    "list-nth",
    "uppercase",
    "context-length",
    "sha1",
    "uuid",
    "dirname",
    "ipv4-to-int",
    "replace-delimiter",
    "length",
    "-",
];

fn template_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(PIECES).prop_map(str::to_owned),
            1 => any::<String>(),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

fn render_all(t: &Template, msgs: &[LogMessage]) {
    let daemon = DaemonInfo::default();
    for (fmt, digits, zone, on_error) in [
        (TsFormat::Bsd, 0, None, OnError::DropMessage),
        (TsFormat::Iso, 9, Some("+05:45"), OnError::DropProperty),
        (
            TsFormat::Unix,
            3,
            Some("America/New_York"),
            OnError::FallbackToString,
        ),
        (TsFormat::Full, 6, None, OnError::DropMessage),
    ] {
        let opts = TemplateOptions {
            ts_format: fmt,
            frac_digits: digits,
            time_zone: zone.and_then(sluice::message::ZoneSpec::parse),
            on_error,
            use_fqdn: false,
        };
        let ctx = RenderContext::new(&opts, &daemon).with_seq_num(7);
        let mut out = Vec::new();
        for m in msgs {
            t.render(m, &ctx, &mut out);
            for f in [
                OutputFormat::File,
                OutputFormat::Network,
                OutputFormat::SyslogProtocol,
            ] {
                format_message(
                    f,
                    Some(t),
                    WriterFlags {
                        no_multi_line: true,
                    },
                    m,
                    &ctx,
                    &mut out,
                );
            }
        }
        let refs: Vec<&LogMessage> = msgs.iter().collect();
        t.render_context(&refs, &ctx, &mut out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn compile_never_panics(text in any::<String>()) {
        let _ = Template::new(&text);
    }

    #[test]
    fn compile_and_render_never_panic(text in template_text(), raw in prop::collection::vec(any::<u8>(), 0..80)) {
        let msgs = messages(&raw);
        for escape in [false, true] {
            let env = CompileEnv { escape, ..CompileEnv::default() };
            if let Ok(t) = Template::compile(&text, &env) {
                render_all(&t, &msgs);
            }
        }
    }

    #[test]
    fn functions_with_random_arguments(
        name in prop::sample::select(CompileEnv::default().functions.names()),
        args in prop::collection::vec(template_text(), 0..5),
        raw in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let text = format!("$({name} {})", args.join(" "));
        if let Ok(t) = Template::new(&text) {
            render_all(&t, &messages(&raw));
        }
    }
}
