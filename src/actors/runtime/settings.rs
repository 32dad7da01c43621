//! Driver options + the global `options {}` turned into what the message and template layers
//! take: [`ParseOptions`] for sources, [`TemplateOptions`] for destinations. A driver's `None`
//! means "the global option", as in syslog-ng.

use std::sync::Arc;

use crate::actors::destinations::common::TemplateOptions as DestTemplateOptions;
use crate::actors::sources::common::{ReaderOptions, SourceFlag, SourceOptions};
use crate::config::global_options::{self as g, GlobalOptions};
use crate::message::{
    HostOptions, LocalHost, MsgFormat, ParseFlags, ParseOptions, UseDns, ZoneSpec,
};
use crate::template::TemplateOptions;
use crate::template::options::{OnError, TsFormat};

/// `SourceFlag::NoParse` → `no-parse`.
fn flag_word(f: SourceFlag) -> String {
    let camel = format!("{f:?}");
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn use_dns(u: g::UseDns) -> UseDns {
    match u {
        g::UseDns::Yes => UseDns::Yes,
        g::UseDns::No => UseDns::No,
        g::UseDns::PersistOnly => UseDns::PersistOnly,
    }
}

/// The parser settings of a reader-based source (`reader` is `None` for sources without
/// parsing options, such as `internal()`).
pub fn parse_options(
    name: &str,
    source: &SourceOptions,
    reader: Option<&ReaderOptions>,
    globals: &GlobalOptions,
    local_host: &LocalHost,
) -> ParseOptions {
    let mut o = ParseOptions {
        local_host: local_host.clone(),
        ..ParseOptions::default()
    };
    if let Some(r) = reader {
        for f in &r.flags {
            if *f != SourceFlag::Kernel {
                o.flags.apply(&flag_word(*f));
            }
        }
        // `kernel` makes kern.notice the default, but only when neither default-facility()
        // nor default-priority() set one (syslog-ng's log_reader_options_init): with
        // `default-priority(warn)` it is user.warning.
        let kernel = r.flags.contains(&SourceFlag::Kernel);
        if kernel && r.default_facility.is_none() && r.default_severity.is_none() {
            o.default_pri = Some(5);
        }
        if let Some(f) = r.format.as_deref()
            && crate::message::kmsg::is_linux_kmsg(f)
        {
            o.format = MsgFormat::LinuxKmsg(crate::message::kmsg::BootTime::system());
        }
        if let Some(fac) = r.default_facility {
            o.set_default_facility(fac as u16);
        }
        if let Some(sev) = r.default_severity {
            o.set_default_severity(sev as u16);
        }
        if r.check_hostname.unwrap_or(globals.check_hostname) {
            o.flags.0 |= ParseFlags::CHECK_HOSTNAME;
        }
        o.recv_time_zone = r
            .time_zone
            .as_deref()
            .or(globals.recv_time_zone.as_deref())
            .and_then(ZoneSpec::parse);
    }
    o.keep_timestamp = source.keep_timestamp.unwrap_or(globals.keep_timestamp);
    if let Some(z) = globals
        .local_time_zone
        .as_deref()
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
    {
        o.local_time_zone = z;
    }
    o.host = HostOptions {
        keep_hostname: source.keep_hostname.unwrap_or(globals.keep_hostname),
        chain_hostnames: source.chain_hostnames.unwrap_or(globals.chain_hostnames),
        use_dns: use_dns(source.use_dns.unwrap_or(globals.use_dns)),
        dns_cache: source.dns_cache.unwrap_or(globals.dns_cache),
        use_fqdn: source.use_fqdn.unwrap_or(globals.use_fqdn),
        normalize_hostnames: source
            .normalize_hostnames
            .unwrap_or(globals.normalize_hostnames),
        group_name: Arc::from(name),
    };
    if let Some(re) = globals
        .bad_hostname
        .as_deref()
        .and_then(|p| regex::bytes::Regex::new(p).ok())
    {
        o.bad_hostname = Some(Arc::new(move |h: &[u8]| re.is_match(h)));
    }
    o
}

/// `log-msg-size()` of a reader, in bytes.
pub fn log_msg_size(reader: &ReaderOptions, globals: &GlobalOptions) -> usize {
    reader.log_msg_size.unwrap_or(globals.log_msg_size).get() as usize
}

/// The template options of a destination.
pub fn template_options(t: &DestTemplateOptions, globals: &GlobalOptions) -> TemplateOptions {
    let ts = match t.ts_format.unwrap_or(globals.ts_format) {
        g::TsFormat::Rfc3164 | g::TsFormat::Bsd => TsFormat::Bsd,
        g::TsFormat::Rfc3339 | g::TsFormat::Iso => TsFormat::Iso,
        g::TsFormat::Unix => TsFormat::Unix,
    };
    let zone = t
        .time_zone
        .as_deref()
        .or(t.send_time_zone.as_deref())
        .or(globals.send_time_zone.as_deref())
        .or(globals.time_zone.as_deref())
        .and_then(ZoneSpec::parse);
    let on_error = match t.on_error.unwrap_or(globals.on_error) {
        g::OnError::DropMessage | g::OnError::SilentlyDropMessage => OnError::DropMessage,
        g::OnError::DropProperty | g::OnError::SilentlyDropProperty => OnError::DropProperty,
        g::OnError::FallbackToString | g::OnError::SilentlyFallbackToString => {
            OnError::FallbackToString
        }
    };
    TemplateOptions {
        ts_format: ts,
        frac_digits: t.frac_digits.unwrap_or(globals.frac_digits).min(6) as u8,
        time_zone: zone,
        on_error,
        use_fqdn: globals.use_fqdn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_words_are_kebab_case() {
        assert_eq!(flag_word(SourceFlag::NoParse), "no-parse");
        assert_eq!(flag_word(SourceFlag::SyslogProtocol), "syslog-protocol");
        assert_eq!(flag_word(SourceFlag::AssumeUtf8), "assume-utf8");
    }

    /// Recorded from syslog-ng 3.38 with a line without a priority.
    #[test]
    fn kernel_is_the_default_facility_only_without_default_options() {
        use crate::actors::registry::testing::check;
        use crate::actors::sources::file::FileSourceOptions;
        let pri = |call: &str| {
            let o: FileSourceOptions = check(call);
            let g = GlobalOptions::default();
            let p = parse_options("s", &o.source, Some(&o.reader), &g, &LocalHost::new("h"));
            p.effective_default_pri()
        };
        assert_eq!(pri(r#"file("/x" flags(kernel))"#), 5, "kern.notice");
        assert_eq!(
            pri(r#"file("/x" flags(kernel) default-priority(warn))"#),
            12
        );
        assert_eq!(
            pri(r#"file("/x" default-priority(warn) flags(kernel))"#),
            12
        );
        assert_eq!(
            pri(r#"file("/x" flags(kernel) default-facility(local3))"#),
            157
        );
        assert_eq!(pri(r#"file("/x")"#), 13);
    }

    #[test]
    fn format_linux_kmsg_selects_the_kmsg_parser() {
        use crate::actors::registry::testing::check;
        use crate::actors::sources::file::FileSourceOptions;
        let format = |call: &str| {
            let o: FileSourceOptions = check(call);
            let g = GlobalOptions::default();
            parse_options("s", &o.source, Some(&o.reader), &g, &LocalHost::new("h")).format
        };
        assert!(matches!(
            format(r#"file("/x" format(linux-kmsg))"#),
            MsgFormat::LinuxKmsg(_)
        ));
        assert_eq!(format(r#"file("/x")"#), MsgFormat::Syslog);
    }
}
