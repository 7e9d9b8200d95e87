//! PRELOGIN (MS-TDS 2.2.6.5) and LOGIN7 (2.2.6.4): parsing the client's messages and building the replies.

use super::tokens;
use super::types::Collation;

/// PRELOGIN reply: version 10.50.6000 (2008 R2 SP3), ENCRYPT_NOT_SUP, no instance, no thread id, MARS off.
pub fn prelogin_reply() -> Vec<u8> {
    // Options: token, u16 BE offset, u16 BE length; then 0xFF; then data.
    let opts: [(u8, Vec<u8>); 5] = [
        (0x00, vec![10, 50, 0x17, 0x70, 0, 0]), // VERSION 10.50.6000, sub-build 0
        (0x01, vec![0x02]),                     // ENCRYPTION: ENCRYPT_NOT_SUP
        (0x02, vec![0x00]),                     // INSTOPT: default instance
        (0x03, vec![]),                         // THREADID: empty
        (0x04, vec![0x00]),                     // MARS off
    ];
    let mut head = Vec::new();
    let mut data = Vec::new();
    let base = opts.len() * 5 + 1;
    for (tok, d) in &opts {
        head.push(*tok);
        head.extend_from_slice(&((base + data.len()) as u16).to_be_bytes());
        head.extend_from_slice(&(d.len() as u16).to_be_bytes());
        data.extend_from_slice(d);
    }
    head.push(0xFF);
    head.extend_from_slice(&data);
    head
}

/// The client's encryption option from a PRELOGIN payload (None when absent or malformed).
pub fn prelogin_encryption(p: &[u8]) -> Option<u8> {
    let mut i = 0;
    while i + 5 <= p.len() && p[i] != 0xFF {
        let off = u16::from_be_bytes([p[i + 1], p[i + 2]]) as usize;
        if p[i] == 0x01 {
            return p.get(off).copied();
        }
        i += 5;
    }
    None
}

/// What a LOGIN7 message carries that this server uses.
#[derive(Debug, Default)]
pub struct Login7 {
    /// TDS version requested (0x74000004 for 7.4).
    pub tds_version: u32,
    /// Requested packet size.
    pub packet_size: u32,
    /// SQL login name.
    pub user: String,
    /// De-obfuscated password.
    pub password: String,
    /// Application name.
    pub app_name: String,
    /// Initial database (may be empty).
    pub database: String,
    /// OptionFlags2 `fIntSecurity` (0x80): a Windows login whose SSPI data follows.
    pub integrated: bool,
    /// SSPI data (ibSSPI/cbSSPI, or cbSSPILong when cbSSPI is 0xFFFF): an NTLM NEGOTIATE for Windows logins.
    pub sspi: Vec<u8>,
}

/// Parses LOGIN7.
///
/// # Errors
/// A message too short or with offsets outside it.
pub fn parse_login7(d: &[u8]) -> Result<Login7, &'static str> {
    if d.len() < 94 {
        return Err("LOGIN7 too short");
    }
    let u32_at = |o: usize| u32::from_le_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]);
    let u16_at = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    let field = |o: usize| -> Result<Vec<u8>, &'static str> {
        let (off, chars) = (u16_at(o), u16_at(o + 2));
        d.get(off..off + chars * 2)
            .map(<[u8]>::to_vec)
            .ok_or("LOGIN7 field out of range")
    };
    let text = |b: &[u8]| super::values::utf16_to_string(b);
    let mut pw = field(44)?;
    for b in pw.iter_mut() {
        let x = *b ^ 0xA5;
        *b = x.rotate_left(4);
    }
    let sspi = {
        let (off, short) = (u16_at(78), u16_at(80));
        let len = if short == 0xFFFF {
            u32_at(90) as usize
        } else {
            short
        };
        d.get(off..off.saturating_add(len))
            .ok_or("LOGIN7 SSPI data out of range")?
            .to_vec()
    };
    Ok(Login7 {
        integrated: d[25] & 0x80 != 0,
        sspi,
        tds_version: u32::from_be_bytes([d[4], d[5], d[6], d[7]]).swap_bytes(),
        packet_size: u32_at(8),
        user: text(&field(40)?),
        password: text(&pw),
        app_name: text(&field(48)?),
        database: text(&field(68)?),
    })
}

/// The token stream of a successful login: ENVCHANGE database, INFO 5701, ENVCHANGE collation, ENVCHANGE
/// language, INFO 5703, LOGINACK, ENVCHANGE packet size, DONE.
pub fn login_ok(database: &str, coll: &Collation, packet_size: u32, version: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::envchange_str(1, database, "master", &mut out);
    tokens::message(
        0xAB,
        5701,
        2,
        0,
        &format!("Changed database context to '{database}'."),
        &mut out,
    );
    tokens::envchange_collation(coll.bytes(), &mut out);
    tokens::envchange_str(2, "us_english", "", &mut out);
    tokens::message(
        0xAB,
        5703,
        1,
        0,
        "Changed language setting to us_english.",
        &mut out,
    );
    tokens::loginack(version, &mut out);
    tokens::envchange_str(4, &packet_size.to_string(), "4096", &mut out);
    tokens::done(0xFD, 0, 0, 0, &mut out);
    out
}

/// The token stream of a failed login: ERROR 18456 class 14, DONE with the error bit.
pub fn login_failed(user: &str) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::message(
        0xAA,
        18456,
        1,
        14,
        &format!("Login failed for user '{user}'."),
        &mut out,
    );
    tokens::done(0xFD, tokens::DONE_ERROR, 0, 0, &mut out);
    out
}

/// An SSPI token (0xED, MS-TDS 2.2.7.22): u16 length, then the security package's bytes (an NTLM CHALLENGE).
pub fn sspi_token(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 3);
    out.push(0xED);
    out.extend_from_slice(&(bytes.len().min(0xFFFF) as u16).to_le_bytes());
    out.extend_from_slice(&bytes[..bytes.len().min(0xFFFF)]);
    out
}

/// The token stream of a refused Windows login: error 18452 (untrusted domain) or 18456 (`Login failed for user
/// 'DOMAIN\user'.`), class 14 as SQL Server sends them, then DONE with the error bit.
pub fn windows_login_failed(error: i32, login: &str) -> Vec<u8> {
    let text = if error == 18452 {
        "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication."
            .to_string()
    } else {
        format!("Login failed for user '{login}'.")
    };
    let mut out = Vec::new();
    tokens::message(0xAA, error, 1, 14, &text, &mut out);
    tokens::done(0xFD, tokens::DONE_ERROR, 0, 0, &mut out);
    out
}

/// Error 4060 when the requested database is not the one served.
pub fn bad_database(db: &str, user: &str) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::message(
        0xAA,
        4060,
        1,
        11,
        &format!("Cannot open database \"{db}\" requested by the login. The login failed."),
        &mut out,
    );
    tokens::message(
        0xAA,
        18456,
        1,
        14,
        &format!("Login failed for user '{user}'."),
        &mut out,
    );
    tokens::done(0xFD, tokens::DONE_ERROR, 0, 0, &mut out);
    out
}
