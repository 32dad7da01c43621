//! `tags-parser(template())`, after syslog-ng 3.38's `tags-parser.c`: the input (`$MESSAGE`,
//! or what `template()` renders) is read as a comma-separated list ([`super::list_scanner`])
//! and every item becomes a tag of the message, as written (white space kept, an empty
//! quoted item `""` is a tag with an empty name). The parser never fails.

use std::sync::Arc;

use serde::Deserialize;

use crate::message::{LogMessage, TagId};

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &["template"];

/// `tags-parser()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TagsParserOptions {
    /// What to read the tags from instead of `$MESSAGE`.
    #[serde(default)]
    pub template: Option<String>,
}

/// A compiled `tags-parser()`.
#[derive(Debug)]
pub struct TagsParser;

impl TagsParser {
    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let items = crate::template::list_repr::scan(input);
        if items.is_empty() {
            return true;
        }
        let m = Arc::make_mut(msg);
        for tag in items {
            m.set_tag(TagId::intern(&String::from_utf8_lossy(&tag)));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::UnixTime;

    #[test]
    fn items_become_tags() {
        let mut m = Arc::new(LogMessage::new(UnixTime::default()));
        assert!(TagsParser.parse(br#"a, b,"c,d",,"#, &mut m));
        for t in ["a", " b", "c,d"] {
            assert!(m.has_tag(TagId::intern(t)), "{t}");
        }
        assert!(!m.has_tag(TagId::intern("b")));
        let before = Arc::clone(&m);
        assert!(TagsParser.parse(b"", &mut m));
        assert!(Arc::ptr_eq(&before, &m), "nothing to set, no copy");
    }
}
