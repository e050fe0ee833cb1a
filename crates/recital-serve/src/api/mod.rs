//! HTTP handlers, one module per area.

pub mod admin;
pub mod page;
pub mod registry;
pub mod scan;
pub mod signals;
