//! The integration tests: one binary, a module per area (ripgrep's layout). Most drive
//! the real `steplog` binary; `hostile`, `properties` and parts of `state` call the
//! library. The allocation test is a separate binary (`tests/alloc.rs`) because it
//! installs a global allocator.

mod browser;
mod careless;
mod checked;
mod cli;
mod cost;
mod csv;
mod diff;
mod docs;
mod groups;
mod hostile;
mod notes;
mod orders;
mod outputs;
mod properties;
mod realworld;
mod reports;
mod responses;
mod runs;
mod screen;
mod shapes;
mod state;
mod unattended;
mod util;
