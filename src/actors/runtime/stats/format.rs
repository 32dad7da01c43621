//! The forms stats rows are shown in, each as syslog-ng writes it: the CSV of
//! `syslog-ng-ctl stats`, the replies of `query`, the legacy Prometheus text of AxoSyslog's
//! `stats prometheus`, and the "Log statistics" line of `stats-freq()`.

use std::fmt::Write as _;

use super::{Row, glob_matches};

/// `syslog-ng-ctl stats`: the header (unless `header` is false) and one line per row.
pub fn csv(rows: &[Row], header: bool) -> String {
    let mut out = String::new();
    if header {
        out.push_str("SourceName;SourceId;SourceInstance;State;Type;Number\n");
    }
    for r in rows {
        let _ = writeln!(
            out,
            "{};{};{};{};{};{}",
            r.component,
            csv_field(&r.id),
            csv_field(&r.instance),
            r.state.letter(),
            r.kind,
            r.value
        );
    }
    out
}

/// A field as syslog-ng's `stats_format_csv_escapevar`: control characters and backslashes
/// escaped, and quoted (with `"` escaped) when it holds `;` or `"`.
pub(super) fn csv_field(s: &str) -> String {
    let quote = s.contains(';') || s.contains('"');
    let mut out = String::with_capacity(s.len() + 2);
    if quote {
        out.push('"');
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' if quote => out.push_str("\\\""),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if quote {
        out.push('"');
    }
    out
}

/// What a `QUERY` command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    List,
    Get,
    GetSum,
}

/// A `QUERY` reply body over `rows`, as syslog-ng's stats-query-commands: names, or
/// `name=value` lines, or the sum; with `reset`, the matching counters are then set to 0
/// and a line says so. Nothing matched gives an empty body.
pub fn query(rows: &[Row], kind: QueryKind, pattern: &str, reset: bool) -> String {
    let pattern = if pattern.is_empty() { "*" } else { pattern };
    let matching: Vec<&Row> = rows
        .iter()
        .filter(|r| glob_matches(pattern, &r.query_name()))
        .collect();
    let mut out = String::new();
    match kind {
        QueryKind::List => {
            for r in &matching {
                let _ = writeln!(out, "{}", r.query_name());
            }
        }
        QueryKind::Get => {
            for r in &matching {
                let _ = writeln!(out, "{}={}", r.query_name(), r.value);
            }
        }
        QueryKind::GetSum if !matching.is_empty() => {
            let sum: u64 = matching.iter().map(|r| r.value).sum();
            let _ = writeln!(out, "{sum}");
        }
        QueryKind::GetSum => {}
    }
    if reset && !matching.is_empty() {
        for r in &matching {
            r.reset();
        }
        out.push_str("\nThe selected counters of syslog-ng have been reset to 0.");
    }
    out
}

/// The legacy Prometheus exposition of AxoSyslog 4.x for rows without a metric name:
/// `syslogng_COMPONENT_TYPE{id="…",stat_instance="…"} VALUE` (`global` rows fold the id into
/// the name; `stamp` rows are left out).
pub fn prometheus(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows.iter().filter(|r| r.kind != "stamp") {
        let mut name = format!("syslogng_{}", metric_name(&r.component));
        let mut labels = Vec::new();
        if r.component == "global" {
            if !r.id.is_empty() {
                name.push('_');
                name.push_str(&metric_name(&r.id));
            }
        } else {
            if !r.id.is_empty() {
                labels.push(format!("id=\"{}\"", label_value(&r.id)));
            }
            if !r.instance.is_empty() {
                labels.push(format!("stat_instance=\"{}\"", label_value(&r.instance)));
            }
        }
        if r.kind != "value" {
            name.push('_');
            name.push_str(&metric_name(r.kind));
        }
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {}", r.value);
        } else {
            let _ = writeln!(out, "{name}{{{}}} {}", labels.join(","), r.value);
        }
    }
    out
}

/// A metric name part: `.` and `-` become `_`, other characters outside `[A-Za-z0-9_]` go.
fn metric_name(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => Some(c),
            '.' | '-' => Some('_'),
            _ => None,
        })
        .collect()
}

/// A label value with `\`, `"` and newlines escaped.
fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text of syslog-ng's `stats-freq()` message: `Log statistics; processed='center(
/// received)=8', ...`.
pub fn log_line(rows: &[Row]) -> String {
    let mut out = String::from("Log statistics");
    for (i, r) in rows.iter().enumerate() {
        let sep = if r.id.is_empty() || r.instance.is_empty() {
            ""
        } else {
            ","
        };
        let _ = write!(
            out,
            "{}{}='{}({}{sep}{})={}'",
            if i == 0 { "; " } else { ", " },
            r.kind,
            r.component,
            r.id,
            r.instance,
            r.value
        );
    }
    out
}
