//! One file per subcommand; each returns the exit status it wants.

pub mod bench;
pub mod docs;
pub mod generate;
pub mod summary;
