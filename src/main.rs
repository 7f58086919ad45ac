#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    kos_twin::cli::run()
}

/// In the browser the page's script starts the module; the twin runs in the canvas.
#[cfg(target_arch = "wasm32")]
fn main() {
    kos_twin::web::run();
}
