//! Live events: the in-process bus, and its feed from the store (committed activity, other
//! servers' events). The WebSocket that streams them is `api/events.rs`.

pub mod bus;
pub mod feed;

pub use bus::{EventBus, LiveEvent, Subscription};
