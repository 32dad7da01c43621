//! How a destination turns a message into bytes: its template (or built-in format), flags,
//! template options, `$SEQNUM` counter, and `truncate-size()`/`pad-size()`.

use std::sync::Arc;

use crate::actors::runtime::counters::Counters;

use crate::actors::destinations::common::{DestFlag, WriterOptions};
use crate::actors::options::option_span;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::message::{LogMessage, MsgFlags};
use crate::pipeline::BuildEnv;
use crate::template::{
    CompileEnv, DaemonInfo, OutputFormat, RenderContext, SequenceCounter, Template,
    TemplateOptions as RenderOptions, WriterFlags, format_message, seq_num_for,
};

/// What a destination renders, derived from its options.
#[derive(Debug, Clone)]
pub struct RenderPlan {
    /// `template()` (or the global `file-template()`/`proto-template()` the driver uses).
    pub template: Option<Arc<Template>>,
    pub format: OutputFormat,
    pub flags: WriterFlags,
    pub options: RenderOptions,
    /// `truncate-size()`: the formatted message is cut to this many bytes.
    pub truncate_size: Option<usize>,
    /// `pad-size()`: the formatted message, without its newline, is cut or padded with NUL
    /// bytes to exactly this many bytes (as syslog-ng 3.38 writes it).
    pub pad_size: Option<usize>,
}

impl RenderPlan {
    /// From the writer options: `default_format` is the driver's own (file-like or network),
    /// `flags(syslog-protocol)` switches to RFC 5424; `global_template` is the global
    /// `file-template()`/`proto-template()` the driver falls back to.
    pub fn from_options(
        w: &WriterOptions,
        options: RenderOptions,
        default_format: OutputFormat,
        global_template: Option<&str>,
        call: &Node,
        env: &BuildEnv<'_>,
    ) -> Result<RenderPlan, Diagnostic> {
        let template = match w.template.as_deref().or(global_template) {
            None => None,
            Some(text) => {
                let span = option_span(call, &["template"]);
                Some(if w.template_escape {
                    let cenv = CompileEnv {
                        escape: true,
                        origin: Some(span),
                        ..env.templates.clone()
                    };
                    Arc::new(Template::compile(text, &cenv).map_err(|e| {
                        Diagnostic::new(format!("Error compiling template: {e}"), span)
                    })?)
                } else {
                    env.template_or_name(text, span)?
                })
            }
        };
        let format = if w.flags.contains(&DestFlag::SyslogProtocol) {
            OutputFormat::SyslogProtocol
        } else {
            default_format
        };
        Ok(RenderPlan {
            template,
            format,
            flags: WriterFlags {
                no_multi_line: w.flags.contains(&DestFlag::NoMultiLine),
            },
            options,
            truncate_size: w.truncate_size.map(|n| n as usize),
            pad_size: (w.pad_size > 0).then_some(w.pad_size as usize),
        })
    }

    /// A plan of a built-in format with default flags (for the sinks' tests).
    #[cfg(test)]
    pub fn with_format(format: OutputFormat, options: RenderOptions) -> RenderPlan {
        RenderPlan {
            template: None,
            format,
            flags: WriterFlags::default(),
            options,
            truncate_size: None,
            pad_size: None,
        }
    }
}

/// Renders messages for one destination driver (owns its `$SEQNUM` counter).
pub struct Renderer {
    plan: RenderPlan,
    daemon: Arc<DaemonInfo>,
    seq: SequenceCounter,
    /// Where message sizes and truncations are counted (the destination's queue counters),
    /// and what was counted since the last [`Renderer::flush_counts`]: messages, bytes, the
    /// largest, truncated messages, bytes cut.
    counters: Option<Arc<Counters>>,
    counted: [u64; 5],
}

impl Renderer {
    pub fn new(plan: RenderPlan, daemon: Arc<DaemonInfo>) -> Renderer {
        Renderer {
            plan,
            daemon,
            seq: SequenceCounter::default(),
            counters: None,
            counted: [0; 5],
        }
    }

    /// Counts the size of every rendered message, and truncations, into `counters`
    /// (syslog-ng's `msg_size_*` and `truncated_*`).
    pub fn count_into(mut self, counters: Arc<Counters>) -> Renderer {
        self.counters = Some(counters);
        self
    }

    /// Adds what was counted since the last call to the counters (once per batch: the
    /// writer thread does not pay atomics per message).
    pub fn flush_counts(&mut self) {
        let [n, bytes, max, cut, cut_bytes] = std::mem::take(&mut self.counted);
        if let (Some(c), true) = (&self.counters, n > 0) {
            c.count_sizes(n, bytes, max);
            Counters::add(&c.truncated_count, cut);
            Counters::add(&c.truncated_bytes, cut_bytes);
        }
    }

    /// The daemon facts templates see.
    pub fn daemon(&self) -> &Arc<DaemonInfo> {
        &self.daemon
    }

    /// Appends `msg` as the destination writes it.
    pub fn render(&mut self, msg: &LogMessage, out: &mut Vec<u8>) {
        let p = &self.plan;
        let start = out.len();
        let ctx = RenderContext::new(&p.options, &self.daemon)
            .with_seq_num(seq_num_for(msg, self.seq.current()));
        format_message(p.format, p.template.as_deref(), p.flags, msg, &ctx, out);
        if msg.flags.has(MsgFlags::LOCAL) {
            self.seq.step();
        }
        let mut truncated = 0;
        if let Some(n) = p.truncate_size
            && out.len() - start > n
        {
            truncated = out.len() - start - n;
            out.truncate(start + n);
        }
        let size = (out.len() - start) as u64;
        let c = &mut self.counted;
        c[0] += 1;
        c[1] += size;
        c[2] = c[2].max(size);
        if truncated > 0 {
            c[3] += 1;
            c[4] += truncated as u64;
        }
        if let Some(n) = p.pad_size {
            // syslog-ng 3.38 pads the message without its newline.
            if out.len() > start && out.last() == Some(&b'\n') {
                out.pop();
            }
            out.resize(start + n, 0);
        }
    }
}

/// The global template a file-like or network driver falls back to.
pub fn global_template(globals: &GlobalOptions, format: OutputFormat) -> Option<&str> {
    match format {
        OutputFormat::File => globals.file_template.as_deref(),
        _ => globals.proto_template.as_deref(),
    }
}
