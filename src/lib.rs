//! aikb: a research knowledge base for crypto × AI.
//!
//! The library owns every computation: reading notes ([`corpus`]), the taxonomy and
//! classifier ([`taxonomy`], [`classify`]), the tantivy index ([`index`]) and search
//! ([`search`]), the report ([`report`]) and adding notes ([`add`]). It never prints;
//! the binary renders what it returns.

#![warn(missing_docs)]

pub mod add;
pub mod analysis;
pub mod app;
pub mod check;
pub mod classify;
pub mod cli;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod fsutil;
pub mod index;
pub mod kb;
pub mod lexicon;
pub mod mention;
pub mod par;
pub mod project;
pub mod query;
pub mod render;
pub mod report;
pub mod search;
pub mod show;
pub mod svg;
pub mod taxonomy;
pub mod text;
pub mod wordmap;
pub mod yaml;

pub use error::{Diagnostic, Error, Exit, Result};
