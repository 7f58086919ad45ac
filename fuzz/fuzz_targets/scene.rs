#![no_main]
//! Scene RON: parsed and validated without panicking, and a valid scene's grid solves to
//! finite numbers.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scene) = kos_scene::parse(&text, "fuzz.ron") {
        common::solve_all(&kos_scene::build_grid(&scene).network);
    }
});
