//! `trackit-fixture serve`: a strict TDS 7.4 server (plaintext, loopback) that serves a fixture SQLite database
//! (FORMAT.md) the way SQL Server would serve the same tables. See the crate README for the SQL it supports.

pub mod catalog;
pub mod cellconv;
pub mod faults;
pub mod functions;
pub mod login;
pub mod ntlm;
pub mod packet;
pub mod rowbatch;
pub mod rpc;
pub mod session;
pub mod sql;
pub mod sqlexpr;
pub mod tokens;
pub mod types;
pub mod values;

use anyhow::Context as _;
use packet::{Message, PacketWriter, read_message};
use rusqlite::{Connection, OpenFlags};
use session::{Incoming, Outgoing, Shared};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Arguments of `trackit-fixture serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Fixture database (SQLite file in the FORMAT.md layout), opened read-only.
    #[arg(long)]
    pub db: PathBuf,
    /// Address to listen on; must be loopback. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// SQL login name accepted.
    #[arg(long, default_value = "sa")]
    pub user: String,
    /// Environment variable holding the accepted password; when it is unset the password is `fixture`.
    #[arg(long, default_value = "TRACKIT_FIXTURE_PASSWORD")]
    pub password_env: String,
    /// Windows login accepted through NTLM (integrated security), as `DOMAIN\user`. Without it every Windows login
    /// fails with error 18452 (untrusted domain).
    #[arg(long, value_name = "DOMAIN\\USER", value_parser = windows_login_arg)]
    pub windows_login: Option<String>,
    /// Environment variable holding the Windows login's password; when it is unset the password is `fixture`.
    #[arg(long, default_value = "TRACKIT_FIXTURE_WINDOWS_PASSWORD")]
    pub windows_password_env: String,
    /// Database name served (default: `_ti_database.database_name`); a login asking for another fails (4060).
    #[arg(long)]
    pub database: Option<String>,
    /// Fault to inject (repeatable): delay-ms=N, drop-after-rows=N[:table][@times],
    /// error-after-rows=N[:table][@times], refuse-logins=N.
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// Append the statement log here instead of stderr.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

/// Opens the database read-only with the `ti_*` functions registered, memory-mapped.
///
/// # Errors
/// The file cannot be opened.
pub fn open_db(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    functions::register(&conn)?;
    // Page reads through a memory map instead of one pread per page, and a larger page cache (64 MiB): the
    // read-only file is scanned again and again by keyset pages.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    conn.pragma_update(None, "cache_size", -65_536i64)?;
    Ok(conn)
}

/// Runs the server until killed. Prints `listening on 127.0.0.1:PORT` as its first stdout line.
///
/// # Errors
/// Checks `--windows-login` when the arguments are parsed, so a malformed one is a usage error (exit 2).
fn windows_login_arg(login: &str) -> Result<String, String> {
    ntlm::WindowsAccount::parse(login, String::new()).map(|_| login.to_string())
}

/// Unreadable database or catalog, bad `--fault`, non-loopback or busy listen address.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let conn = open_db(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let mut catalog = catalog::Catalog::load(&conn)?;
    drop(conn);
    if let Some(db) = &args.database {
        catalog.facts.name = db.clone();
    }
    let faults = faults::Faults::parse(&args.faults)?;
    let password = std::env::var(&args.password_env).unwrap_or_else(|_| "fixture".to_string());
    let windows = args
        .windows_login
        .as_deref()
        .map(|login| {
            let pw =
                std::env::var(&args.windows_password_env).unwrap_or_else(|_| "fixture".to_string());
            ntlm::WindowsAccount::parse(login, pw)
        })
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let log: Box<dyn Fn(&str) + Send + Sync> = match &args.log {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?;
            let f = Mutex::new(f);
            Box::new(move |line: &str| {
                if let Ok(mut f) = f.lock() {
                    let _ = writeln!(f, "{line}");
                }
            })
        }
        None => Box::new(|line: &str| eprintln!("{line}")),
    };
    let shared = Arc::new(Shared {
        catalog,
        faults,
        log,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "refusing to listen on non-loopback address {addr}"
        );
        println!("listening on {addr}");
        std::io::stdout().flush()?;
        let cfg = Arc::new(ConnConfig {
            db: args.db.clone(),
            user: args.user.clone(),
            password,
            windows,
        });
        loop {
            let (sock, _) = listener.accept().await?;
            let (shared, cfg) = (shared.clone(), cfg.clone());
            tokio::spawn(async move {
                if let Err(e) = handle(sock, shared.clone(), cfg).await {
                    (shared.log)(&format!("connection ended: {e}"));
                }
            });
        }
    })
}

struct ConnConfig {
    db: PathBuf,
    user: String,
    password: String,
    windows: Option<ntlm::WindowsAccount>,
}

async fn handle(
    mut sock: TcpStream,
    shared: Arc<Shared>,
    cfg: Arc<ConnConfig>,
) -> anyhow::Result<()> {
    if shared.faults.refuse_login() {
        (shared.log)("fault: refusing a connection");
        return Ok(());
    }
    sock.set_nodelay(true)?;
    let mut pw = PacketWriter::new(4096);
    // PRELOGIN
    let Some(Message { ty, .. }) = read_message(&mut sock).await? else {
        return Ok(());
    };
    anyhow::ensure!(
        ty == packet::PRELOGIN,
        "expected PRELOGIN, got packet type {ty:#x}"
    );
    pw.write(&mut sock, &login::prelogin_reply()).await?;
    pw.finish(&mut sock).await?;
    // LOGIN7
    let Some(Message { ty, data }) = read_message(&mut sock).await? else {
        return Ok(());
    };
    anyhow::ensure!(
        ty == packet::LOGIN7,
        "expected LOGIN7 (encryption is not supported), got packet type {ty:#x}"
    );
    let l = login::parse_login7(&data).map_err(anyhow::Error::msg)?;
    let facts = &shared.catalog.facts;
    let user = if l.integrated {
        windows_login(&mut sock, &mut pw, &l, &shared, &cfg).await?
    } else if l.user != cfg.user || l.password != cfg.password {
        (shared.log)(&format!("login failed for user '{}'", l.user));
        Err(login::login_failed(&l.user))
    } else {
        Ok(l.user.clone())
    };
    let reply = if let Err(refused) = &user {
        Err(refused.clone())
    } else if !l.database.is_empty() && !l.database.eq_ignore_ascii_case(&facts.name) {
        Err(login::bad_database(
            &l.database,
            user.as_deref().unwrap_or_default(),
        ))
    } else {
        let size = if l.packet_size == 0 {
            4096
        } else {
            l.packet_size.clamp(512, 32767)
        };
        let v = version_bytes(&facts.product_version);
        Ok((
            login::login_ok(&facts.name, &shared.catalog.collation, size, v),
            size,
        ))
    };
    let size = match reply {
        Err(bytes) => {
            pw.write(&mut sock, &bytes).await?;
            pw.finish(&mut sock).await?;
            let _ = sock.shutdown().await;
            return Ok(());
        }
        Ok((bytes, size)) => {
            pw.write(&mut sock, &bytes).await?;
            pw.finish(&mut sock).await?;
            size
        }
    };
    pw.set_packet_size(size as usize);
    let how = if l.integrated {
        " (Windows login, NTLMv2)"
    } else {
        ""
    };
    (shared.log)(&format!(
        "login: user '{}' app '{}'{how}",
        user.as_deref().unwrap_or_default(),
        l.app_name
    ));

    let conn = open_db(&cfg.db)?;
    let (req_tx, req_rx) = std::sync::mpsc::channel::<Incoming>();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Outgoing>(8);
    let attn = Arc::new(AtomicBool::new(false));
    let (s2, a2) = (shared.clone(), attn.clone());
    std::thread::spawn(move || session::run(conn, s2, req_rx, out_tx, a2));
    let (mut rd, mut wr) = sock.into_split();
    let reader = tokio::spawn(async move {
        while let Ok(Some(m)) = read_message(&mut rd).await {
            let msg = match m.ty {
                packet::SQL_BATCH => rpc::decode_batch(&m.data)
                    .map_or_else(|e| Incoming::Bad(e.0), Incoming::Request),
                packet::RPC => {
                    rpc::decode_rpc(&m.data).map_or_else(|e| Incoming::Bad(e.0), Incoming::Request)
                }
                packet::ATTENTION => {
                    attn.store(true, Ordering::SeqCst);
                    Incoming::Attention
                }
                packet::TRANSACTION => Incoming::Transaction,
                other => Incoming::Bad(format!("packet type {other:#x} is not supported")),
            };
            if req_tx.send(msg).is_err() {
                break;
            }
        }
    });
    while let Some(o) = out_rx.recv().await {
        match o {
            Outgoing::Bytes(b) => pw.write(&mut wr, &b).await?,
            Outgoing::End => pw.finish(&mut wr).await?,
            Outgoing::Close => {
                pw.flush_partial(&mut wr).await?;
                break;
            }
        }
    }
    reader.abort();
    let _ = wr.shutdown().await;
    Ok(())
}

/// The NTLM exchange of an integrated-security LOGIN7 ([`ntlm`]): answers the NEGOTIATE with a CHALLENGE in an
/// SSPI token, reads the AUTHENTICATE (packet type 0x11, or 0x10 as tiberius's `sspi-rs` path sends it) and
/// verifies it against `--windows-login`. `Ok(Ok(DOMAIN\user))` when accepted, `Ok(Err(tokens))` with error 18452
/// or 18456 when refused (the reason goes to the log only).
///
/// # Errors
/// Socket errors, the client closing or sending another message type mid-exchange.
async fn windows_login(
    sock: &mut TcpStream,
    pw: &mut PacketWriter,
    l: &login::Login7,
    shared: &Shared,
    cfg: &ConnConfig,
) -> anyhow::Result<Result<String, Vec<u8>>> {
    let refuse = |login: &str, why: &str, error: i32| {
        (shared.log)(&format!("login failed for user '{login}' ({why})"));
        login::windows_login_failed(error, login)
    };
    let negotiate_flags = match ntlm::negotiate_flags(&l.sspi) {
        Ok(f) => f,
        Err(e) => return Ok(Err(refuse("", &e.to_string(), 18452))),
    };
    let domain = cfg
        .windows
        .as_ref()
        .map_or("WORKGROUP", |a| a.domain.as_str());
    let server_challenge: [u8; 8] = rand::random();
    let challenge = ntlm::challenge(
        negotiate_flags,
        domain,
        server_challenge,
        ntlm::filetime_now(),
    );
    pw.write(sock, &login::sspi_token(&challenge)).await?;
    pw.finish(sock).await?;
    let Some(Message { ty, data }) = read_message(sock).await? else {
        anyhow::bail!("the client closed the connection during the NTLM exchange");
    };
    anyhow::ensure!(
        ty == packet::SSPI || ty == packet::LOGIN7,
        "expected an SSPI message (NTLM AUTHENTICATE), got packet type {ty:#x}"
    );
    let auth = match ntlm::parse_authenticate(&data) {
        Ok(a) => a,
        Err(e) => return Ok(Err(refuse("", &e.to_string(), 18456))),
    };
    let sent = format!("{}\\{}", auth.domain, auth.user);
    match ntlm::verify(
        cfg.windows.as_ref(),
        &l.sspi,
        &challenge,
        &server_challenge,
        &auth,
    ) {
        Ok(()) => Ok(Ok(cfg
            .windows
            .as_ref()
            .map_or(sent, ntlm::WindowsAccount::login_name))),
        Err(r) => Ok(Err(refuse(
            &sent,
            &format!("NTLM: {}", r.reason()),
            r.error(),
        ))),
    }
}

/// LOGINACK version bytes (major, minor, build high, build low) from a product version like `10.50.6000.34`.
fn version_bytes(v: &str) -> [u8; 4] {
    let p: Vec<u32> = v.split('.').filter_map(|x| x.parse().ok()).collect();
    let build = p.get(2).copied().unwrap_or(0) as u16;
    [
        p.first().copied().unwrap_or(10) as u8,
        p.get(1).copied().unwrap_or(50) as u8,
        (build >> 8) as u8,
        build as u8,
    ]
}
