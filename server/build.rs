//! A release build carries the board UI (`frontend/dist`) inside the binary (rust-embed), so it
//! must be rebuilt when the UI is. A build with debug assertions (a debug build) reads
//! `frontend/dist` at each request and needs nothing here.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // rust-embed reads the folder at run time exactly when debug assertions are on.
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some() {
        return;
    }
    // Watch `dist` once it exists; before that, the folder it will appear in (a path that does
    // not exist would make cargo run this script, and rebuild the crate, every time).
    if std::path::Path::new("../frontend/dist").is_dir() {
        println!("cargo:rerun-if-changed=../frontend/dist");
    } else {
        println!("cargo:rerun-if-changed=../frontend");
    }
}
