//! Answers the control commands that read or touch the running daemon without replacing
//! its configuration (`RELOAD` and `STOP` are the daemon loop's own), with syslog-ng 3.38's
//! replies (recorded in tests/golden/ctl).

use std::sync::Mutex;
use std::time::Instant;

use actix::Addr;

use super::config_load::CheckedConfig;
use super::log_flags;
use crate::actors::runtime::stats::{self, Row};
use crate::actors::runtime::supervisor::{
    ConfigSupervisor, Describe, ExportConfigGraph, ReloadStatus, Reloads, RemoveOrphans, Reopen,
    Stats,
};
use crate::control::{Command, QueryKind, Reply, StatsFormat};

/// What the commands need from the daemon.
pub(super) struct Cx<'a> {
    pub sup: &'a Addr<ConfigSupervisor>,
    pub config: &'a Mutex<CheckedConfig>,
    /// The daemon is stopping (its queues drain).
    pub stopping: bool,
}

/// The reply to `command` (not `RELOAD`/`STOP`).
pub(super) async fn answer(cx: &Cx<'_>, command: &Command) -> Reply {
    match command {
        Command::Stats {
            format,
            without_orphaned,
        } => match rows(cx.sup, *without_orphaned).await {
            None => Reply::fail("No configuration is running"),
            Some(rows) => match format {
                StatsFormat::Csv { header } => Reply::raw(stats::csv(&rows, *header)),
                StatsFormat::Kv => Reply::raw(stats::query(&rows, QueryKind::Get, "*", false)),
                StatsFormat::Prometheus => Reply::raw(prometheus_of(&rows, cx.sup).await),
            },
        },
        Command::ResetStats => {
            for r in rows(cx.sup, false).await.unwrap_or_default() {
                r.reset();
            }
            stats::dynamic().reset();
            Reply::ok("The statistics of syslog-ng have been reset to 0.")
        }
        Command::RemoveOrphans => {
            let _ = cx.sup.send(RemoveOrphans).await;
            Reply::ok("Orphaned statistics have been removed.")
        }
        Command::Query {
            kind,
            pattern,
            reset,
        } => {
            let rows = rows(cx.sup, false).await.unwrap_or_default();
            Reply::raw(stats::query(&rows, *kind, pattern, *reset))
        }
        Command::Log { flag, set } => {
            let on = log_flags::set(*flag, *set);
            Reply::ok(format!("{}={}", flag.word(), u8::from(on)))
        }
        Command::Reopen => {
            let _ = cx.sup.send(Reopen).await;
            Reply::ok("Re-open of log destination files initiated")
        }
        Command::Config { preprocessed } => match cx.config.lock() {
            Ok(c) if *preprocessed => Reply::raw(c.preprocessed()),
            Ok(c) => Reply::raw(c.original()),
            Err(_) => Reply::fail("The configuration is not readable"),
        },
        Command::License => Reply::ok("You are using the Open Source Edition of sluice."),
        // syslog-ng lists the files its configuration names as key, certificate, CA or
        // database files (path_check/path_secret options); no driver sluice runs has one.
        Command::ListFiles => Reply::raw("No files available\n"),
        // syslog-ng's replies; nothing sluice runs reads a passphrase-protected key.
        Command::Credentials { add: false } => Reply::ok("Credential storage status follows\n"),
        Command::Credentials { add: true } => Reply::fail(
            "Error while saving credentials: sluice runs no driver that takes a \
             passphrase-protected key",
        ),
        Command::Healthcheck => healthcheck(cx).await,
        Command::Graph(form) => match cx.sup.send(Describe(*form)).await {
            Ok(s) => Reply::ok(s),
            Err(e) => Reply::fail(e.to_string()),
        },
        Command::ExportConfigGraph => match cx.sup.send(ExportConfigGraph).await {
            Ok(Some(json)) => Reply::raw(json),
            _ => Reply::fail("No configuration is running"),
        },
        Command::Reload { .. } | Command::Stop => Reply::fail("Not handled here"),
    }
}

async fn rows(sup: &Addr<ConfigSupervisor>, without_orphaned: bool) -> Option<Vec<Row>> {
    let mut rows = sup.send(Stats).await.ok().flatten()?;
    if without_orphaned {
        rows.retain(|r| r.state == stats::RowState::Active);
    }
    Some(rows)
}

/// AxoSyslog's `HEALTHCHECK` reply: how long the main loop (the supervisor's mailbox) takes
/// to answer, how long a task waits to run on the runtime, and how full the internal
/// messages' queue is.
async fn healthcheck(cx: &Cx<'_>) -> Reply {
    let began = Instant::now();
    if cx.sup.send(Reloads).await.is_err() {
        return Reply::fail("The daemon's supervisor does not answer");
    }
    let roundtrip = began.elapsed();
    let began = Instant::now();
    let _ = tokio::task::spawn(async {}).await;
    let worker = began.elapsed();
    let usage = crate::actors::sources::internal::bus().usage();
    let mut text = format!(
        "syslogng_io_worker_latency_seconds {}\n\
         syslogng_mainloop_io_worker_roundtrip_latency_seconds {}\n\
         syslogng_internal_events_queue_usage_ratio {usage}",
        worker.as_secs_f64(),
        roundtrip.as_secs_f64()
    );
    if cx.stopping {
        text.push_str("\nsluice_stopping 1");
    }
    Reply::ok(text)
}

/// The Prometheus text (`STATS PROMETHEUS`, `--metrics-listen`); `None` without a graph.
pub(super) async fn prometheus(sup: &Addr<ConfigSupervisor>) -> Option<String> {
    let rows = rows(sup, false).await?;
    Some(prometheus_of(&rows, sup).await)
}

/// `rows` as Prometheus text, followed by sluice's reload records.
async fn prometheus_of(rows: &[Row], sup: &Addr<ConfigSupervisor>) -> String {
    let status = sup.send(Reloads).await.ok();
    stats::prometheus(rows) + &reload_metrics(status)
}

/// sluice's own metrics in the Prometheus reply: the configuration generation and the last
/// reload's record.
fn reload_metrics(status: Option<ReloadStatus>) -> String {
    let Some(s) = status else {
        return String::new();
    };
    let mut out = format!(
        "sluice_config_generation {}\nsluice_reloads_total {}\n",
        s.generation, s.reloads
    );
    if let Some(r) = &s.last {
        out.push_str(&format!(
            "sluice_last_reload_timestamp_seconds {}\nsluice_last_reload_duration_seconds {}\n\
             sluice_last_reload_delivery_pause_seconds {}\n",
            r.finished_at,
            r.took.as_secs_f64(),
            r.delivery_pause.as_secs_f64()
        ));
        for (fate, n) in r.fates {
            out.push_str(&format!(
                "sluice_last_reload_components{{fate=\"{fate}\"}} {n}\n"
            ));
        }
    }
    out
}
