//! The driver catalog: which driver names exist in which kind of object, how their options are
//! checked, and the global `options {}`. Implements [`DriverCatalog`] for the configuration
//! layer.
//!
//! A name is one of:
//! - **supported**: it has an options struct, and a call is checked by reading it;
//! - **known, not validated yet**: names the
//!   filter expression reader validates; any arguments pass, so that configs using them load;
//! - **not supported yet**: it exists in syslog-ng 3.38 or AxoSyslog, and sluice says so;
//! - anything else is an unknown driver, with "did you mean" over the known names of that
//!   kind of object.
//!
//! Names compare as syslog-ng keywords: case-sensitive, `-` and `_` the same.

use crate::actors::destinations as dst;
use crate::actors::destinations::{
    file::FileDestinationOptions,
    network::{NetworkDestinationOptions, TcpDestinationOptions, UdpDestinationOptions},
    pipe::PipeDestinationOptions,
    program::ProgramDestinationOptions,
    pseudofile::PseudofileDestinationOptions,
    python::PythonDestinationOptions,
    unix::UnixDestinationOptions,
    usertty::UserttyDestinationOptions,
};
use crate::actors::runtime::driver::{DestinationDriver, SourceDriver};
use crate::actors::sources::common::{DriverOptions, fields_of};
use crate::actors::sources::{
    file::{FileSourceOptions, WildcardFileSourceOptions},
    internal::InternalSourceOptions,
    network::{NetworkSourceOptions, TcpSourceOptions, UdpSourceOptions},
    pipe::PipeSourceOptions,
    python::{PythonFetcherSourceOptions, PythonParserOptions, PythonSourceOptions},
    stdin::StdinSourceOptions,
    unix::{UnixDgramSourceOptions, UnixStreamSourceOptions},
};
use crate::actors::sources::{internal, line_source, net_plan, network, python};
use crate::config::ast::{Node, keyword_eq};
use crate::config::catalog::{DriverCatalog, ObjectKind};
use crate::config::de;
use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::global_options::GlobalOptions;
use crate::pipeline::filter::funcs::option_names as filter_names;
use crate::pipeline::parser::option_names as parser_names;
use crate::pipeline::rewrite::option_names as rewrite_names;
use crate::pipeline::{BuildEnv, check_filter_function, check_parser, check_rewrite};

#[cfg(test)]
pub(crate) mod testing;

/// How a driver's call is handled.
#[derive(Clone, Copy)]
pub enum Support {
    /// Checked by reading its options struct; the second function lists its option names.
    Options(
        fn(&Node) -> Result<(), Diagnostic>,
        fn() -> Vec<&'static str>,
    ),
    /// Known, arguments not validated yet.
    NotValidatedYet,
    /// Exists in syslog-ng or AxoSyslog; sluice does not have it yet.
    NotSupportedYet,
}

/// One driver name of one kind of object.
#[derive(Clone, Copy)]
pub struct Driver {
    pub kind: ObjectKind,
    pub name: &'static str,
    pub support: Support,
    /// How the runtime plans it; `None`: checked, not run yet (refused at plan time).
    pub runs: Option<Runs>,
}

/// The plan function of a driver the runtime runs (`runtime::driver`'s traits).
#[derive(Clone, Copy)]
pub enum Runs {
    Source(PlanSource),
    Destination(PlanDestination),
}

/// Plans a source driver call.
pub type PlanSource =
    fn(&Node, &GlobalOptions, &BuildEnv<'_>) -> Result<Box<dyn SourceDriver>, Diagnostic>;
/// Plans a destination driver call.
pub type PlanDestination =
    fn(&Node, &GlobalOptions, &BuildEnv<'_>) -> Result<Box<dyn DestinationDriver>, Diagnostic>;

fn check<T: DriverOptions>(call: &Node) -> Result<(), Diagnostic> {
    T::from_call(call).map(|_| ())
}

fn check_de<T: serde::de::DeserializeOwned>(call: &Node) -> Result<(), Diagnostic> {
    de::from_call::<T>(call).map(|_| ())
}

fn plain_names<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    fields_of::<T>().to_vec()
}

/// A driver checked by its options struct; `runs: Kind(plan_fn)` when the runtime runs it.
macro_rules! supported {
    ($kind:ident, $name:literal, $opts:ty) => {
        Driver {
            kind: ObjectKind::$kind,
            name: $name,
            support: Support::Options(check::<$opts>, <$opts as DriverOptions>::option_names),
            runs: None,
        }
    };
    ($kind:ident, $name:literal, $opts:ty, runs: $runs:ident($plan:path)) => {
        Driver {
            kind: ObjectKind::$kind,
            name: $name,
            support: Support::Options(check::<$opts>, <$opts as DriverOptions>::option_names),
            runs: Some(Runs::$runs($plan)),
        }
    };
}

/// A built-in parser, rewrite or filter function: checked by compiling it (`crate::pipeline`),
/// which reads its options struct and compiles its patterns and templates.
macro_rules! pipeline {
    ($kind:ident, $name:literal, $check:path, $names:path) => {
        Driver {
            kind: ObjectKind::$kind,
            name: $name,
            support: Support::Options($check, || $names($name)),
            runs: None,
        }
    };
}

/// The drivers sluice checks options for. Adding a driver is one line here.
static SUPPORTED: &[Driver] = &[
    supported!(Source, "file", FileSourceOptions, runs: Source(line_source::plan_driver)),
    supported!(Source, "wildcard-file", WildcardFileSourceOptions),
    supported!(Source, "pipe", PipeSourceOptions, runs: Source(line_source::plan_driver)),
    supported!(Source, "stdin", StdinSourceOptions, runs: Source(line_source::plan_driver)),
    supported!(Source, "internal", InternalSourceOptions, runs: Source(internal::plan_internal)),
    supported!(Source, "network", NetworkSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "syslog", NetworkSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "tcp", TcpSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "tcp6", TcpSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "udp", UdpSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "udp6", UdpSourceOptions, runs: Source(network::plan_ip_source)),
    supported!(Source, "unix-stream", UnixStreamSourceOptions, runs: Source(net_plan::plan_unix_source)),
    supported!(Source, "unix-dgram", UnixDgramSourceOptions, runs: Source(net_plan::plan_unix_source)),
    supported!(Source, "python", PythonSourceOptions, runs: Source(python::plan_driver)),
    supported!(Source, "python-fetcher", PythonFetcherSourceOptions, runs: Source(python::plan_driver)),
    supported!(Destination, "file", FileDestinationOptions, runs: Destination(dst::file::plan_driver)),
    supported!(Destination, "pipe", PipeDestinationOptions, runs: Destination(dst::pipe::plan_driver)),
    supported!(Destination, "network", NetworkDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "syslog", NetworkDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "tcp", TcpDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "tcp6", TcpDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "udp", UdpDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "udp6", UdpDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "unix-stream", UnixDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "unix-dgram", UnixDestinationOptions, runs: Destination(dst::socket::plan_driver)),
    supported!(Destination, "program", ProgramDestinationOptions, runs: Destination(dst::program::plan_driver)),
    supported!(Destination, "pseudofile", PseudofileDestinationOptions, runs: Destination(dst::pseudofile::plan_driver)),
    supported!(Destination, "usertty", UserttyDestinationOptions, runs: Destination(dst::usertty::plan_driver)),
    supported!(Destination, "python", PythonDestinationOptions, runs: Destination(dst::python::plan_driver)),
    Driver {
        kind: ObjectKind::Parser,
        name: "python",
        support: Support::Options(
            check_de::<PythonParserOptions>,
            plain_names::<PythonParserOptions>,
        ),
        runs: None,
    },
    pipeline!(Parser, "kv-parser", check_parser, parser_names),
    pipeline!(Parser, "json-parser", check_parser, parser_names),
    pipeline!(Parser, "csv-parser", check_parser, parser_names),
    pipeline!(Parser, "syslog-parser", check_parser, parser_names),
    pipeline!(Parser, "date-parser", check_parser, parser_names),
    pipeline!(Parser, "regexp-parser", check_parser, parser_names),
    pipeline!(Parser, "tags-parser", check_parser, parser_names),
    pipeline!(Parser, "map-value-pairs", check_parser, parser_names),
    pipeline!(Parser, "linux-audit-parser", check_parser, parser_names),
    pipeline!(Rewrite, "set", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "subst", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "unset", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "groupset", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "groupunset", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "set-tag", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "clear-tag", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "rename", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "set-severity", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "set-facility", check_rewrite, rewrite_names),
    pipeline!(Rewrite, "set-pri", check_rewrite, rewrite_names),
    pipeline!(Filter, "facility", check_filter_function, filter_names),
    pipeline!(Filter, "level", check_filter_function, filter_names),
    pipeline!(Filter, "priority", check_filter_function, filter_names),
    pipeline!(Filter, "severity", check_filter_function, filter_names),
    pipeline!(Filter, "program", check_filter_function, filter_names),
    pipeline!(Filter, "host", check_filter_function, filter_names),
    pipeline!(Filter, "match", check_filter_function, filter_names),
    pipeline!(Filter, "message", check_filter_function, filter_names),
    pipeline!(Filter, "netmask", check_filter_function, filter_names),
    pipeline!(Filter, "netmask6", check_filter_function, filter_names),
    pipeline!(Filter, "tags", check_filter_function, filter_names),
    pipeline!(Filter, "in-list", check_filter_function, filter_names),
    pipeline!(Filter, "source", check_filter_function, filter_names),
];

/// Known names whose arguments are not validated yet.
static NOT_VALIDATED: &[(ObjectKind, &[&str])] = &[
    // `filter(name)` is resolved by the configuration checks; the type hints of template
    // comparisons (`int("$PID") > 5`) are validated by the filter expression reader.
    (
        ObjectKind::Filter,
        &[
            "filter", "string", "literal", "int", "int32", "int64", "float", "double", "boolean",
            "datetime", "list", "json",
        ],
    ),
];

/// Drivers of syslog-ng 3.38 and AxoSyslog that sluice does not have yet.
static NOT_SUPPORTED: &[(ObjectKind, &[&str])] = &[
    (
        ObjectKind::Source,
        &[
            "systemd-journal",
            "systemd-syslog",
            "program",
            "sun-streams",
            "sun-stream",
            "linux-audit",
            "kmsg",
            "mbox",
            "nodejs",
            "osquery",
            "default-network-drivers",
            "snmptrap",
            "pacct",
            "java",
            "http",
            "mqtt",
            "kafka",
            "opentelemetry",
            "syslog-ng-otlp",
            "darwin-oslog",
            "darwin-oslog-stream",
            "example-msg-generator",
            "example-diskq-source",
            "random-generator",
            "python-http-header",
            "apache-accesslog",
            "kubernetes",
            "webhook",
            "hypr-audit-trail",
            "jellyfin",
            "openbsd",
            "pihole-ftl",
            "qbittorrent",
            "elasticsearch-bulk",
            "splunk-hec",
            "arr",
        ],
    ),
    (
        ObjectKind::Destination,
        &[
            "elasticsearch-http",
            "elasticsearch2",
            "elasticsearch-datastream",
            "kafka",
            "kafka-c",
            "kafka-java",
            "sql",
            "mongodb",
            "http",
            "amqp",
            "redis",
            "riemann",
            "smtp",
            "snmp",
            "stomp",
            "graphite",
            "loggly",
            "logmatic",
            "splunk-hec-event",
            "splunk-hec-raw",
            "telegram",
            "slack",
            "syslog-ng",
            "sumologic-http",
            "sumologic-syslog",
            "bigquery",
            "google-pubsub",
            "google-pubsub-grpc",
            "opentelemetry",
            "syslog-ng-otlp",
            "loki",
            "mqtt",
            "hdfs",
            "java",
            "network-load-balancer",
            "stdout",
            "openobserve-log",
            "clickhouse",
            "s3",
            "discord",
            "collectd",
            "seq",
            "logscale",
            "python-http",
            "unix-dgram-load-balancer",
            "darwin-oslog",
        ],
    ),
    (
        ObjectKind::Parser,
        &[
            "db-parser",
            "apache-accesslog-parser",
            "xml",
            "geoip2",
            "geoip",
            "add-contextual-data",
            "grouping-by",
            "group-lines",
            "metrics-probe",
            "cisco-parser",
            "checkpoint-parser",
            "panos-parser",
            "sudo-parser",
            "iptables-parser",
            "ewmm-parser",
            "snmptrapd-parser",
            "websense-parser",
            "fortigate-parser",
            "netskope-parser",
            "osquery-parser",
            "cef-parser",
            "leef-parser",
            "windows-eventlog-xml-parser",
            "json-dot-notation",
            "opentelemetry",
            "mariadb-audit-parser",
            "asa-parser",
            "extract-solaris-msgid",
        ],
    ),
    (
        ObjectKind::Rewrite,
        &[
            "credit-card-mask",
            "credit-card-hash",
            "map",
            "set-tags",
            "set-matches",
            "unset-matches",
            "fix-time-zone",
            "guess-time-zone",
            "set-time-zone",
        ],
    ),
    (ObjectKind::Filter, &["rate-limit"]),
];

/// The [`DriverCatalog`] of sluice's drivers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

impl Registry {
    /// The entry of a driver name in a kind of object, if the name is known.
    pub fn lookup(kind: ObjectKind, name: &str) -> Option<Driver> {
        if let Some(d) = SUPPORTED
            .iter()
            .find(|d| d.kind == kind && keyword_eq(d.name, name))
        {
            return Some(*d);
        }
        let find = |table: &[(ObjectKind, &[&'static str])], support: Support| {
            table
                .iter()
                .filter(|(k, _)| *k == kind)
                .flat_map(|(_, names)| names.iter())
                .find(|n| keyword_eq(n, name))
                .map(|n| Driver {
                    kind,
                    name: n,
                    support,
                    runs: None,
                })
        };
        find(NOT_VALIDATED, Support::NotValidatedYet)
            .or_else(|| find(NOT_SUPPORTED, Support::NotSupportedYet))
    }

    /// Every known driver name of a kind of object (supported or not).
    pub fn names(kind: ObjectKind) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = SUPPORTED
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.name)
            .collect();
        for table in [NOT_VALIDATED, NOT_SUPPORTED] {
            for (k, list) in table {
                if *k == kind {
                    names.extend(list.iter().copied());
                }
            }
        }
        names
    }

    /// The plan function of a driver the runtime runs.
    pub fn runs(kind: ObjectKind, name: &str) -> Option<Runs> {
        SUPPORTED
            .iter()
            .find(|d| d.kind == kind && keyword_eq(d.name, name))
            .and_then(|d| d.runs)
    }

    /// The drivers that have options structs.
    pub fn supported() -> &'static [Driver] {
        SUPPORTED
    }

    /// Reads the merged contents of the `options {}` statements. Errors are located at the
    /// offending option.
    pub fn global_options(options: &[Node]) -> Result<GlobalOptions, Diagnostic> {
        let span = match (options.first(), options.last()) {
            (Some(first), Some(last)) => first.span().to(last.span()),
            _ => return Ok(GlobalOptions::default()),
        };
        de::from_nodes::<GlobalOptions>(options, span).map_err(|d| with_context(d, "options"))
    }
}

fn with_context(d: Diagnostic, context: &str) -> Diagnostic {
    if d.context.is_some() {
        d
    } else {
        d.with_context(context)
    }
}

impl DriverCatalog for Registry {
    fn check_driver(&self, kind: ObjectKind, call: &Node) -> Result<(), Diagnostic> {
        let Node::Call { name, .. } = call else {
            return Err(Diagnostic::new(
                format!("expected a driver like `name(...)` in {}", kind.keyword()),
                call.span(),
            )
            .with_context(kind.keyword()));
        };
        let Some(driver) = Registry::lookup(kind, &name.value) else {
            let names = Registry::names(kind);
            let mut d = Diagnostic::new(format!("unknown driver `{}`", name.value), name.span)
                .with_context(kind.keyword());
            if let Some(best) = did_you_mean(&name.value, names.iter().copied()) {
                d = d.with_note(format!("did you mean `{best}`?"));
            }
            return Err(d);
        };
        match driver.support {
            Support::Options(check, _) => check(call).map_err(|d| with_context(d, kind.keyword())),
            Support::NotValidatedYet => Ok(()),
            Support::NotSupportedYet => Err(Diagnostic::new(
                format!("driver `{}` is not supported yet", name.value),
                name.span,
            )
            .with_context(kind.keyword())),
        }
    }

    fn check_global_options(&self, options: &[Node]) -> Vec<Diagnostic> {
        // Each option on its own, so that every bad option is reported, not just the first.
        let diags: Vec<Diagnostic> = options
            .iter()
            .filter_map(|node| {
                de::from_nodes::<GlobalOptions>(std::slice::from_ref(node), node.span())
                    .err()
                    .map(|d| with_context(d, "options"))
            })
            .collect();
        if !diags.is_empty() {
            return diags;
        }
        // Then all together, as the runtime reads them: an option given under its name and
        // under an obsolete alias (`flush-lines()` and `sync()`) is reported here.
        match Registry::global_options(options) {
            Ok(_) => Vec::new(),
            Err(d) => vec![d],
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corpus;
