//! Golden tests for filters, rewrites, parsers and log-path routing: every case in
//! tests/golden/pipeline/cases is loaded by sluice, its inputs are parsed and routed, and what
//! each destination gets (and the fields written for it) is compared with what syslog-ng 3.38
//! wrote for the same configuration (tests/golden/pipeline/expected, made by record.sh).
//! syslog-ng is not needed here.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice::config::load::{LoadOptions, load_str};
use sluice::config::model::build;
use sluice::message::timestamp::offset_at;
use sluice::message::{LocalHost, LogMessage, ParseOptions, PeerInfo, UnixTime, parse};
use sluice::pipeline::{BuildEnv, Router};
use sluice::template::{DaemonInfo, RenderContext, Template, TemplateOptions};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/pipeline")
}

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Case {
    text: String,
    fields: Vec<String>,
    inputs: Vec<(String, String)>,
    peer: IpAddr,
}

fn read_case(name: &str) -> Case {
    let text = std::fs::read_to_string(dir().join("cases").join(format!("{name}.conf"))).unwrap();
    let mut fields = vec!["PROGRAM".to_string(), "MSG".to_string()];
    let mut inputs = Vec::new();
    let mut peer = IpAddr::V4(Ipv4Addr::LOCALHOST);
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("# peer:") {
            peer = p.trim().parse().unwrap();
        }
        if let Some(f) = line.strip_prefix("# fields:") {
            fields = f.split_whitespace().map(str::to_string).collect();
        } else if let Some(i) = line.strip_prefix("# input: ") {
            inputs.push(("s_in".to_string(), i.to_string()));
        } else if let Some(i) = line.strip_prefix("# input2: ") {
            inputs.push(("s_in2".to_string(), i.to_string()));
        }
    }
    // All of s_in's inputs are sent before s_in2's.
    inputs.sort_by_key(|(s, _)| s == "s_in2");
    Case {
        text,
        fields,
        inputs,
        peer,
    }
}

fn run_case(name: &str) -> Vec<String> {
    let case = read_case(name);
    let text = case
        .text
        .replace("@PORT@", "55514")
        .replace("@PORT2@", "55515")
        .replace("@OUT@", "/nonexistent")
        .replace("@TEMPLATE@", "$MSG\\n")
        .replace("@DIR@", &dir().to_string_lossy());
    let loaded = load_str(&format!("{name}.conf"), &text, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {}", e.render()));
    let model = build(&loaded.ast).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let env = BuildEnv::new(&model);
    let mut router = Router::build(&model, &env).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let budapest = jiff::tz::TimeZone::get("Europe/Budapest").unwrap();
    router.set_render_options(
        TemplateOptions::default(),
        Arc::new(DaemonInfo {
            local_zone: budapest.clone(),
            ..DaemonInfo::default()
        }),
    );
    let opts = ParseOptions {
        local_time_zone: budapest.clone(),
        local_host: LocalHost::new("localhost"),
        host: sluice::message::HostOptions {
            keep_hostname: true,
            ..Default::default()
        },
        ..ParseOptions::default()
    };
    let peer = PeerInfo {
        addr: Some(case.peer),
        dns_name: Some(Arc::from("localhost")),
    };
    let templates: Vec<Template> = case
        .fields
        .iter()
        .map(|f| Template::new(&format!("${{{f}}}")).unwrap())
        .collect();
    let topts = TemplateOptions::default();
    let daemon = sluice::template::options::default_daemon_info();
    let rcx = RenderContext::new(&topts, &daemon);
    let mut per_dest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let now = recorded_at(name);
    let received = UnixTime::new(now, 0, offset_at(&budapest, now));
    for (src, line) in &case.inputs {
        let mut m: LogMessage = parse(line.as_bytes(), &opts, Some(&peer), received);
        // What the runtime does for a message from a source group: SOURCE and `.source.NAME`.
        m.set("SOURCE", src.as_bytes());
        m.set_tag(sluice::message::TagId::intern(&format!(".source.{src}")));
        let id = router
            .source_id(src)
            .unwrap_or_else(|| panic!("{name}: no source {src}"));
        router.route(id, Arc::new(m), &mut |d, msg| {
            let dest = router.destinations()[d.dest.0 as usize].clone();
            let line: Vec<String> = case
                .fields
                .iter()
                .zip(&templates)
                .map(|(f, t)| {
                    let v = t.render_to_vec(&msg, &rcx);
                    format!("{f}={}", b64(&normalize(f, &v)))
                })
                .collect();
            per_dest
                .entry(dest.clone())
                .or_default()
                .push(format!("{dest} {}", line.join(" ")));
        });
    }
    per_dest.into_values().flatten().collect()
}

/// `$TAGS` is compared as a set: the order syslog-ng prints tags in follows its tag ids,
/// which depend on when each tag was first seen (config load or first message), and that is
/// the template layer's business, not this test's.
fn normalize(field: &str, v: &[u8]) -> Vec<u8> {
    if field != "TAGS" {
        return v.to_vec();
    }
    let mut tags: Vec<&[u8]> = v.split(|&c| c == b',').filter(|t| !t.is_empty()).collect();
    tags.sort();
    tags.join(&b',')
}

/// When a case was recorded (the received time of every input).
fn recorded_at(name: &str) -> i64 {
    std::fs::read_to_string(dir().join("expected").join(format!("{name}.now")))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .expect("expected/NAME.now")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir().join("expected"))
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".out").map(str::to_string)
        })
        .filter(|n| dir().join("cases").join(format!("{n}.conf")).exists())
        .filter(|n| {
            // A case of an SCL block needs syslog-ng's SCL installed (Debian: syslog-ng-scl).
            let text = std::fs::read_to_string(dir().join("cases").join(format!("{n}.conf")))
                .unwrap_or_default();
            let scl = Path::new("/usr/share/syslog-ng/include/scl");
            let runs = !text.contains("@include \"scl.conf\"") || scl.is_dir();
            if !runs {
                eprintln!("skipped case {n}: {} is not installed", scl.display());
            }
            runs
        })
        .collect();
    names.sort();
    names
}

fn decode_line(l: &str) -> String {
    // For readable failure output: FIELD=base64 back to text.
    l.split(' ')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => {
                let bytes = b64_decode(v);
                format!("{k}={:?}", String::from_utf8_lossy(&bytes))
            }
            None => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in chunk {
            n = (n << 6) | if c == b'=' { 0 } else { val(c) };
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3usize.saturating_sub(pad)]);
    }
    out
}

#[test]
fn pipeline_matches_syslog_ng() {
    let mut failures = Vec::new();
    let names = cases();
    assert!(!names.is_empty(), "no golden cases");
    for name in &names {
        let expected: Vec<String> =
            std::fs::read_to_string(dir().join("expected").join(format!("{name}.out")))
                .unwrap()
                .lines()
                .map(|l| {
                    l.split(' ')
                        .map(|kv| match kv.split_once('=') {
                            Some(("TAGS", v)) => {
                                format!("TAGS={}", b64(&normalize("TAGS", &b64_decode(v))))
                            }
                            _ => kv.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
        let got = run_case(name);
        if got != expected {
            let mut report = format!("case {name}: (- syslog-ng, + sluice)\n");
            for l in expected.iter().filter(|l| !got.contains(l)) {
                report += &format!("  - {}\n", decode_line(l));
            }
            for l in got.iter().filter(|l| !expected.contains(l)) {
                report += &format!("  + {}\n", decode_line(l));
            }
            if expected.len() != got.len() {
                report += &format!("  ({} lines expected, {} got)\n", expected.len(), got.len());
            }
            failures.push(report);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
