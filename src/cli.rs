//! Command-line interface of the `sluice` daemon (filled in below).
