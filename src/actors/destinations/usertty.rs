//! The `usertty()` destination: write messages to the terminals of a logged-in user (`*` for
//! every user), as Debian's default configuration does for emergencies.
//!
//! Option set checked against syslog-ng 3.38: the user (positional, required) and
//! `time-reopen()`; nothing else (no template, no queue options).

use serde::Deserialize;

use crate::config::global_options::Positive;

use crate::driver_options;

/// The `usertty()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UserttyDestination {
    /// The user whose terminals receive the messages, or `*` for every logged-in user
    /// (positional, required).
    #[serde(rename = "0:user")]
    pub user: String,
    /// Seconds to wait before trying again after a failed write. Must be positive. Default:
    /// the global `time-reopen()` (60).
    #[serde(default)]
    pub time_reopen: Option<Positive>,
}

driver_options! {
    /// Options of the `usertty()` destination.
    pub struct UserttyDestinationOptions {
        pub usertty: UserttyDestination,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn options() {
        let o: UserttyDestinationOptions = check(r#"usertty("root")"#);
        assert_eq!(o.usertty.user, "root");
        assert_eq!(o.usertty.time_reopen, None);
        let o: UserttyDestinationOptions = check(r#"usertty("*" time-reopen(10))"#);
        assert_eq!(o.usertty.time_reopen.map(|n| n.get()), Some(10));
        let e = err::<UserttyDestinationOptions>(r#"usertty("root" time-reopn(1))"#);
        assert_eq!(e.notes, vec!["did you mean `time-reopen`?"]);
        err::<UserttyDestinationOptions>(r#"usertty("root" template("x"))"#);
        err::<UserttyDestinationOptions>("usertty()");
        err::<UserttyDestinationOptions>(r#"usertty("a" "b")"#);
    }
}
