#![no_main]
//! `pf-refdata/1` JSON: parsed without panicking, and what parses solves to finite numbers.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(case) = kos_grid::parse_refdata(&text, "fuzz.json") {
        common::solve_all(&case.network);
    }
});
