//! Live events: the in-process bus and the WebSocket that streams a company's events.

pub mod bus;

pub use bus::{EventBus, LiveEvent, Subscription};
