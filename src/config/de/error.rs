//! The error type of the option deserializer.
//!
//! serde builds errors bottom-up without knowing where in the configuration they happened, so
//! [`Error`] carries an *optional* span: the innermost deserializer that knows a location (the
//! value node, the option's name, the call) fills it in and outer layers leave it alone. The
//! error keeps serde's structured cases (unknown field, missing field, unknown variant) until it
//! becomes a [`Diagnostic`], so that the message can be phrased in syslog-ng's terms ("option",
//! "argument") and carry "did you mean" notes.

use std::fmt;

use serde::de;

use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::span::Span;

/// What went wrong, kept structured until it is rendered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A finished message.
    Message(String),
    /// An option the struct does not have; `expected` lists the fields it does have.
    UnknownField {
        field: String,
        expected: Vec<&'static str>,
    },
    /// A required field was not given.
    MissingField(&'static str),
    /// A value that is not one of the enum's variants.
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    /// Raised by the field-list probe in `groups`; never reaches a user.
    Probe,
}

/// An error while reading options, with the place it happened once someone knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub(crate) kind: Kind,
    pub(crate) span: Option<Span>,
    pub(crate) notes: Vec<String>,
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Error {
            kind,
            span: None,
            notes: Vec::new(),
        }
    }

    /// An error with a finished message at a known place.
    pub(crate) fn at_span(message: impl Into<String>, span: Span) -> Self {
        Error {
            kind: Kind::Message(message.into()),
            span: Some(span),
            notes: Vec::new(),
        }
    }

    /// Sets the location unless a more precise one is already known.
    pub(crate) fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    /// The message as it will appear in the diagnostic.
    pub fn message(&self) -> String {
        match &self.kind {
            Kind::Message(m) => m.clone(),
            Kind::UnknownField { field, .. } => format!("unknown option `{field}`"),
            Kind::MissingField(field) => match positional_name(field) {
                Some(name) => format!("missing the {name} argument"),
                None => format!("missing required option `{field}`"),
            },
            Kind::UnknownVariant { variant, .. } => format!("unknown value `{variant}`"),
            Kind::Probe => "internal: field probe".to_string(),
        }
    }

    /// The extra lines printed under the snippet: suggestions and lists of valid names.
    fn all_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        match &self.kind {
            Kind::UnknownField { field, expected } => {
                let named: Vec<&str> = expected
                    .iter()
                    .copied()
                    .filter(|f| !is_positional(f))
                    .collect();
                if let Some(best) = suggest(field, named.iter().copied()) {
                    notes.push(format!("did you mean `{best}`?"));
                } else if !named.is_empty() {
                    notes.push(format!("valid options: {}", named.join(", ")));
                }
            }
            Kind::UnknownVariant { variant, expected } => {
                if let Some(best) = suggest(variant, expected.iter().copied()) {
                    notes.push(format!("did you mean `{best}`?"));
                } else if !expected.is_empty() {
                    notes.push(format!("valid values: {}", expected.join(", ")));
                }
            }
            _ => {}
        }
        notes.extend(self.notes.iter().cloned());
        notes
    }

    /// Converts to a [`Diagnostic`] located at the error's span (or `fallback` if no
    /// deserializer knew better).
    pub fn into_diagnostic(self, fallback: Span) -> Diagnostic {
        let mut d = Diagnostic::new(self.message(), self.span.unwrap_or(fallback));
        d.notes = self.all_notes();
        d
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(Kind::Message(msg.to_string()))
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::new(Kind::Message(format!(
            "expected {exp}, found {}",
            describe_unexpected(&unexp)
        )))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::new(Kind::Message(format!(
            "invalid value {}, expected {exp}",
            describe_unexpected(&unexp)
        )))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        let plural = |n: usize| if n == 1 { "value" } else { "values" };
        // serde says "a tuple of size 2" or "tuple variant X with 2 elements"; users count
        // values.
        let exp = exp.to_string();
        let wanted = exp
            .rsplit(' ')
            .find_map(|w| w.parse::<usize>().ok())
            .filter(|_| exp.ends_with("elements") || exp.contains("of size"));
        let message = match wanted {
            Some(n) => format!("expected {n} {}, found {len}", plural(n)),
            None => format!("expected {exp}, found {len} {}", plural(len)),
        };
        Error::new(Kind::Message(message))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::new(Kind::UnknownVariant {
            variant: variant.to_string(),
            expected,
        })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error::new(Kind::UnknownField {
            field: field.to_string(),
            expected: expected.to_vec(),
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(Kind::MissingField(field))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Error::new(Kind::Message(format!("option `{field}` is given twice")))
    }
}

/// The candidate that differs only by case (keywords are case-sensitive), else the closest.
fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let norm = |s: &str| s.replace('_', "-").to_ascii_lowercase();
    candidates
        .clone()
        .find(|c| norm(c) == norm(word) && *c != word)
        .or_else(|| did_you_mean(word, candidates))
}

/// serde's `Unexpected` phrased for configuration users: values in backticks.
fn describe_unexpected(unexp: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match unexp {
        U::Bool(b) => format!("`{}`", if *b { "yes" } else { "no" }),
        U::Unsigned(n) => format!("`{n}`"),
        U::Signed(n) => format!("`{n}`"),
        U::Float(n) => format!("`{n}`"),
        U::Char(c) => format!("`{c}`"),
        U::Str(s) => format!("`{s}`"),
        U::Bytes(_) => "bytes".to_string(),
        U::Unit => "nothing".to_string(),
        U::Option => "an optional value".to_string(),
        U::NewtypeStruct => "a value".to_string(),
        U::Seq => "a list of values".to_string(),
        U::Map => "a list of options".to_string(),
        U::Enum => "a choice".to_string(),
        U::UnitVariant | U::NewtypeVariant | U::TupleVariant | U::StructVariant => {
            "a keyword".to_string()
        }
        U::Other(s) => s.to_string(),
    }
}

/// Positional arguments are struct fields renamed to `"0"`, `"1"`, ... or `"0:path"`.
pub(crate) fn is_positional(field: &str) -> bool {
    field.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// The index of a positional field: `"1"` and `"1:port"` are both 1.
pub(crate) fn positional_index(field: &str) -> Option<usize> {
    let digits = field.split(':').next()?;
    digits.parse().ok()
}

/// How a positional field is named in messages: `"0:path"` is "path", `"0"` is "first".
pub(crate) fn positional_name(field: &str) -> Option<String> {
    if !is_positional(field) {
        return None;
    }
    if let Some((_, name)) = field.split_once(':') {
        if !name.is_empty() {
            return Some(name.to_string());
        }
    }
    let ordinal = match positional_index(field)? {
        0 => "first".to_string(),
        1 => "second".to_string(),
        2 => "third".to_string(),
        3 => "fourth".to_string(),
        4 => "fifth".to_string(),
        n => format!("#{}", n + 1),
    };
    Some(ordinal)
}
