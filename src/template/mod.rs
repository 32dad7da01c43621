//! Templates: syslog-ng's template language, compiled once and rendered per message.
//!
//! ```text
//! "$ISODATE ${HOST} ${.json.user:-nobody} $(format-json --scope rfc5424)\n"
//! ```
//!
//! * [`Template::compile`] turns the text into elements (literal text, macros, name-value
//!   references with `:-` defaults and `@N` context references, function calls with their
//!   arguments compiled as nested templates); errors are [`CompileError`]s with a byte
//!   position;
//! * [`Template::render`] appends the output for a message to a caller-owned `Vec<u8>`;
//!   nothing is allocated per message on the way (function arguments use per-thread pools);
//! * [`TemplateOptions`] carry `ts-format()`, `frac-digits()`, `time-zone()`, `on-error()`;
//!   `template-escape()` is [`CompileEnv::escape`]; [`RenderContext`] adds the per-render facts
//!   (`$SEQNUM`, daemon identity);
//! * [`formats`] writes the built-in destination formats (file, network, RFC 5424) and
//!   octet-counted framing;
//! * [`functions`] holds the template functions and the registry other layers extend
//!   (`$(python)`), and the [`functions::Condition`] hook the filter layer plugs `$(if)` into.
//!
//! Everything here matches syslog-ng 3.38 byte for byte; tests/golden/templates holds what
//! syslog-ng wrote for the same inputs. Known gaps are listed in the module docs of the
//! parts concerned: `$DESTIP`/`$DESTPORT`/`$PROTO` print nothing because
//! [`LogMessage`](crate::message::LogMessage) does not record them, `$RCPTID` is read from an
//! `RCPTID` value, and `$(indent-multi-line)` only looks at its own output.

pub mod compiler;
pub mod date;
pub mod error;
pub mod escape;
pub mod formats;
pub mod functions;
pub(crate) mod list_repr;
pub mod macros;
pub mod options;
#[allow(clippy::module_inception)]
pub mod template;

pub use error::CompileError;
pub use formats::{OutputFormat, SequenceCounter, WriterFlags, format_message, seq_num_for};
pub use functions::{FunctionRegistry, TemplateFunction};
pub use options::{DaemonInfo, OnError, RenderContext, TemplateOptions, TsFormat};
pub use template::{CompileEnv, Template, TemplateLookup, TypeHint};
