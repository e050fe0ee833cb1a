//! SQLite store (under construction)
