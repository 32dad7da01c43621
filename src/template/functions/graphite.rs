//! `$(graphite-output ...)` (syslog-ng 3.38's modules/graphite, which the SCL's `graphite()`
//! destination sends): one line `NAME VALUE TIMESTAMP\n` per selected name-value pair, for
//! Graphite's plain-text protocol.
//!
//! The pairs are a value-pairs selection (the same command line as `$(format-json)`:
//! `--key`, `--scope`, `name=value`...), in ascending key order, with a leading dot of a key
//! always turned into `_` (`.json.user` is `_json.user`). `--timestamp TEMPLATE` (`-t`)
//! gives the third column, default `$R_UNIXTIME`. Names and values are written up to a
//! NUL byte, as syslog-ng appends C strings; nothing is escaped.
//!
//! Where sluice differs: syslog-ng renders the timestamp template with the global template
//! options; sluice's template functions do not see those, so it uses the calling
//! destination's `ts-format()`/`frac-digits()` (the same unless the destination sets its own:
//! with `frac-digits(3)` on the destination only, syslog-ng writes `-t $UNIXTIME` as
//! `1709626272`, sluice as `1709626272.345`) and, as syslog-ng, each stamp in its own zone. A missing `--timestamp` value or a
//! timestamp template that does not compile is an error here; syslog-ng 3.38 crashes on both.

use std::sync::Arc;

use crate::template::{RenderContext, Template, TemplateOptions};

use super::options::{OptSpec, Parsed};
use super::value_pairs::{PooledCollected, ValuePairs};
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
    scratch,
};

pub(crate) fn register(r: &mut FunctionRegistry) {
    r.register("graphite-output", Arc::new(GraphiteOutput));
}

const GRAPHITE_OPTS: &[OptSpec] = &[OptSpec {
    long: "timestamp",
    short: Some('t'),
    value: true,
}];

struct GraphiteOutput;

#[derive(Debug)]
struct GraphitePrepared {
    vp: ValuePairs,
    timestamp: Template,
}

impl TemplateFunction for GraphiteOutput {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let (mut vp, extra) = ValuePairs::parse(call, GRAPHITE_OPTS)?;
        let mut timestamp = None;
        for p in extra {
            if let Parsed::Opt("timestamp", Some(v)) = p {
                // Each one replaces the one before, as GLib calls the callback for each.
                timestamp = Some(v);
            }
        }
        let timestamp = call.compile_arg(timestamp.as_deref().unwrap_or("$R_UNIXTIME"))?;
        vp.push_transform(".*", b".".to_vec(), b"_".to_vec());
        Ok(Box::new(GraphitePrepared { vp, timestamp }))
    }
}

impl PreparedFunction for GraphitePrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let o = inv.ctx.options;
        // syslog-ng: DEFAULT_TEMPLATE_EVAL_OPTIONS (no time zone, no $SEQNUM).
        let ts_options = TemplateOptions {
            ts_format: o.ts_format,
            frac_digits: o.frac_digits,
            time_zone: None,
            on_error: o.on_error,
            use_fqdn: o.use_fqdn,
        };
        let ts_ctx = RenderContext::new(&ts_options, inv.ctx.daemon);
        let mut stamp = scratch();
        let mut c = PooledCollected::take();
        for m in inv.msgs {
            stamp.clear();
            self.timestamp.render(m, &ts_ctx, &mut stamp);
            let stamp = super::str::cstr(&stamp);
            self.vp.collect(inv, m, &mut c);
            for (k, _, v) in c.iter() {
                out.extend_from_slice(super::str::cstr(k));
                out.push(b' ');
                out.extend_from_slice(super::str::cstr(v));
                out.push(b' ');
                out.extend_from_slice(stamp);
                out.push(b'\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::message::{LogMessage, UnixTime};
    use crate::template::{DaemonInfo, RenderContext, Template, TemplateOptions};

    fn render(text: &str, frac: u8) -> String {
        let t = Template::new(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut m = LogMessage::new(UnixTime::new(1_700_000_000, 250_000, 3600));
        m.stamp = UnixTime::new(1_709_626_272, 345_000, 7200);
        m.set("n.count", b"42");
        m.set(".json.user", b"alice");
        m.set("z", b"cut\0here");
        let opts = TemplateOptions {
            frac_digits: frac,
            ..TemplateOptions::default()
        };
        let daemon = DaemonInfo::default();
        let out = t.render_to_vec(&m, &RenderContext::new(&opts, &daemon));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn lines_in_key_order_with_the_received_second() {
        assert_eq!(
            render("$(graphite-output --key n.* --key .json.* --key z)", 0),
            "_json.user alice 1700000000\nn.count 42 1700000000\nz cut 1700000000\n"
        );
        assert_eq!(
            render(
                "$(graphite-output -t $UNIXTIME x=1 --timestamp=${ISODATE})",
                2
            ),
            "x 1 2024-03-05T10:11:12.34+02:00\n"
        );
        assert_eq!(render("$(graphite-output)", 0), "");
    }

    #[test]
    fn refuses_what_it_cannot_parse() {
        for bad in [
            "$(graphite-output --timestamp)",
            "$(graphite-output --bogus x)",
            "$(graphite-output -t $(nosuch))",
        ] {
            assert!(Template::new(bad).is_err(), "{bad}");
        }
    }
}
