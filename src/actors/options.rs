//! Option groups and helpers every driver shares, sources and destinations alike: the
//! [`DriverOptions`] trait and the [`driver_options!`](crate::driver_options) macro that
//! composes a driver's options from groups, finding an option's node and span in a call,
//! `owner()`/`group()`/`perm()` ([`FilePermOptions`]) and `hook-commands()`
//! ([`HookCommands`]).
//!
//! syslog-ng's grammar composes a driver's options from shared rules; serde's `flatten` cannot
//! be combined with unknown-option errors, so (as `config::de` recommends) each group is a
//! struct of its own, without `deny_unknown_fields`, and a driver's options are its own struct
//! plus the groups it takes, all read from the same call by `de::from_call_groups`: an option
//! that no part declares is reported once, with suggestions from all of them.

use serde::Deserialize;

use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, FileOwner};

/// A driver's options, readable from its call in the configuration.
pub trait DriverOptions: Sized {
    /// Reads and checks the options of one driver call (a [`Node::Call`]).
    fn from_call(call: &Node) -> Result<Self, Diagnostic>;

    /// Every option name the driver takes (positional arguments as `"0:path"`), for
    /// listings and the option tables of the documentation.
    fn option_names() -> Vec<&'static str>;
}

/// The field names of a serde struct (kebab-case option names), found by letting it ask a
/// probing deserializer; empty for anything that is not a struct.
pub fn fields_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    probe::fields::<T>()
}

mod probe {
    use serde::de::{self, DeserializeOwned, Visitor};

    #[derive(Debug)]
    struct Stop;

    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("probe")
        }
    }

    impl std::error::Error for Stop {}

    impl de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }

    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = Stop;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    pub(super) fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
        let mut found: &'static [&'static str] = &[];
        let _ = T::deserialize(Probe(&mut found));
        found
    }
}

/// Declares a driver's options as its own options plus shared groups, each a public field,
/// and implements [`DriverOptions`] for it with [`de::from_call_groups`](crate::config::de).
/// An optional `validate = path;` after the struct runs checks that involve several options
/// (`fn(&Options, &Node) -> Result<(), Diagnostic>`, the node being the driver call).
///
/// ```ignore
/// driver_options! {
///     /// Options of the `internal()` source.
///     pub struct InternalSourceOptions {
///         pub own: InternalSource,
///         pub source: SourceOptions,
///     }
/// }
/// ```
#[macro_export]
macro_rules! driver_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),+ $(,)?
        }
        $(validate = $validate:path;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)+
        }

        impl $crate::actors::sources::common::DriverOptions for $name {
            fn from_call(
                call: &$crate::config::Node,
            ) -> Result<Self, $crate::config::Diagnostic> {
                let ($($field,)+): ($($ty,)+) = $crate::config::de::from_call_groups(call)?;
                let options = $name { $($field),+ };
                $($validate(&options, call)?;)?
                Ok(options)
            }

            fn option_names() -> Vec<&'static str> {
                let mut names: Vec<&'static str> = Vec::new();
                $(
                    for f in $crate::actors::sources::common::fields_of::<$ty>() {
                        if !names.contains(f) {
                            names.push(f);
                        }
                    }
                )+
                names
            }
        }
    };
}

/// The last `name(...)` option of a driver call (`-` and `_` alike), for checks that span
/// several options and must point at one of them.
pub fn option_node<'a>(call: &'a Node, names: &[&str]) -> Option<&'a Node> {
    let Node::Call { args, .. } = call else {
        return None;
    };
    args.iter().rev().find(|a| match a {
        Node::Call { name, .. } => names
            .iter()
            .any(|n| crate::config::ast::keyword_eq(n, &name.value)),
        _ => false,
    })
}

/// The span to report an option-level problem at: the option if it was written, else the
/// driver's name.
pub fn option_span(call: &Node, names: &[&str]) -> crate::config::Span {
    match (option_node(call, names), call) {
        (Some(Node::Call { args, name, .. }), _) => args.first().map_or(name.span, Node::span),
        (_, Node::Call { name, .. }) => name.span,
        (_, other) => other.span(),
    }
}

/// `owner()`, `group()`, `perm()`, `dir-owner()`, `dir-group()`, `dir-perm()` (syslog-ng's
/// `file_perm_option`). `None` is the driver's default, which the driver documents (the global
/// options for files, "do not change" for pipes and sockets).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct FilePermOptions {
    /// Owner of the file or socket created; empty (`owner()`) leaves it unchanged.
    #[serde(default)]
    pub owner: Option<FileOwner>,
    /// Group of the file or socket created; empty leaves it unchanged.
    #[serde(default)]
    pub group: Option<FileOwner>,
    /// Permissions of the file or socket created (e.g. `0640`); empty leaves them.
    #[serde(default)]
    pub perm: Option<FileMode>,
    /// Owner of directories created by `create-dirs()`.
    #[serde(default)]
    pub dir_owner: Option<FileOwner>,
    /// Group of directories created by `create-dirs()`.
    #[serde(default)]
    pub dir_group: Option<FileOwner>,
    /// Permissions of directories created by `create-dirs()` (e.g. `0750`).
    #[serde(default)]
    pub dir_perm: Option<FileMode>,
}

/// `hook-commands()`: external programs run at the driver's lifecycle points.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HookCommands {
    /// Run as sluice starts (not on reload).
    #[serde(default)]
    pub startup: Option<String>,
    /// Run as sluice stops (not on reload).
    #[serde(default)]
    pub shutdown: Option<String>,
    /// Run when the configuration is initialized: on startup and on every reload.
    #[serde(default)]
    pub setup: Option<String>,
    /// Run when the configuration is torn down: on shutdown and on every reload.
    #[serde(default)]
    pub teardown: Option<String>,
}

/// A user (or group) name or id as a numeric id; `None` leaves it unchanged, or when the
/// name is unknown (`Err` with the name, for a warning).
pub fn owner_id(o: Option<&FileOwner>, group: bool) -> Result<Option<u32>, String> {
    match o {
        None | Some(FileOwner::Unchanged) => Ok(None),
        Some(FileOwner::Id(n)) => Ok(u32::try_from(*n).ok()),
        Some(FileOwner::Name(name)) => {
            let c = std::ffi::CString::new(name.as_str()).map_err(|_| name.clone())?;
            // SAFETY: a valid NUL-terminated name; the returned entry is read at once, before
            // any other getpwnam/getgrnam call on this thread.
            let id = unsafe {
                if group {
                    let g = libc::getgrnam(c.as_ptr());
                    (!g.is_null()).then(|| (*g).gr_gid)
                } else {
                    let p = libc::getpwnam(c.as_ptr());
                    (!p.is_null()).then(|| (*p).pw_uid)
                }
            };
            id.map(Some).ok_or_else(|| name.clone())
        }
    }
}
