//! Integration tests: each runs the real `aikb` binary on a temporary copy of a
//! knowledge base. One test binary, one module per area.

// Shared helpers: temporary knowledge bases and running the binary.
mod util;
// The classify result shape shared by classify, add and show.
mod json;

// `aikb search`, `index`, `check`, `init`, `completions`: the core.
mod core;
// `aikb classify`, `eval`, `taxonomy check`.
mod classify;
// `aikb report` and `aikb show`.
mod report;
// `aikb add`.
mod add;
// `aikb train` and the lexicon.
mod train;
