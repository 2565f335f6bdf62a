//! The network around the server: where it listens for each bind mode ([`listen`]), who is
//! really calling behind trusted reverse proxies ([`proxies`]), and this machine's own place on
//! a tailnet, read from tailscaled's LocalAPI ([`tailscale`]).

pub mod listen;
pub mod proxies;
pub mod tailscale;
