//! Tests of the catalog and of the global options.

use super::*;
use crate::actors::registry::testing::{call, nodes};
use crate::config::global_options::{
    FileMode, FileOwner, GlobalMarkMode, OnError, TsFormat, UseDns,
};

fn check_driver(kind: ObjectKind, text: &str) -> Result<(), Diagnostic> {
    Registry.check_driver(kind, &call(text))
}

#[test]
fn supported_drivers_are_checked() {
    assert_eq!(
        check_driver(ObjectKind::Source, r#"file("/var/log/x")"#),
        Ok(())
    );
    assert_eq!(
        check_driver(ObjectKind::Source, r#"unix_dgram("/dev/log")"#),
        Ok(())
    );
    assert_eq!(
        check_driver(ObjectKind::Destination, r#"file("/x" create_dirs(yes))"#),
        Ok(())
    );
    assert_eq!(check_driver(ObjectKind::Parser, "python(class(P))"), Ok(()));
    let d = check_driver(ObjectKind::Source, r#"file("/x" folow-freq(1))"#).unwrap_err();
    assert_eq!(d.message, "unknown option `folow-freq`");
    assert_eq!(d.context.as_deref(), Some("source"));
    assert_eq!(d.notes, vec!["did you mean `follow-freq`?"]);
    // The same name means different drivers in different kinds.
    let d = check_driver(ObjectKind::Destination, r#"file("/x" follow-freq(1))"#).unwrap_err();
    assert_eq!(d.context.as_deref(), Some("destination"));
}

#[test]
fn errors_are_at_their_own_span() {
    let text = r#"file("/x" follow-freq(1) flags(no-parse, bogus))"#;
    let d = check_driver(ObjectKind::Source, text).unwrap_err();
    let span = d.span.unwrap_or_default();
    assert_eq!(&text[span.start as usize..span.end as usize], "bogus");
    let text = r#"network(port(514) transprot(tcp))"#;
    let d = check_driver(ObjectKind::Source, text).unwrap_err();
    let span = d.span.unwrap_or_default();
    assert_eq!(&text[span.start as usize..span.end as usize], "transprot");
}

#[test]
fn unknown_drivers_get_suggestions() {
    let d = check_driver(ObjectKind::Source, r#"fiel("/x")"#).unwrap_err();
    assert_eq!(d.message, "unknown driver `fiel`");
    assert_eq!(d.notes, vec!["did you mean `file`?"]);
    assert_eq!(d.context.as_deref(), Some("source"));
    let d = check_driver(ObjectKind::Destination, r#"unix-steam("/x")"#).unwrap_err();
    assert_eq!(d.notes, vec!["did you mean `unix-stream`?"]);
    let d = check_driver(ObjectKind::Destination, "completely-unheard-of()").unwrap_err();
    assert!(d.notes.is_empty());
    // Case matters, as in syslog-ng.
    check_driver(ObjectKind::Source, r#"File("/x")"#).unwrap_err();
    // Sources are not destinations.
    let d = check_driver(ObjectKind::Source, r#"usertty("root")"#).unwrap_err();
    assert_eq!(d.message, "unknown driver `usertty`");
}

#[test]
fn known_but_unsupported_drivers() {
    let d = check_driver(ObjectKind::Destination, r#"elasticsearch-http(url("x"))"#).unwrap_err();
    assert_eq!(
        d.message,
        "driver `elasticsearch-http` is not supported yet"
    );
    let d = check_driver(ObjectKind::Source, "systemd_journal()").unwrap_err();
    assert_eq!(d.message, "driver `systemd_journal` is not supported yet");
    let d = check_driver(ObjectKind::Parser, r#"db-parser(file("/x"))"#).unwrap_err();
    assert!(d.message.contains("not supported yet"));
}

#[test]
fn parsers_and_rewrites_are_checked() {
    assert_eq!(
        check_driver(ObjectKind::Parser, r#"kv-parser(prefix("kv."))"#),
        Ok(())
    );
    let d = check_driver(ObjectKind::Parser, "csv_parser(columns(a b) anything(1))").unwrap_err();
    assert!(d.message.contains("anything"), "{}", d.message);
    let d = check_driver(ObjectKind::Rewrite, r#"subst("(" "x")"#).unwrap_err();
    assert!(d.message.contains("PCRE"), "{}", d.message);
    let d = check_driver(ObjectKind::Filter, "level(info..bogus)").unwrap_err();
    assert!(d.message.contains("bogus"), "{}", d.message);
    assert_eq!(
        check_driver(ObjectKind::Rewrite, r#"set("x" value("HOST"))"#),
        Ok(())
    );
    assert_eq!(check_driver(ObjectKind::Rewrite, r#"set-tag("t")"#), Ok(()));
    let d = check_driver(ObjectKind::Rewrite, r#"sett("x")"#).unwrap_err();
    assert_eq!(d.notes, vec!["did you mean `set`?"]);
}

#[test]
fn every_supported_driver_lists_its_options() {
    for d in Registry::supported() {
        let Support::Options(_, names) = d.support else {
            panic!("{} is not checked", d.name);
        };
        let names = names();
        // Filter functions like facility() or tags() have no named options at all.
        assert!(
            !names.is_empty() || d.kind == ObjectKind::Filter,
            "{}",
            d.name
        );
        assert!(
            names.iter().all(|n| !n.contains('_')),
            "{}: {names:?}",
            d.name
        );
    }
    let Some(Driver {
        support: Support::Options(_, names),
        ..
    }) = Registry::lookup(ObjectKind::Destination, "program")
    else {
        panic!("program() is not supported");
    };
    let names = names();
    for option in [
        "0:command",
        "inherit-environment",
        "keep-alive",
        "mark-mode",
        "disk-buffer",
        "flags",
        "flush-lines",
        "frac-digits",
        "hook-commands",
        "log-fifo-size",
        "mark-freq",
        "suppress",
        "template",
        "template-escape",
        "throttle",
        "time-zone",
        "ts-format",
    ] {
        assert!(names.contains(&option), "program() lacks {option}");
    }
}

#[test]
fn global_option_defaults() {
    let g = Registry::global_options(&[]).unwrap_or_else(|d| panic!("{}", d.message));
    assert_eq!(g, GlobalOptions::default());
    assert!(!g.chain_hostnames && !g.keep_hostname && !g.check_hostname);
    assert_eq!(g.use_dns, UseDns::Yes);
    assert!(g.dns_cache && !g.use_fqdn && !g.normalize_hostnames);
    assert_eq!(g.dns_cache_size.get(), 1007);
    assert_eq!(g.dns_cache_expire.get(), 3600);
    assert_eq!(g.dns_cache_expire_failed.get(), 60);
    assert_eq!(
        (g.stats_freq, g.stats_level, g.stats_lifetime.get()),
        (600, 0, 600)
    );
    assert_eq!(g.stats_max_dynamics, None);
    assert_eq!(g.mark_freq, 1200);
    assert_eq!(g.mark_mode, GlobalMarkMode::HostIdle);
    assert_eq!(g.flush_lines, 100);
    assert_eq!(g.log_fifo_size.get(), 10000);
    assert_eq!(g.log_msg_size.get(), 65536);
    assert_eq!(g.min_iw_size_per_reader.get(), 100);
    assert_eq!((g.time_reopen.get(), g.time_reap), (60, 60));
    assert_eq!(g.suppress, 0);
    assert!(g.threaded && g.pass_unix_credentials && g.keep_timestamp);
    assert!(!g.use_uniqid && !g.create_dirs && !g.trim_large_messages);
    assert_eq!(g.owner, FileOwner::Id(0));
    assert_eq!(g.perm, FileMode::Mode(0o600));
    assert_eq!(g.dir_perm, FileMode::Mode(0o700));
    assert_eq!(g.ts_format, TsFormat::Rfc3164);
    assert_eq!(g.frac_digits, 0);
    assert_eq!(g.on_error, OnError::DropMessage);
    assert_eq!(g.disk_buffer.truncate_size_ratio, 0.1);
}

#[test]
fn global_options_full_example() {
    let opts = nodes(
        r#"chain_hostnames(off) keep-hostname(yes) use-dns(persist_only) use_fqdn(no)
           dns-cache(yes) dns-cache-size(2000) dns-cache-expire(86400)
           dns-cache-hosts("/etc/hosts") stats_freq(60) stats-level(2) mark(3600)
           mark-mode(periodical) sync(1000) log_fifo_size(300000) log-msg-size(16384)
           log-iw-size(1000) time-reopen(10) create_dirs(yes) owner("syslog") group(adm)
           perm(0640) dir-perm(0750) dir_owner() ts-format(iso) frac-digits(3)
           recv-time-zone("UTC") send-time-zone("+01:00") on-error(fallback-to-string)
           threaded(yes) use-rcptid(yes) bad-hostname("^gconfd$") custom-domain("example.com")
           disk-buffer(truncate-size-ratio(0.5)) flush-timeout(10)"#,
    );
    let diags = Registry.check_global_options(&opts);
    assert!(diags.is_empty(), "{:?}", diags);
    let g = Registry::global_options(&opts).unwrap_or_else(|d| panic!("{}", d.message));
    assert!(!g.chain_hostnames && g.keep_hostname);
    assert_eq!(g.use_dns, UseDns::PersistOnly);
    assert_eq!(g.dns_cache_size.get(), 2000);
    assert_eq!(g.stats_freq, 60);
    assert_eq!(g.mark_freq, 3600);
    assert_eq!(g.mark_mode, GlobalMarkMode::Periodical);
    assert_eq!(g.flush_lines, 1000);
    assert_eq!(g.log_fifo_size.get(), 300000);
    assert_eq!(g.owner, FileOwner::Name("syslog".into()));
    assert_eq!(g.perm, FileMode::Mode(0o640));
    assert_eq!(g.dir_owner, FileOwner::Unchanged);
    assert_eq!(g.ts_format, TsFormat::Iso);
    assert_eq!(g.on_error, OnError::FallbackToString);
    assert!(g.use_uniqid);
    assert_eq!(g.disk_buffer.truncate_size_ratio, 0.5);
    // An obsolete alias is the same option.
    let g = Registry::global_options(&nodes("long_hostnames(yes)"))
        .unwrap_or_else(|d| panic!("{}", d.message));
    assert!(g.chain_hostnames);
    // Given under both names, it is reported by the check, as the runtime would fail.
    let diags = Registry.check_global_options(&nodes("flush-lines(10) sync(20)"));
    assert_eq!(diags.len(), 1, "{diags:?}");
}

#[test]
fn global_option_errors() {
    let opts = nodes(
        r#"log-fifo-size(1000) log_fifo_sise(1000) mark-mode(global) ts-format(iso8601)
           use-dns(sometimes) log-msg-size(0) stats(freq(10)) log-level(info)"#,
    );
    let diags = Registry.check_global_options(&opts);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(diags.len(), 7, "{messages:?}");
    assert_eq!(diags[0].message, "unknown option `log-fifo-sise`");
    assert_eq!(diags[0].notes, vec!["did you mean `log-fifo-size`?"]);
    assert_eq!(diags[0].context.as_deref(), Some("options"));
    assert_eq!(diags[1].message, "unknown value `global`");
    assert_eq!(diags[2].message, "unknown value `iso8601`");
    assert!(
        diags[3].message.contains("persist-only"),
        "{}",
        diags[3].message
    );
    assert!(
        diags[4].message.contains("positive"),
        "{}",
        diags[4].message
    );
    assert_eq!(diags[6].message, "unknown option `log-level`");
    let text = "keep-hostname(yes) keep-timestamp(maybe)";
    let opts = nodes(text);
    let diags = Registry.check_global_options(&opts);
    assert_eq!(diags.len(), 1);
    let span = diags[0].span.unwrap_or_default();
    assert_eq!(&text[span.start as usize..span.end as usize], "maybe");
}

/// `cargo test --lib dump_option_names -- --ignored --nocapture` prints every driver's option
/// names, one driver per line, for checking them against `syslog-ng -s`.
#[test]
#[ignore]
fn dump_option_names() {
    for d in Registry::supported() {
        if let Support::Options(_, names) = d.support {
            println!("{} {} {}", d.kind.keyword(), d.name, names().join(" "));
        }
    }
    println!("options - {}", fields_of::<GlobalOptions>().join(" "));
}
