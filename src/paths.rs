//! Default locations of the daemon's files.
