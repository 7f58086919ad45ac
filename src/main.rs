fn main() -> std::process::ExitCode {
    kos_twin::cli::run()
}
