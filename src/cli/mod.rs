//! Command-line interface: parses arguments, calls the library, prints progress and errors.
//! The only place that knows clap, anyhow, indicatif and exit codes.
mod augment;
mod bench;
mod blender;
mod merge;
mod render;
mod report;
mod score;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "pinsynth",
    version,
    about = "Synthetic connector-inspection datasets (OK/NG terminals), rendered headless with wgpu"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a scene's cases and/or sweep into a dataset directory.
    Render(render::RenderArgs),
    /// Join the outputs of `render --shard K/N` into the dataset a single run would have written.
    Merge(merge::MergeArgs),
    /// Check a scene file and print the resolved scene (every default filled in).
    Validate(render::ValidateArgs),
    /// Measure images/second end to end (render, readback, PNG encode, write).
    Bench(bench::BenchArgs),
    /// Show the GPU adapter pinsynth would use.
    Info,
    /// Augment photos or datasets: a cut/flip/turn plan to review and apply, Keras-style random
    /// augmentation, class balancing.
    #[command(subcommand)]
    Augment(Box<augment::AugmentCommand>),
    /// Score heat maps (Grad-CAM, attention) against the ground truth: pointing game, relevance mass, ….
    Score(score::ScoreArgs),
    /// Write a static HTML page about a dataset (counts, contact sheets, histograms, score results).
    Report(report::ReportArgs),
}

/// Exit codes: 0 ok, 1 invalid input, 2 runtime failure.
pub fn main() -> ExitCode {
    // Bad arguments are invalid input (exit 1), not a runtime failure (clap's own code is 2).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Render(a) => render::render(a),
        Command::Merge(a) => merge::merge(a),
        Command::Validate(a) => render::validate(a),
        Command::Bench(a) => bench::bench(a),
        Command::Info => {
            tune_software_rasteriser(1);
            render::info()
        }
        Command::Augment(cmd) => augment::run(*cmd),
        Command::Score(a) => score::score(a),
        Command::Report(a) => report::report(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(e),
    }
}

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, what a shell reports for a process it killed).
const EXIT_INTERRUPTED: u8 = 130;

/// A flag Ctrl-C (SIGINT) sets, for [`pinsynth::run::RunOptions::cancel`]: the run finishes the images
/// in flight, keeps its journal consistent and returns `Interrupted`. A second Ctrl-C exits at once.
/// When SIGINT is already ignored (`nohup`, a background job without job control) the handler is not
/// installed (ctrlc refuses to replace it) and the process keeps ignoring it, as its parent asked.
pub fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if set.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }); // ok: see above; without a handler the flag simply stays false
    flag
}

/// Prints the error chain and picks the exit code: 1 when the input was at fault, 2 otherwise; an
/// interrupted run says how far it got and exits with 130.
fn report(err: anyhow::Error) -> ExitCode {
    if let Some(e @ pinsynth::Error::Interrupted { .. }) = err.downcast_ref::<pinsynth::Error>() {
        eprintln!("{e}");
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    // A closed pipe (`pinsynth validate x | head`) is not an error.
    if err
        .chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
    {
        return ExitCode::SUCCESS;
    }
    // A cause is printed only when it adds something (the library's one rule, shared with Python).
    eprintln!("error: {}", pinsynth::describe(err.as_ref()));
    let input = err
        .chain()
        .any(|c| c.is::<InputError>() || c.downcast_ref::<pinsynth::Error>().is_some_and(|e| e.is_input_error()));
    ExitCode::from(if input { 1 } else { 2 })
}

/// Marks an error as the user's input being at fault (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// On Mesa's lavapipe each device otherwise starts one rasteriser thread per core; with several render
/// workers (one device each) rasterising on the submitting thread uses the cores without
/// oversubscription. Real GPUs ignore the variable. Must run before any thread starts.
/// `NODEVICE_SELECT=1` turns off Mesa's device-select layer, which only prints a spurious
/// `XDG_RUNTIME_DIR` error in headless sessions (wgpu picks the adapter itself).
pub fn tune_software_rasteriser(workers: usize) {
    // SAFETY: called from the main thread before any other thread exists.
    unsafe {
        if workers > 1 && std::env::var_os("LP_NUM_THREADS").is_none() {
            std::env::set_var("LP_NUM_THREADS", "0");
        }
        if std::env::var_os("NODEVICE_SELECT").is_none() {
            std::env::set_var("NODEVICE_SELECT", "1");
        }
    }
}
