//! `syslog-ng-ctl export-config-graph`: the running configuration's graph in syslog-ng's
//! JSON — `{"nodes" : [{"node" : ID, "info" : [...]}], "arcs" : [{"from", "to", "type"}]}`,
//! `type` being `pipe_next` (the next element of a path) or `next_hop` (a fork: a
//! multiplexer's branches, a destination reference's drivers). syslog-ng's nodes are its
//! LogPipe objects, named by address; sluice's are its source and destination drivers (with
//! driver name, `file:line:col` and persist name, as syslog-ng's info shows them) and the
//! nodes of its compiled log paths (`cfg_tree_pipe`, `multiplexer`, `filter`, `parser`,
//! `rewrite`, `destination-reference`), named `0x1`, `0x2`, ... in a stable order.

use serde_json::{Value, json};

use super::graph::Graph;
use crate::pipeline::SourceId;

/// The graph of `g` as syslog-ng's export.
pub fn export(g: &Graph) -> String {
    let router = g.router();
    let nodes = router.export_nodes();
    // Ids: router nodes first, then source drivers, then destination drivers.
    let id = |n: usize| format!("0x{:x}", n + 1);
    let source_base = nodes.len();
    let sources: Vec<_> = g.sources().collect();
    let dest_base = source_base + sources.len();
    let mut out_nodes: Vec<Value> = Vec::new();
    let mut arcs: Vec<Value> = Vec::new();
    let arc =
        |from: String, to: String, kind: &str| json!({ "from": from, "to": to, "type": kind });
    for (i, n) in nodes.iter().enumerate() {
        let info = match n.label {
            "multiplexer" => json!(["multiplexer", "mpx"]),
            "destination-reference" => json!(["multiplexer", "mpx(destination-reference)"]),
            other => json!([other]),
        };
        out_nodes.push(json!({ "node": id(i), "info": info }));
        if let Some(next) = n.pipe_next {
            arcs.push(arc(id(i), id(next as usize), "pipe_next"));
        }
        for h in &n.next_hops {
            arcs.push(arc(id(i), id(*h as usize), "next_hop"));
        }
        if let Some(d) = n.dest {
            let name = router.destinations().get(d.0 as usize);
            for (j, dc) in g.dests().iter().enumerate() {
                if Some(&dc.object) == name {
                    arcs.push(arc(id(i), id(dest_base + j), "next_hop"));
                }
            }
        }
    }
    for (j, s) in sources.iter().enumerate() {
        out_nodes.push(json!({
            "node": id(source_base + j),
            "info": [s.driver_name, s.location, s.persist_name],
        }));
        let entry = router
            .source_id(&s.object)
            .and_then(|sid: SourceId| router.entry(sid));
        if let Some(e) = entry {
            arcs.push(arc(id(source_base + j), id(e as usize), "pipe_next"));
        }
    }
    for (j, d) in g.dests().iter().enumerate() {
        out_nodes.push(json!({
            "node": id(dest_base + j),
            "info": [d.driver_name, d.location, d.persist_name],
        }));
    }
    let v = json!({ "nodes": out_nodes, "arcs": arcs });
    // syslog-ng's spacing: `"key" : value`, `, ` between items, all on one line.
    let compact = serde_json::to_string(&v).unwrap_or_default();
    spaced(&compact)
}

/// `{"a":1,"b":[2,3]}` → `{"a" : 1, "b" : [2, 3]}` (outside strings only).
fn spaced(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 5 / 4);
    let (mut in_str, mut escaped) = (false, false);
    for c in json.chars() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            ':' => out.push_str(" : "),
            ',' => out.push_str(", "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn spacing_follows_syslog_ng_outside_strings() {
        assert_eq!(
            super::spaced(r#"{"a":"x,y:z","b":[1,2],"c":"q\"t,"}"#),
            r#"{"a" : "x,y:z", "b" : [1, 2], "c" : "q\"t,"}"#
        );
    }
}
