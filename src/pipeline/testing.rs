//! Test helpers: a configuration text to a [`Router`], messages in, deliveries out.

use std::sync::Arc;

use crate::config::load::{LoadOptions, load_str};
use crate::config::model::{Model, build};
use crate::message::{LogMessage, UnixTime};

use super::{BuildEnv, Router};

/// The model of a configuration text (panics on errors: tests only).
pub fn model(text: &str) -> Model {
    let loaded = load_str("test.conf", text, &LoadOptions::default()).expect("config loads");
    build(&loaded.ast).expect("model builds")
}

/// A router for a configuration text.
pub fn router(text: &str) -> Router {
    let m = model(text);
    let env = BuildEnv::new(&m);
    Router::build(&m, &env).expect("router builds")
}

/// A message with the given program and text.
pub fn msg(program: &str, text: &str) -> Arc<LogMessage> {
    let mut m = LogMessage::new(UnixTime::default());
    m.set("PROGRAM", program.as_bytes());
    m.set("MESSAGE", text.as_bytes());
    Arc::new(m)
}

/// Routes `m` from source `src` and returns the names of the destinations it reached.
pub fn deliveries(r: &Router, src: &str, m: Arc<LogMessage>) -> Vec<String> {
    let mut out = Vec::new();
    let id = r.source_id(src).expect("source exists");
    r.route(id, m, &mut |d, _| {
        out.push(r.destinations()[d.dest.0 as usize].clone())
    });
    out
}
