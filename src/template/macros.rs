//! The built-in macros (`$DATE`, `$FACILITY`, `$MSGHDR`...): syslog-ng 3.38's `macros.c`.
//!
//! Names are resolved once when a template is compiled; expanding one is a `match` on a small
//! enum. Names that are not macros are name-value pairs (`$PROGRAM`, `${.json.user}`).

use crate::message::{Builtin, LogMessage, MsgFlags, UnixTime};

use super::date::{self, WallClock};
use super::escape;
use super::options::{RenderContext, TsFormat};

/// Which stamp a date macro reads: `$X`/`$S_X` the message's own, `$R_X` when it was
/// received, `$C_X` the current time, `$P_X` when it was processed (syslog-ng shows the
/// current time for it while the message has no processed stamp, which is always the case
/// here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StampKind {
    /// The message's own stamp.
    Stamp,
    /// The received time.
    Recvd,
    /// The current time.
    Current,
    /// The processed time (the current time).
    Processed,
}

/// The date and time macros; each exists with the `S_`, `R_`, `C_` and `P_` prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum DateField {
    Date,
    FullDate,
    IsoDate,
    Stamp,
    Year,
    YearDay,
    Month,
    MonthWeek,
    MonthAbbrev,
    MonthName,
    Day,
    Hour,
    Hour12,
    Min,
    Sec,
    Usec,
    Msec,
    Ampm,
    WeekDay,
    WeekDayAbbrev,
    WeekDayName,
    Week,
    IsoWeek,
    TzOffset,
    UnixTime,
}

const DATE_FIELDS: &[(&str, DateField)] = &[
    ("DATE", DateField::Date),
    ("FULLDATE", DateField::FullDate),
    ("ISODATE", DateField::IsoDate),
    ("STAMP", DateField::Stamp),
    ("YEAR", DateField::Year),
    ("YEAR_DAY", DateField::YearDay),
    ("MONTH", DateField::Month),
    ("MONTH_WEEK", DateField::MonthWeek),
    ("MONTH_ABBREV", DateField::MonthAbbrev),
    ("MONTH_NAME", DateField::MonthName),
    ("DAY", DateField::Day),
    ("HOUR", DateField::Hour),
    ("HOUR12", DateField::Hour12),
    ("MIN", DateField::Min),
    ("SEC", DateField::Sec),
    ("USEC", DateField::Usec),
    ("MSEC", DateField::Msec),
    ("AMPM", DateField::Ampm),
    ("WEEKDAY", DateField::WeekDayAbbrev),
    ("WEEK_DAY", DateField::WeekDay),
    ("WEEK_DAY_ABBREV", DateField::WeekDayAbbrev),
    ("WEEK_DAY_NAME", DateField::WeekDayName),
    ("WEEK", DateField::Week),
    ("ISOWEEK", DateField::IsoWeek),
    ("TZOFFSET", DateField::TzOffset),
    ("TZ", DateField::TzOffset),
    ("UNIXTIME", DateField::UnixTime),
];

/// One built-in macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Macro {
    /// `$FACILITY`: the name (`local4`), or the number in hex when it has none.
    Facility,
    /// `$FACILITY_NUM`.
    FacilityNum,
    /// `$LEVEL`, `$PRIORITY`, `$SEVERITY`: the severity's name.
    Level,
    /// `$LEVEL_NUM`, `$SEVERITY_NUM`.
    LevelNum,
    /// `$TAG`: the priority as two (or more) hex digits.
    Tag,
    /// `$TAGS`: the message's tags, comma separated.
    Tags,
    /// `$BSDTAG`: severity digit and facility letter (`5U`).
    BsdTag,
    /// `$PRI`.
    Pri,
    /// A date macro.
    Date(StampKind, DateField),
    /// `$SYSUPTIME`: hundredths of a second since the daemon started.
    SysUptime,
    /// `$SDATA`: the structured data as RFC 5424 text.
    Sdata,
    /// `$MSGHDR`: `program[pid]: ` (or the header as received).
    MsgHdr,
    /// `$SOURCEIP`: the sender's address, `127.0.0.1` for local sources.
    SourceIp,
    /// `$DESTIP`, `$DESTPORT`, `$PROTO`: where and how the message arrived. LogMessage does
    /// not record these yet, so they print nothing (see the module's notes).
    DestIp,
    /// See [`Macro::DestIp`].
    DestPort,
    /// See [`Macro::DestIp`].
    Proto,
    /// `$SEQNUM`.
    SeqNum,
    /// `$CONTEXT_ID` (and `$_`).
    ContextId,
    /// `$RCPTID`: the receipt id (`use-uniqid()`); read from an `RCPTID` value the runtime
    /// may set, empty otherwise.
    RcptId,
    /// `$RUNID`.
    RunId,
    /// `$HOSTID`.
    HostId,
    /// `$UNIQID`: `HOSTID@RCPTID`, empty without a receipt id.
    UniqId,
    /// `$MSG`, `$MESSAGE`.
    Message,
    /// `$HOST`: the first link of a chained host name.
    Host,
    /// `$LOGHOST`: this machine's name.
    LogHost,
}

impl Macro {
    /// Looks a macro up by name (case-sensitive, as syslog-ng); `None` for value names.
    pub fn lookup(name: &str) -> Option<Macro> {
        Some(match name {
            "FACILITY" => Macro::Facility,
            "FACILITY_NUM" => Macro::FacilityNum,
            "PRIORITY" | "LEVEL" | "SEVERITY" => Macro::Level,
            "LEVEL_NUM" | "SEVERITY_NUM" => Macro::LevelNum,
            "TAG" => Macro::Tag,
            "TAGS" => Macro::Tags,
            "BSDTAG" => Macro::BsdTag,
            "PRI" => Macro::Pri,
            "SYSUPTIME" => Macro::SysUptime,
            "SDATA" => Macro::Sdata,
            "MSGHDR" => Macro::MsgHdr,
            "SOURCEIP" => Macro::SourceIp,
            "DESTIP" => Macro::DestIp,
            "DESTPORT" => Macro::DestPort,
            "PROTO" => Macro::Proto,
            "SEQNUM" => Macro::SeqNum,
            "CONTEXT_ID" | "_" => Macro::ContextId,
            "RCPTID" => Macro::RcptId,
            "RUNID" => Macro::RunId,
            "HOSTID" => Macro::HostId,
            "UNIQID" => Macro::UniqId,
            "MSG" | "MESSAGE" => Macro::Message,
            "HOST" => Macro::Host,
            "LOGHOST" => Macro::LogHost,
            _ => {
                let (kind, rest) = match name.as_bytes() {
                    [b'R', b'_', ..] => (StampKind::Recvd, &name[2..]),
                    [b'S', b'_', ..] => (StampKind::Stamp, &name[2..]),
                    [b'C', b'_', ..] => (StampKind::Current, &name[2..]),
                    [b'P', b'_', ..] => (StampKind::Processed, &name[2..]),
                    _ => (StampKind::Stamp, name),
                };
                let field = DATE_FIELDS.iter().find(|(n, _)| *n == rest)?.1;
                Macro::Date(kind, field)
            }
        })
    }

    /// Every macro name syslog-ng 3.38 knows, in its table's order (what `--scope
    /// all-macros`/`everything` walks).
    pub fn all_names() -> &'static [&'static str] {
        &ALL_NAMES
    }
}

static ALL_NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut v: Vec<&'static str> = vec![
        "FACILITY",
        "FACILITY_NUM",
        "SEVERITY",
        "SEVERITY_NUM",
        "PRIORITY",
        "LEVEL",
        "LEVEL_NUM",
        "TAG",
        "TAGS",
        "BSDTAG",
        "PRI",
    ];
    for (n, _) in DATE_FIELDS {
        v.push(n);
    }
    v.push("SYSUPTIME");
    for prefix in ["R_", "S_", "C_", "P_"] {
        for (n, _) in DATE_FIELDS {
            v.push(Box::leak(format!("{prefix}{n}").into_boxed_str()));
        }
    }
    v.extend_from_slice(&[
        "SDATA",
        "MSGHDR",
        "SOURCEIP",
        "DESTIP",
        "DESTPORT",
        "PROTO",
        "SEQNUM",
        "CONTEXT_ID",
        "_",
        "RCPTID",
        "RUNID",
        "HOSTID",
        "UNIQID",
        "MSG",
        "MESSAGE",
        "HOST",
        "LOGHOST",
    ]);
    v
});

/// Facility names by number, as syslog-ng's `sl_facilities` answers a lookup by value.
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity names, 0..7.
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The facility's name (`None` for numbers without one).
pub fn facility_name(fac: u16) -> Option<&'static str> {
    FACILITIES.get(usize::from(fac)).copied()
}

fn push_hex(out: &mut Vec<u8>, n: u32, width: usize) {
    let s = format!("{n:0width$x}");
    out.extend_from_slice(s.as_bytes());
}

/// Appends `$MSGHDR`: LEGACY_MSGHDR when set, else `PROGRAM[PID]: ` (`PROGRAM: ` without a
/// pid, nothing without a program).
pub fn push_msghdr(out: &mut Vec<u8>, msg: &LogMessage, esc: bool) {
    if let Some(h) = msg
        .get_builtin(Builtin::LegacyMsgHdr)
        .filter(|h| !h.is_empty())
    {
        escape::append(out, h, esc);
        return;
    }
    let prog = msg.get_builtin(Builtin::Program).unwrap_or(&[]);
    if prog.is_empty() {
        return;
    }
    escape::append(out, prog, esc);
    if let Some(pid) = msg.get_builtin(Builtin::Pid).filter(|p| !p.is_empty()) {
        out.push(b'[');
        escape::append(out, pid, esc);
        out.push(b']');
    }
    out.extend_from_slice(b": ");
}

/// Appends `$TAGS`.
pub fn push_tags(out: &mut Vec<u8>, msg: &LogMessage) {
    for (i, t) in msg.tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Some(name) = t.name() {
            // As `log_msg_print_tags`: each tag list-encoded (`" b "`, `'q"x'`, `"a,b"`).
            crate::template::list_repr::str_repr_encode(out, name.as_bytes(), b",");
        }
    }
}

fn now_stamp(ctx: &RenderContext<'_>) -> UnixTime {
    UnixTime::now(&ctx.daemon.local_zone)
}

/// Expands `m` for `msg` into `out`. `esc` is the template's `template-escape()`.
pub fn expand(m: Macro, msg: &LogMessage, ctx: &RenderContext<'_>, esc: bool, out: &mut Vec<u8>) {
    match m {
        Macro::Facility => {
            let fac = msg.facility();
            match facility_name(fac) {
                Some(n) => out.extend_from_slice(n.as_bytes()),
                None => push_hex(out, u32::from(fac), 0),
            }
        }
        Macro::FacilityNum => date::push_padded(out, u64::from(msg.facility()), 0, b'0'),
        Macro::Level => out.extend_from_slice(LEVELS[usize::from(msg.severity() & 7)].as_bytes()),
        Macro::LevelNum => date::push_padded(out, u64::from(msg.severity()), 0, b'0'),
        Macro::Tag => push_hex(out, u32::from(msg.pri), 2),
        Macro::Tags => push_tags(out, msg),
        Macro::BsdTag => {
            date::push_padded(out, u64::from(msg.severity()), 0, b'0');
            out.push((msg.facility() as u8).wrapping_add(b'A'));
        }
        Macro::Pri => date::push_padded(out, u64::from(msg.pri), 0, b'0'),
        Macro::Host => escape::append(out, msg.host_for_macro(), esc),
        Macro::Message => escape::append(out, msg.message(), esc),
        Macro::Sdata => {
            if esc {
                let mut tmp = Vec::new();
                msg.format_sdata(&mut tmp, ctx.seq_num);
                escape::append(out, &tmp, true);
            } else {
                msg.format_sdata(out, ctx.seq_num);
            }
        }
        Macro::MsgHdr => push_msghdr(out, msg, esc),
        Macro::SourceIp => {
            let ip = msg
                .get_builtin(Builtin::SourceIp)
                .filter(|v| !v.is_empty())
                .unwrap_or(b"127.0.0.1");
            escape::append(out, ip, esc);
        }
        Macro::DestIp | Macro::DestPort | Macro::Proto => {}
        Macro::SeqNum => {
            if ctx.seq_num != 0 {
                date::push_padded(out, u64::from(ctx.seq_num), 0, b'0');
            }
        }
        Macro::ContextId => {
            if let Some(id) = ctx.context_id {
                escape::append(out, id, esc);
            }
        }
        Macro::RcptId => {
            if let Some(id) = msg.get("RCPTID") {
                out.extend_from_slice(id);
            }
        }
        Macro::RunId => date::push_padded(out, u64::from(ctx.daemon.run_id), 0, b'0'),
        Macro::HostId => push_hex(out, ctx.daemon.host_id, 8),
        Macro::UniqId => {
            if let Some(id) = msg.get("RCPTID").filter(|v| !v.is_empty()) {
                push_hex(out, ctx.daemon.host_id, 8);
                out.push(b'@');
                let n: u64 = std::str::from_utf8(id)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                out.extend_from_slice(format!("{n:016x}").as_bytes());
            }
        }
        Macro::LogHost => {
            let h = &ctx.daemon.local_host;
            let name = if ctx.options.use_fqdn {
                &h.fqdn
            } else {
                &h.short
            };
            escape::append(out, name.as_bytes(), esc);
        }
        Macro::SysUptime => {
            let cs = ctx.daemon.started.elapsed().as_millis() / 10;
            date::push_padded(out, u64::try_from(cs).unwrap_or(u64::MAX), 0, b'0');
        }
        Macro::Date(kind, field) => {
            let t = match kind {
                StampKind::Stamp => msg.stamp,
                StampKind::Recvd => msg.recvd,
                StampKind::Current | StampKind::Processed => now_stamp(ctx),
            };
            expand_date(field, &t, ctx, out);
        }
    }
}

/// Expands a date macro of stamp `t`.
pub fn expand_date(field: DateField, t: &UnixTime, ctx: &RenderContext<'_>, out: &mut Vec<u8>) {
    let opts = ctx.options;
    let offset = opts.offset_for(t);
    let frac = opts.frac_digits;
    let w = WallClock::new(t, offset);
    let p = |out: &mut Vec<u8>, n: u32, width: usize| {
        date::push_padded(out, u64::from(n), width, b'0');
    };
    match field {
        DateField::Date => date::push_wall_clock(out, &w, TsFormat::Bsd, frac),
        DateField::FullDate => date::push_wall_clock(out, &w, TsFormat::Full, frac),
        DateField::IsoDate => date::push_wall_clock(out, &w, TsFormat::Iso, frac),
        DateField::Stamp => {
            if opts.ts_format == TsFormat::Unix {
                date::push_unix(out, t, frac);
            } else {
                date::push_wall_clock(out, &w, opts.ts_format, frac);
            }
        }
        DateField::UnixTime => date::push_unix(out, t, frac),
        DateField::Year => date::push_i64(out, w.year),
        DateField::YearDay => p(out, w.yday + 1, 3),
        DateField::Month => p(out, w.mon + 1, 2),
        DateField::MonthWeek => p(out, w.month_week(), 0),
        DateField::MonthAbbrev => {
            out.extend_from_slice(date::MONTH_ABBREV[w.mon as usize % 12].as_bytes());
        }
        DateField::MonthName => {
            out.extend_from_slice(date::MONTH_NAME[w.mon as usize % 12].as_bytes());
        }
        DateField::Day => p(out, w.mday, 2),
        DateField::Hour => p(out, w.hour, 2),
        DateField::Hour12 => {
            let h = if w.hour < 12 { w.hour } else { w.hour - 12 };
            p(out, if h == 0 { 12 } else { h }, 2);
        }
        DateField::Min => p(out, w.min, 2),
        DateField::Sec => p(out, w.sec, 2),
        DateField::Usec => p(out, t.usec % 1_000_000, 6),
        DateField::Msec => p(out, (t.usec % 1_000_000) / 1000, 3),
        DateField::Ampm => out.extend_from_slice(if w.hour < 12 { b"AM" } else { b"PM" }),
        DateField::WeekDay => p(out, w.wday + 1, 0),
        DateField::WeekDayAbbrev => {
            out.extend_from_slice(date::WEEKDAY_ABBREV[w.wday as usize % 7].as_bytes());
        }
        DateField::WeekDayName => {
            out.extend_from_slice(date::WEEKDAY_NAME[w.wday as usize % 7].as_bytes());
        }
        DateField::Week => p(out, w.week(), 2),
        DateField::IsoWeek => p(out, w.iso_week(), 2),
        DateField::TzOffset => date::push_zone(out, offset),
    }
}

/// Whether the message is local (its `$SEQNUM` comes from the writer's own counter).
pub fn is_local(msg: &LogMessage) -> bool {
    msg.flags.has(MsgFlags::LOCAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup() {
        assert_eq!(
            Macro::lookup("R_ISODATE"),
            Some(Macro::Date(StampKind::Recvd, DateField::IsoDate))
        );
        assert_eq!(
            Macro::lookup("WEEKDAY"),
            Some(Macro::Date(StampKind::Stamp, DateField::WeekDayAbbrev))
        );
        assert_eq!(Macro::lookup("R_SYSUPTIME"), None);
        assert_eq!(Macro::lookup("PROGRAM"), None);
        assert_eq!(Macro::lookup("msg"), None);
        assert_eq!(Macro::lookup("_"), Some(Macro::ContextId));
        for n in Macro::all_names() {
            assert!(Macro::lookup(n).is_some(), "{n}");
        }
    }
}
