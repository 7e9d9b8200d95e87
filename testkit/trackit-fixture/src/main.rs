//! `trackit-fixture`: test equipment. `generate` writes a Track-It!-shaped SQLite database (FORMAT.md),
//! `serve` serves such a database over TDS 7.4 on loopback. Never shipped to customers.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "trackit-fixture",
    version,
    about = "Track-It! test database: generate it, serve it over TDS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a Track-It!-shaped database, attachments, truth.json and admins.json.
    Generate(trackit_fixture::generate::GenerateArgs),
    /// Serve a fixture database over TDS 7.4 (plaintext) on a loopback port.
    Serve(trackit_fixture::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => trackit_fixture::generate::run(args),
        Command::Serve(args) => trackit_fixture::serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
