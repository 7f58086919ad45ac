//! Command line: the desktop twin by default, and subcommands for scripts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::anyhow;
use clap::{Parser, Subcommand};
use kos_grid::cli::{CliError, ContingencyArgs, PowerflowArgs};

use crate::desktop::{DesktopOptions, ScreenshotArgs};
use crate::headless::HeadlessArgs;
use crate::scene::load_scene;

#[derive(Parser, Debug)]
#[command(
    name = "kos-twin",
    version,
    about = "Digital twin of a community energy mesh, its infrastructure pods and supply network",
    long_about = "Digital twin of a community energy mesh, its infrastructure pods and supply network.\n\nWith no subcommand, opens the desktop twin on the built-in default scene (or --scene FILE)."
)]
struct Cli {
    /// Scene to open in the desktop view (RON); the built-in default scene when left out.
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Mirror live telemetry from this MQTT broker (`mqtt://host:port`, `mqtts://...`).
    #[arg(long)]
    mqtt: Option<String>,
    /// Telemetry settings file (RON: broker, site, credentials, TLS, limits).
    #[arg(long)]
    mqtt_config: Option<PathBuf>,
    /// Append what the twin produces to the resource ledger in this directory (the Ledger
    /// window shows it).
    #[arg(long)]
    ledger: Option<crate::ledger::Place>,
    /// The ledger's private key file (default: `$KOS_LEDGER_KEY`, else `<ledger dir>.key`).
    #[arg(long, requires = "ledger")]
    ledger_key: Option<PathBuf>,
    /// A fault at a minute of the run, `ASSET@MINUTES[:temporary]` (a prepared drill);
    /// repeatable. The overlay's Protection window raises faults too.
    #[arg(long = "fault")]
    faults: Vec<crate::protection::ScheduledFault>,
    /// An operator's switching at a minute of the run, `BRANCH@MINUTES:open|close`;
    /// repeatable.
    #[arg(long = "switch")]
    switching: Vec<crate::protection::ScheduledSwitching>,
    /// An emergency mode on at a minute of the run (`storm@0`), or off (`storm@120:off`);
    /// repeatable. The Protection window switches modes too.
    #[arg(long = "mode")]
    modes: Vec<crate::protection::ScheduledMode>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scene with no window and write a JSON report.
    Headless(HeadlessArgs),
    /// Check scene files; print every problem with file:line:column.
    Validate {
        /// Scene files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render the desktop view of a scene to a PNG file.
    Screenshot(ScreenshotArgs),
    /// Solve the power flow of a MATPOWER case, a pf-refdata JSON file or a scene.
    Powerflow(PowerflowArgs),
    /// N-1 contingency analysis over every in-service branch.
    Contingency(ContingencyArgs),
    /// Write a generated community scene of any size: feeders, solar, wind, storage, pods.
    Generate {
        /// Number of buses.
        #[arg(long)]
        buses: usize,
        /// Seed of the layout and of the scene's random processes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (RON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Publish telemetry for a scene from its models over MQTT (demo feed, load generator).
    #[cfg(not(target_arch = "wasm32"))]
    TelemetrySim(crate::telemetry::simulator::TelemetrySimArgs),
    /// Share scarce resources fairly: critical minimums, then weighted DRF (JSON in and out).
    Allocate(crate::commons::cli::AllocateArgs),
    /// Short-circuit currents at every bus (IEC 60909): I"k, ip, S"k, I"k2.
    Shortcircuit(crate::protection::cli::ShortCircuitArgs),
    /// Protection devices: the coordination check.
    Protection(crate::protection::cli::ProtectionCommand),
    /// The resource ledger: verify, prove, list, cosign; make keys.
    #[command(subcommand)]
    Ledger(crate::ledger::cli::LedgerCommand),
    /// Proposals to the community: simulate one against the baseline before the vote.
    #[command(subcommand)]
    Proposal(crate::governance::ProposalCommand),
    /// Write the built-in default scene to a file, to start a new scene from.
    DefaultScene {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Reads a power-flow case: a scene (`.ron`) or whatever kos-grid reads.
fn load_case(path: &Path) -> Result<kos_grid::Network, CliError> {
    if path.extension().and_then(|e| e.to_str()) == Some("ron") {
        let (scene, _) =
            load_scene(Some(path)).map_err(|e| -> CliError { e.to_string().into() })?;
        Ok(kos_scene::build_grid(&scene).network)
    } else {
        Ok(kos_grid::load_case(path)?)
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for f in files {
        match kos_scene::load(f) {
            Ok(_) => failed |= kos_grid::cli::print(&format!("{}: ok", f.display())).is_err(),
            Err(errors) => {
                failed = true;
                for e in errors {
                    let _ = kos_grid::cli::print(&e.to_string());
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn generate(buses: usize, seed: u64, out: &Path) -> anyhow::Result<String> {
    use kos_scene::generate::{MAX_BUSES, MIN_BUSES};
    if !(MIN_BUSES..=MAX_BUSES).contains(&buses) {
        return Err(anyhow!(
            "--buses must lie in {MIN_BUSES}..={MAX_BUSES}, got {buses}"
        ));
    }
    let scene = kos_scene::generate(buses, seed);
    std::fs::write(out, kos_scene::to_ron(&scene))
        .map_err(|e| anyhow!("{}: {e}", out.display()))?;
    Ok(format!(
        "{}: {} buses, {} lines, {} transformers, {} generators, {} batteries, {} loads, {} pods",
        out.display(),
        scene.buses.len(),
        scene.lines.len(),
        scene.transformers.len(),
        scene.generators.len(),
        scene.storage.len(),
        scene.loads.len(),
        scene.pods.len()
    ))
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome: anyhow::Result<Option<String>> = match cli.command {
        None => crate::desktop::run(DesktopOptions {
            scene: cli.scene,
            mqtt: cli.mqtt,
            mqtt_config: cli.mqtt_config,
            ledger: cli.ledger.map(|place| crate::ledger::LedgerConfig {
                place,
                key: cli.ledger_key,
            }),
            faults: cli.faults,
            switching: cli.switching,
            modes: cli.modes,
            ..Default::default()
        })
        .map(|_| None),
        Some(Command::Validate { files }) => return validate(&files),
        Some(Command::Headless(a)) => crate::headless::run(&a).map(|_| None),
        #[cfg(not(target_arch = "wasm32"))]
        Some(Command::TelemetrySim(a)) => crate::telemetry::simulator::run(&a).map(Some),
        Some(Command::Screenshot(a)) => crate::desktop::screenshot(&a).map(|_| None),
        Some(Command::Powerflow(a)) => kos_grid::cli::powerflow(&a, load_case)
            .map(Some)
            .map_err(|e| anyhow!("{e}")),
        Some(Command::Contingency(a)) => kos_grid::cli::contingency(&a, load_case)
            .map(Some)
            .map_err(|e| anyhow!("{e}")),
        Some(Command::Generate { buses, seed, out }) => generate(buses, seed, &out).map(Some),
        Some(Command::Ledger(c)) => crate::ledger::cli::run(&c).map(Some),
        Some(Command::Proposal(c)) => crate::governance::run(&c).map(Some),
        Some(Command::Allocate(a)) => crate::commons::cli::run(&a).map(Some),
        Some(Command::Shortcircuit(a)) => crate::protection::cli::run(&a).map(Some),
        Some(Command::Protection(c)) => crate::protection::cli::protection(&c).map(Some),
        Some(Command::DefaultScene { out }) => std::fs::write(&out, crate::scene::DEFAULT_SCENE)
            .map(|_| None)
            .map_err(|e| anyhow!("{}: {e}", out.display())),
    };
    match outcome {
        Ok(Some(text)) => match kos_grid::cli::print(text.trim_end()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: standard output: {e}");
                ExitCode::from(2)
            }
        },
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
