//! Test equipment for the Track-It! side: a seeded generator of Track-It!-shaped databases (`generate`) and a
//! strict TDS 7.4 server that serves them (`serve`). The database format is documented in FORMAT.md.

pub mod generate;
pub mod serve;
