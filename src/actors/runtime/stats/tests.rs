use std::sync::Arc;

use super::format::QueryKind;
use super::*;

fn counters(processed: u64) -> Arc<Counters> {
    let c = Arc::new(Counters::default());
    Counters::add(&c.processed, processed);
    c
}

fn graph() -> StatsSources {
    StatsSources {
        sources: vec![
            SourceEntry {
                object: "s_tcp".into(),
                driver_id: "s_tcp#0".into(),
                driver: "tcp".into(),
                persist_name: "afsocket_sd.(stream,AF_INET(127.0.0.1:15601))".into(),
                rows: SourceRows::Listener,
                counters: counters(100),
            },
            SourceEntry {
                object: "s_udp".into(),
                driver_id: "s_udp#0".into(),
                driver: "udp".into(),
                persist_name: "afsocket_sd.(dgram,AF_INET(127.0.0.1:15602))".into(),
                rows: SourceRows::Driver {
                    level: 1,
                    instance: "127.0.0.1".into(),
                    reader: true,
                },
                counters: counters(4),
            },
        ],
        dests: vec![DestEntry {
            object: "d_net".into(),
            driver_id: "d_net#0".into(),
            driver: "tcp".into(),
            rows: Some(DestRows {
                level: 0,
                instance: "tcp,127.0.0.1:15609".into(),
                writer: true,
                per_file: false,
            }),
            counters: counters(104),
        }],
        filters: Vec::new(),
        level: 0,
    }
}

fn find<'a>(rows: &'a [Row], name: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.query_name() == name)
}

#[test]
fn level_zero_rows_follow_syslog_ng() {
    let rows = Orphans::default().with(graph().rows());
    let text = csv(&rows, true);
    assert!(text.starts_with("SourceName;SourceId;SourceInstance;State;Type;Number\n"));
    for line in [
        "center;;received;a;processed;104",
        "center;;queued;a;processed;104",
        "source;s_tcp;;a;processed;100",
        "source;s_udp;;a;processed;4",
        "destination;d_net;;a;processed;104",
        "src.tcp;s_tcp;afsocket_sd.(stream,AF_INET(127.0.0.1:15601));a;connections;0",
        "dst.tcp;d_net#0;tcp,127.0.0.1:15609;a;processed;104",
        "dst.tcp;d_net#0;tcp,127.0.0.1:15609;a;written;0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    // src.udp's own cluster starts at level 1.
    assert!(!text.contains("src.udp"));
    let mut g = graph();
    g.level = 1;
    let text = csv(&g.rows(), false);
    assert!(text.contains("src.udp;s_udp#0;127.0.0.1;a;processed;4\n"));
    assert!(!text.contains("SourceName"));
}

#[test]
fn csv_quotes_and_escapes_like_syslog_ng() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a;b"), "\"a;b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \\\"hi\\\"\"");
    assert_eq!(csv_field("tab\there"), "tab\\there");
    assert_eq!(csv_field("\u{1}"), "\\x01");
}

use super::format::csv_field;

#[test]
fn query_lists_gets_sums_and_resets() {
    let g = graph();
    let rows = g.rows();
    let list = query(&rows, QueryKind::List, "src*", false);
    assert_eq!(
        list.lines().next(),
        Some("src.tcp.s_tcp.afsocket_sd.(stream,AF_INET(127.0.0.1:15601)).connections")
    );
    let get = query(&rows, QueryKind::Get, "source.*", false);
    assert_eq!(
        get,
        "source.s_tcp.processed=100\nsource.s_udp.processed=4\n"
    );
    assert_eq!(query(&rows, QueryKind::GetSum, "source.*", false), "104\n");
    assert_eq!(query(&rows, QueryKind::Get, "nothing", false), "");
    assert_eq!(query(&rows, QueryKind::GetSum, "nothing", true), "");
    let reset = query(&rows, QueryKind::Get, "source.s_tcp.*", true);
    assert_eq!(
        reset,
        "source.s_tcp.processed=100\n\nThe selected counters of syslog-ng have been reset to 0."
    );
    let after = g.rows();
    assert_eq!(
        find(&after, "source.s_tcp.processed").map(|r| r.value),
        Some(0)
    );
    assert_eq!(
        find(&after, "source.s_udp.processed").map(|r| r.value),
        Some(4)
    );
}

#[test]
fn prometheus_uses_the_legacy_names() {
    let text = prometheus(&graph().rows());
    for line in [
        "syslogng_center_processed{stat_instance=\"received\"} 104",
        "syslogng_source_processed{id=\"s_tcp\"} 100",
        "syslogng_src_tcp_connections{id=\"s_tcp\",stat_instance=\"afsocket_sd.(stream,AF_INET(127.0.0.1:15601))\"} 0",
        "syslogng_dst_tcp_written{id=\"d_net#0\",stat_instance=\"tcp,127.0.0.1:15609\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}

#[test]
fn log_line_names_each_counter_as_syslog_ng() {
    let rows = vec![
        Row::new("center", "", "received", "processed", 8),
        Row::new("src.tcp", "s_tcp", "afsocket_sd.(x)", "connections", 0),
        Row::new("source", "s_int", "", "processed", 3),
    ];
    assert_eq!(
        log_line(&rows),
        "Log statistics; processed='center(received)=8', \
         connections='src.tcp(s_tcp,afsocket_sd.(x))=0', processed='source(s_int)=3'"
    );
}

#[test]
fn orphans_stay_until_removed_or_revived() {
    let before = graph().rows();
    let mut g = graph();
    g.sources.truncate(1);
    let after = g.rows();
    let mut o = Orphans::default();
    o.left_by(&before, &after);
    let rows = o.with(after.clone());
    let udp = find(&rows, "source.s_udp.processed").map(|r| (r.state, r.value));
    assert_eq!(udp, Some((RowState::Orphaned, 4)));
    assert!(csv(&rows, false).contains("source;s_udp;;o;processed;4\n"));
    for r in o.with(Vec::new()) {
        r.reset();
    }
    assert_eq!(
        find(&o.with(Vec::new()), "source.s_udp.processed").map(|r| r.value),
        Some(0)
    );
    // The source comes back: its row is active again, not listed twice.
    o.left_by(&after, &before);
    assert_eq!(o.with(Vec::new()).len(), 0);
    o.left_by(&before, &after);
    o.clear();
    assert_eq!(o.with(Vec::new()).len(), 0);
}

#[test]
fn query_patterns_match_as_glib_does() {
    let matches = glob_matches;
    assert!(matches("*", ""));
    assert!(matches("src*", "src.tcp.s_tcp.connections"));
    assert!(matches("*processed", "center.received.processed"));
    assert!(matches("*.s_tcp*", "source.s_tcp.processed"));
    assert!(matches("a?c", "abc"));
    assert!(!matches("a?c", "ac"));
    assert!(!matches("src*", "source.s.processed"));
    assert!(matches("*a*b*", "xxaxxbxx"));
    assert!(!matches("*a*b", "xxaxxbxx"));
    assert!(matches(
        "dst.tcp.d#0.tcp,127.0.0.1:1.queued",
        "dst.tcp.d#0.tcp,127.0.0.1:1.queued"
    ));
}
