//! Heartbeats: the scheduler that decides when an agent wakes, the runs that carry each wake
//! through an adapter, and the supervisor that decides how a run's process lives and dies.

pub mod procs;
pub mod supervisor;

#[cfg(test)]
mod supervisor_tests;
