#![no_main]
//! MATPOWER case text: parsed without panicking, and what parses solves to finite numbers.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(net) = kos_grid::parse_matpower(&text, "fuzz.m") {
        common::solve_all(&net);
    }
});
