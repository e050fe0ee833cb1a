//! # recital-serve (under construction)
pub mod store;
