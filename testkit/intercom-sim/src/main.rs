//! `intercom-sim` binary: parses arguments and runs the simulator (exit 0 on SIGTERM/Ctrl-C, 2 on bad
//! arguments or configuration, 1 on runtime failure).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use intercom_sim::{SimConfig, SimError};

/// mimalloc: the simulator's requests are allocation-heavy (JSON trees); with glibc malloc about a quarter of
/// the server's CPU went to malloc/free (see README, Benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A strict, stateful Intercom REST API (2.16) simulator for tests.
#[derive(Debug, Parser)]
#[command(name = "intercom-sim", version)]
struct Args {
    /// Address to listen on (loopback only in tests).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Environment variable holding the bearer token requests must carry.
    #[arg(long, default_value = "INTERCOM_TOKEN")]
    token_env: String,
    /// admins.json written by the fixture generator (`{"me":…,"admins":[…],"teams":[…]}`).
    #[arg(long)]
    seed_admins: Option<PathBuf>,
    /// Requests per minute, enforced per 10-second window as ceil(N/6); 0 disables limiting.
    #[arg(long, default_value_t = 10_000)]
    rate_limit_per_minute: u32,
    /// Milliseconds before new contacts/conversations appear in search results.
    #[arg(long, default_value_t = 2_000)]
    search_lag_ms: u64,
    /// Latency added to every API response, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault spec (repeatable): 5xx=RATE, reset-after-apply=RATE, latency-ms=N, 429-storm=SECONDS,
    /// no-ratelimit-headers.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// Write the state JSON here on shutdown.
    #[arg(long)]
    state_out: Option<PathBuf>,
    /// Parts returned by GET /conversations/{id} (newest).
    #[arg(long, default_value_t = 500)]
    max_parts_returned: usize,
    /// Custom attributes per model (archived ones count).
    #[arg(long, default_value_t = 250)]
    attribute_quota: usize,
    /// Characters allowed in attribute names besides ASCII letters and digits.
    #[arg(long, default_value = "_-")]
    attribute_name_extra_chars: String,
    /// Maximum characters of a string custom-attribute value.
    #[arg(long, default_value_t = 255)]
    max_string_attribute_len: usize,
    /// Maximum attachment_files (and attachment_urls) per reply.
    #[arg(long, default_value_t = 10)]
    max_attachments: usize,
    /// Maximum decoded bytes of one attachment file.
    #[arg(long, default_value_t = 100 * 1024 * 1024)]
    max_attachment_bytes: usize,
    /// Maximum request body bytes.
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Comma-separated refused attachment extensions (default: ti-shared's restricted list).
    #[arg(long, value_delimiter = ',')]
    restricted_extensions: Option<Vec<String>>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Ok(token) = std::env::var(&args.token_env) else {
        eprintln!("intercom-sim: {}", SimError::MissingToken(args.token_env));
        return ExitCode::from(2);
    };
    let defaults = SimConfig::default();
    let cfg = SimConfig {
        listen: args.listen,
        token,
        seed_admins: args.seed_admins,
        rate_limit_per_minute: args.rate_limit_per_minute,
        search_lag_ms: args.search_lag_ms,
        latency_ms: args.latency_ms,
        faults: args.faults,
        fault_seed: args.fault_seed,
        state_out: args.state_out,
        max_parts_returned: args.max_parts_returned,
        attribute_quota: args.attribute_quota,
        attribute_name_extra_chars: args.attribute_name_extra_chars,
        max_string_attribute_len: args.max_string_attribute_len,
        max_attachments: args.max_attachments,
        max_attachment_bytes: args.max_attachment_bytes,
        max_body_bytes: args.max_body_bytes,
        restricted_extensions: args
            .restricted_extensions
            .unwrap_or(defaults.restricted_extensions),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("intercom-sim: starting runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(intercom_sim::run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (SimError::SeedAdmins { .. } | SimError::Fault(_) | SimError::MissingToken(_))) => {
            eprintln!("intercom-sim: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("intercom-sim: {e}");
            ExitCode::from(1)
        }
    }
}
