//! Golden tests: render every case of tests/golden/templates/cases.txt for the messages in
//! tests/golden/templates/inputs, parsed the way each group in groups.txt configures the
//! source, and compare byte for byte with what syslog-ng 3.38 wrote
//! (tests/golden/templates/expected, made by record.sh). syslog-ng is not needed here.
//!
//! What syslog-ng knew that the bytes do not show is replayed: the received stamp and
//! `$SEQNUM` of each message (expected/GROUP/_meta.out), the values the config's rewrite set
//! (values.txt), the source's tags and name, this machine's name (expected/meta.txt).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice::message::{
    LocalHost, LogMessage, ParseOptions, PeerInfo, TagId, UnixTime, UseDns, ZoneSpec, parse,
};
use sluice::template::formats::push_octet_counted;
use sluice::template::{
    CompileEnv, DaemonInfo, OnError, OutputFormat, RenderContext, Template, TemplateOptions,
    TsFormat, WriterFlags, format_message, seq_num_for,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/templates")
}

/// The text of a double-quoted syslog-ng config string, as its lexer reads it.
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'a' => out.push(7),
                b'v' => out.push(11),
                b'x' => {
                    let h = std::str::from_utf8(&b[i + 1..(i + 3).min(b.len())]).unwrap();
                    out.push(u8::from_str_radix(h, 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn table(name: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir().join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.splitn(3, '|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// `name(arg) name(arg)...` words of an options column.
fn options(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        let key = rest[..open].trim().to_string();
        let close = rest[open..].find(')').unwrap() + open;
        let arg = rest[open + 1..close].trim().trim_matches('"').to_string();
        out.push((key, arg));
        rest = &rest[close + 1..];
    }
    out
}

fn meta_value(key: &str) -> String {
    std::fs::read_to_string(dir().join("expected/meta.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap()
}

struct Received {
    stamp: UnixTime,
    seq_num: u32,
}

fn received(group: &str) -> Vec<Received> {
    let text =
        std::fs::read_to_string(dir().join("expected").join(group).join("_meta.out")).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let off = f[2];
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let gmtoff = sign
                * (off[1..3].parse::<i32>().unwrap() * 3600
                    + off[4..6].parse::<i32>().unwrap() * 60);
            Received {
                stamp: UnixTime::new(f[0].parse().unwrap(), f[1].parse().unwrap(), gmtoff),
                seq_num: f[3].parse().unwrap(),
            }
        })
        .collect()
}

fn messages(
    group: &str,
    input: &str,
    src_opts: &str,
    tags: &[TagId],
) -> (Vec<LogMessage>, Vec<u32>) {
    let mut opts = ParseOptions {
        local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest").unwrap(),
        local_host: LocalHost::new(&meta_value("fqdn")),
        ..ParseOptions::default()
    };
    opts.host.keep_hostname = true;
    opts.host.use_dns = UseDns::No;
    opts.host.group_name = Arc::from("s_in");
    for (k, v) in options(src_opts) {
        match k.as_str() {
            "flags" => {
                for f in v.split(',') {
                    assert!(opts.flags.apply(f.trim()), "flag {f}");
                }
            }
            other => panic!("source option {other} not interpreted"),
        }
    }
    let values: Vec<(String, String)> = std::fs::read_to_string(dir().join("values.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (n, v) = l.split_once('=').unwrap();
            (n.to_string(), unescape(v))
        })
        .collect();
    let peer = PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        dns_name: None,
    };
    let raw = std::fs::read(dir().join("inputs").join(input)).unwrap();
    let recvd = received(group);
    let lines: Vec<&[u8]> = raw
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), recvd.len(), "{group}: message count");
    let mut msgs = Vec::new();
    let mut seqs = Vec::new();
    for (line, r) in lines.iter().zip(&recvd) {
        let mut m = parse(line, &opts, Some(&peer), r.stamp);
        m.set("SOURCE", b"s_in");
        for t in tags {
            m.set_tag(*t);
        }
        for (n, v) in &values {
            m.set(n, v.as_bytes());
        }
        assert_eq!(
            seq_num_for(&m, 0),
            r.seq_num,
            "{group}: $SEQNUM of {line:?}"
        );
        seqs.push(r.seq_num);
        msgs.push(m);
    }
    (msgs, seqs)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    File,
    Network,
    Syslog,
}

struct Case {
    name: String,
    kind: Kind,
    template: Option<Template>,
    options: TemplateOptions,
    format: OutputFormat,
    flags: WriterFlags,
}

fn case(row: &[String]) -> Case {
    let (name, mut opts, tmpl) = (row[0].clone(), row[1].as_str(), row[2].as_str());
    let mut kind = Kind::File;
    if let Some(r) = opts.strip_prefix("network:") {
        kind = Kind::Network;
        opts = r;
    } else if let Some(r) = opts.strip_prefix("syslog:") {
        kind = Kind::Syslog;
        opts = r;
    }
    let mut o = TemplateOptions::default();
    let mut env = CompileEnv::default();
    let mut format = match kind {
        Kind::File => OutputFormat::File,
        Kind::Network => OutputFormat::Network,
        Kind::Syslog => OutputFormat::SyslogProtocol,
    };
    let mut flags = WriterFlags::default();
    for (k, v) in options(opts) {
        match k.as_str() {
            "ts-format" => o.ts_format = TsFormat::parse(&v).unwrap(),
            "frac-digits" => o.frac_digits = v.parse().unwrap(),
            "time-zone" => o.time_zone = Some(ZoneSpec::parse(&v).unwrap()),
            "template-escape" => env.escape = v == "yes",
            "on-error" => o.on_error = OnError::parse(&v).unwrap(),
            "flags" => {
                for f in v.split(',') {
                    match f.trim() {
                        "syslog-protocol" => format = OutputFormat::SyslogProtocol,
                        "no-multi-line" => flags.no_multi_line = true,
                        other => panic!("flag {other}"),
                    }
                }
            }
            other => panic!("destination option {other} not interpreted"),
        }
    }
    let template = (tmpl != "-").then(|| {
        Template::compile(&unescape(tmpl), &env).unwrap_or_else(|e| panic!("{name}: {e}"))
    });
    Case {
        name,
        kind,
        template,
        options: o,
        format,
        flags,
    }
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

#[test]
fn golden_templates() {
    // Tag ids in the order syslog-ng registered them (source tags, then the source's own).
    let tags: Vec<TagId> = ["t1", "t2", ".source.s_in"]
        .iter()
        .map(|t| TagId::intern(t))
        .collect();
    let daemon = DaemonInfo {
        local_host: LocalHost {
            short: Arc::from(meta_value("hostname").as_str()),
            fqdn: Arc::from(meta_value("fqdn").as_str()),
        },
        run_id: 1,
        host_id: 0,
        started: std::time::Instant::now(),
        local_zone: jiff::tz::TimeZone::get("Europe/Budapest").unwrap(),
    };
    let cases: Vec<Case> = table("cases.txt").iter().map(|r| case(r)).collect();
    let known: Vec<String> = table("known_differences.txt")
        .iter()
        .map(|r| r[0].clone())
        .collect();
    let mut skipped = 0;
    let mut errs = String::new();
    let mut checked = 0;
    for g in table("groups.txt") {
        let (group, input, src) = (&g[0], &g[1], &g[2]);
        let (msgs, seqs) = messages(group, input, src, &tags);
        for c in &cases {
            let path = dir()
                .join("expected")
                .join(group)
                .join(format!("{}.out", c.name));
            let Ok(want) = std::fs::read(&path) else {
                let _ = writeln!(errs, "{group}/{}: no golden file", c.name);
                continue;
            };
            let mut pos = 0;
            let mut line = Vec::new();
            for (i, (m, seq)) in msgs.iter().zip(&seqs).enumerate() {
                let ctx = RenderContext::new(&c.options, &daemon).with_seq_num(*seq);
                line.clear();
                if c.kind == Kind::Syslog {
                    let mut payload = Vec::new();
                    format_message(
                        c.format,
                        c.template.as_ref(),
                        c.flags,
                        m,
                        &ctx,
                        &mut payload,
                    );
                    push_octet_counted(&mut line, &payload);
                } else {
                    format_message(c.format, c.template.as_ref(), c.flags, m, &ctx, &mut line);
                }
                checked += 1;
                if want[pos..].starts_with(&line) {
                    pos += line.len();
                } else if known.contains(&format!("{group}/{}/{i}", c.name)) {
                    // Documented in known_differences.txt: skip syslog-ng's line.
                    let end = want[pos..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(want.len(), |p| pos + p + 1);
                    pos = end;
                    skipped += 1;
                } else {
                    let end = want[pos..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(want.len(), |p| pos + p + 1);
                    let _ = writeln!(
                        errs,
                        "{group}/{} message {i}:\n  want {}\n  got  {}",
                        c.name,
                        show(&want[pos..end]),
                        show(&line)
                    );
                    break;
                }
            }
            if errs.is_empty() && pos != want.len() {
                let _ = writeln!(
                    errs,
                    "{group}/{}: {} bytes left over",
                    c.name,
                    want.len() - pos
                );
            }
        }
    }
    assert!(errs.is_empty(), "mismatches ({checked} renders):\n{errs}");
    assert_eq!(skipped, known.len(), "every known difference still occurs");
}

/// What syslog-ng refused to load is refused here too.
#[test]
fn golden_compile_errors() {
    let text = std::fs::read_to_string(dir().join("expected/compile_errors.txt")).unwrap();
    let cases = table("cases.txt");
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (name, msg) = line.split_once(" | ").unwrap();
        let row = cases.iter().find(|r| r[0] == name).unwrap();
        let r = Template::compile(&unescape(&row[2]), &CompileEnv::default());
        assert!(r.is_err(), "{name} compiled, syslog-ng said: {msg}");
    }
}
