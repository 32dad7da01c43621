//! `sluice-ctl graph`: the running actor graph — sources, the log paths between them and
//! the destinations, each component with its state, rate, queue depth and counters — as a
//! readable tree, as JSON, or as Graphviz dot.

use std::fmt::Write as _;

use serde_json::json;

use super::component::{ComponentReport, Kind};
use crate::control::GraphForm;

/// What the graph shows besides its components.
#[derive(Debug, Clone, Default)]
pub struct GraphFacts {
    /// `running`, `stopping`, `idle`.
    pub phase: &'static str,
    pub generation: u64,
    /// While stopping: messages still queued or in a writer's hand.
    pub undelivered: Option<usize>,
    /// Each source object and the destination objects its log paths reach.
    pub paths: Vec<(String, Vec<String>)>,
}

/// Renders the graph in `form`.
pub fn render(form: GraphForm, facts: &GraphFacts, reports: &[ComponentReport]) -> String {
    match form {
        GraphForm::Text => text(facts, reports),
        GraphForm::Json => json(facts, reports),
        GraphForm::Dot => dot(facts, reports),
    }
}

/// The reports of `object`'s drivers of `kind`.
fn drivers<'a>(
    reports: &'a [ComponentReport],
    kind: Kind,
    object: &'a str,
) -> impl Iterator<Item = &'a ComponentReport> + 'a {
    reports
        .iter()
        .filter(move |r| r.kind == kind && r.object == object)
}

/// The counters worth showing: the nonzero ones (queue depth is shown on its own).
fn counters(r: &ComponentReport) -> impl Iterator<Item = &(&'static str, u64)> {
    r.counters
        .iter()
        .filter(|(k, v)| *v > 0 && *k != "queued" && *k != "stamp")
}

fn text(facts: &GraphFacts, reports: &[ComponentReport]) -> String {
    let mut out = format!("phase={} generation={}\n", facts.phase, facts.generation);
    if let Some(n) = facts.undelivered {
        let _ = writeln!(out, "draining: undelivered={n}");
    }
    for (source, dests) in &facts.paths {
        let _ = writeln!(out, "source {source}");
        for r in drivers(reports, Kind::Source, source) {
            let _ = writeln!(out, "  {}", line(r));
        }
        for dest in dests {
            let _ = writeln!(out, "  -> destination {dest}");
            for r in drivers(reports, Kind::Destination, dest) {
                let _ = writeln!(out, "       {}", line(r));
            }
        }
    }
    // Destinations no log path reaches (they still run, as in syslog-ng).
    for r in reports.iter().filter(|r| {
        r.kind == Kind::Destination && !facts.paths.iter().any(|(_, d)| d.contains(&r.object))
    }) {
        let _ = writeln!(out, "destination {} (no log path)\n  {}", r.object, line(r));
    }
    out
}

/// `s#0 tcp afsocket_sd.(...): running 120.0 msg/s queued=0 in_hand=0 processed=5`.
fn line(r: &ComponentReport) -> String {
    let mut s = format!(
        "{} {} {}: {} {:.1} msg/s",
        r.driver_id,
        r.driver_name,
        r.persist_name,
        r.state.word(),
        r.rate
    );
    if let Some((q, h)) = r.queued {
        let _ = write!(s, " queued={q} in_hand={h}");
    }
    if let Some(n) = r.waiting.filter(|n| *n > 0) {
        let _ = write!(s, " waiting={n}");
    }
    for (k, v) in counters(r) {
        let _ = write!(s, " {k}={v}");
    }
    if let Some((at, e)) = &r.last_error {
        let _ = write!(s, " last_error@{at}=\"{}\"", e.replace('"', "'"));
    }
    s
}

fn component_json(r: &ComponentReport) -> serde_json::Value {
    let counters: serde_json::Map<String, serde_json::Value> = r
        .counters
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut v = json!({
        "kind": r.kind.word(),
        "object": r.object,
        "driver": r.driver_name,
        "driver_id": r.driver_id,
        "persist_name": r.persist_name,
        "state": r.state.word(),
        "rate": r.rate,
        "counters": counters,
    });
    if let Some((q, h)) = r.queued {
        v["queue"] = json!({ "depth": q, "in_hand": h });
    }
    if let Some(n) = r.waiting {
        v["waiting_readers"] = json!(n);
    }
    if let Some((at, e)) = &r.last_error {
        v["last_error"] = json!({ "at": at, "error": e });
    }
    v
}

fn json(facts: &GraphFacts, reports: &[ComponentReport]) -> String {
    let pick = |kind| -> Vec<serde_json::Value> {
        reports
            .iter()
            .filter(|r| r.kind == kind)
            .map(component_json)
            .collect()
    };
    let paths: Vec<_> = facts
        .paths
        .iter()
        .map(|(s, d)| json!({ "source": s, "destinations": d }))
        .collect();
    let v = json!({
        "phase": facts.phase,
        "generation": facts.generation,
        "undelivered": facts.undelivered,
        "sources": pick(Kind::Source),
        "log_paths": paths,
        "destinations": pick(Kind::Destination),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn dot(facts: &GraphFacts, reports: &[ComponentReport]) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph sluice {\n  rankdir=LR;\n");
    for r in reports {
        let shape = match r.kind {
            Kind::Source => "box",
            Kind::Destination => "cylinder",
        };
        let mut label = format!(
            "{} ({})\\n{} {:.1} msg/s",
            r.driver_id,
            r.driver_name,
            r.state.word(),
            r.rate
        );
        if let Some((q, _)) = r.queued {
            let _ = write!(label, "\\nqueued {q}");
        }
        let _ = writeln!(
            out,
            "  \"{}:{}\" [shape={shape}, label=\"{}\"];",
            r.kind.word(),
            quote(&r.driver_id),
            quote(&label).replace("\\\\n", "\\n")
        );
    }
    for (source, dests) in &facts.paths {
        for f in drivers(reports, Kind::Source, source) {
            for d in dests {
                for t in drivers(reports, Kind::Destination, d) {
                    let _ = writeln!(
                        out,
                        "  \"source:{}\" -> \"destination:{}\";",
                        quote(&f.driver_id),
                        quote(&t.driver_id)
                    );
                }
            }
        }
    }
    out.push_str("}\n");
    out
}
