//! One file per subcommand (`state` holds partial, merge and report); `deliver` renders
//! and writes reports and states for all of them.

pub mod bench;
pub mod deliver;
pub mod diff;
pub mod docs;
pub mod export;
pub mod find;
pub mod generate;
pub mod prices;
pub mod state;
pub mod summary;
