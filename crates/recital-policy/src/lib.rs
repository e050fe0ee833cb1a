//! # recital-policy (under construction)
