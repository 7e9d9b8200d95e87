//! NTLM (MS-NLMP) for Windows logins over TDS: the server side of an integrated-security LOGIN7.
//!
//! The flow (MS-TDS 2.2.6.4 and 2.2.7.22, MS-NLMP 3.2 and 3.3.2):
//! 1. LOGIN7 with OptionFlags2 `fIntSecurity` carries an NTLM NEGOTIATE message as its SSPI data.
//! 2. The server answers with an SSPI token (0xED) holding a CHALLENGE: a random 8-byte server challenge, target
//!    name = the NetBIOS domain, target info (domain, computer, DNS names, timestamp).
//! 3. The client sends the AUTHENTICATE message as an SSPI message (packet type 0x11; tiberius with `sspi-rs`
//!    sends it in a packet of type 0x10, which SQL Server also accepts).
//! 4. The server checks domain, user and the NTLMv2 response against the configured account: NTOWFv2 =
//!    HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)), NTProofStr = HMAC-MD5(NTOWFv2,
//!    server challenge + blob), and, when the client says it sent one (MsvAvFlags bit 0x2), the MIC =
//!    HMAC-MD5(exported session key, NEGOTIATE + CHALLENGE + AUTHENTICATE with the MIC zeroed).
//!
//! Only NTLMv2 is accepted (no NTLMv1, no anonymous); Kerberos/SPNEGO tokens are refused. The CHALLENGE never
//! offers `NEGOTIATE_KEY_EXCH`, but an AUTHENTICATE that sets it is still handled (RC4-decrypted session key).

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;

/// `NTLMSSP\0`, the first 8 bytes of every NTLM message.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// NegotiateFlags bits used here (MS-NLMP 2.2.2.5).
pub mod flags {
    /// NTLMSSP_NEGOTIATE_UNICODE: strings are UTF-16LE.
    pub const UNICODE: u32 = 0x0000_0001;
    /// NTLMSSP_REQUEST_TARGET.
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// NTLMSSP_NEGOTIATE_SIGN.
    pub const SIGN: u32 = 0x0000_0010;
    /// NTLMSSP_NEGOTIATE_SEAL.
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLMSSP_NEGOTIATE_NTLM.
    pub const NTLM: u32 = 0x0000_0200;
    /// NTLMSSP_NEGOTIATE_ALWAYS_SIGN.
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// NTLMSSP_TARGET_TYPE_DOMAIN.
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    /// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY.
    pub const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
    /// NTLMSSP_NEGOTIATE_TARGET_INFO.
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// NTLMSSP_NEGOTIATE_VERSION.
    pub const VERSION: u32 = 0x0200_0000;
    /// NTLMSSP_NEGOTIATE_128.
    pub const N128: u32 = 0x2000_0000;
    /// NTLMSSP_NEGOTIATE_KEY_EXCH.
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// NTLMSSP_NEGOTIATE_56.
    pub const N56: u32 = 0x8000_0000;
}

/// AV_PAIR ids (MS-NLMP 2.2.2.1).
mod av {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
}

/// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
const AV_FLAG_MIC: u32 = 0x2;
/// Offset of the MIC in an AUTHENTICATE message with a VERSION field (MS-NLMP 2.2.1.3).
const MIC_OFFSET: usize = 72;
/// Server computer name in the target info.
pub const COMPUTER: &str = "TRACKIT-FIXTURE";

/// The Windows account a fixture server accepts: `DOMAIN\user` and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsAccount {
    /// NetBIOS domain (`CORP`), compared case-insensitively.
    pub domain: String,
    /// User name without the domain (`svc_trackit`), compared case-insensitively.
    pub user: String,
    /// Clear-text password (the server only ever hashes it).
    pub password: String,
}

impl WindowsAccount {
    /// Parses `DOMAIN\user` (as given to `--windows-login`).
    ///
    /// # Errors
    /// Not exactly one backslash, an empty domain or user, or spaces / control characters in either.
    pub fn parse(login: &str, password: String) -> Result<WindowsAccount, String> {
        let plain = |part: &str| {
            !part.is_empty()
                && !part.contains('\\')
                && !part.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        match login.split_once('\\') {
            Some((d, u)) if plain(d) && plain(u) => Ok(WindowsAccount {
                domain: d.to_string(),
                user: u.to_string(),
                password,
            }),
            _ => Err(format!(
                "'{login}': expected DOMAIN\\user with one backslash and no spaces (e.g. CORP\\svc_trackit)"
            )),
        }
    }

    /// `DOMAIN\user` as SQL Server names Windows logins.
    pub fn login_name(&self) -> String {
        format!("{}\\{}", self.domain, self.user)
    }
}

/// A malformed or unexpected NTLM message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NTLM: {0}")]
pub struct NtlmError(pub String);

fn bad(what: &str) -> NtlmError {
    NtlmError(what.to_string())
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|x| u16::from_le_bytes([x[0], x[1]]))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

/// The bytes a security-buffer field (len u16, maxlen u16, offset u32) at `o` points to.
fn field(b: &[u8], o: usize) -> Result<&[u8], NtlmError> {
    let len = u16_at(b, o).ok_or_else(|| bad("message too short"))? as usize;
    let off = u32_at(b, o + 4).ok_or_else(|| bad("message too short"))? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(off..off.saturating_add(len))
        .ok_or_else(|| bad("field outside the message"))
}

/// Checks signature and message type; returns the message's NegotiateFlags offset-independent type.
fn check_header(b: &[u8], ty: u32) -> Result<(), NtlmError> {
    if b.len() < 12 || &b[..8] != SIGNATURE {
        return Err(bad(
            "not an NTLM message (only NTLM is supported, not Kerberos/SPNEGO)",
        ));
    }
    match u32_at(b, 8) {
        Some(t) if t == ty => Ok(()),
        Some(t) => Err(NtlmError(format!("expected message type {ty}, got {t}"))),
        None => Err(bad("message too short")),
    }
}

/// The NegotiateFlags of a NEGOTIATE message (type 1).
///
/// # Errors
/// Not an NTLM NEGOTIATE message.
pub fn negotiate_flags(negotiate: &[u8]) -> Result<u32, NtlmError> {
    check_header(negotiate, 1)?;
    u32_at(negotiate, 12).ok_or_else(|| bad("NEGOTIATE too short"))
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn push_av(id: u16, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

/// The CHALLENGE message (type 2) answering `negotiate_flags` for `domain`: target name = domain, target info =
/// NetBIOS domain and computer, DNS domain and computer (lower case), timestamp (`filetime`, 100 ns since 1601).
/// Signing and sealing are echoed when asked for; KEY_EXCH is never offered.
pub fn challenge(
    negotiate_flags: u32,
    domain: &str,
    server_challenge: [u8; 8],
    filetime: u64,
) -> Vec<u8> {
    let f = flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::NTLM
        | flags::ALWAYS_SIGN
        | flags::TARGET_TYPE_DOMAIN
        | flags::EXTENDED_SESSION_SECURITY
        | flags::TARGET_INFO
        | flags::VERSION
        | flags::N128
        | flags::N56
        | (negotiate_flags & (flags::SIGN | flags::SEAL));
    let target_name = utf16(&domain.to_ascii_uppercase());
    let dns_domain = domain.to_ascii_lowercase();
    let mut info = Vec::new();
    push_av(av::NB_DOMAIN_NAME, &target_name, &mut info);
    push_av(av::NB_COMPUTER_NAME, &utf16(COMPUTER), &mut info);
    push_av(av::DNS_DOMAIN_NAME, &utf16(&dns_domain), &mut info);
    push_av(
        av::DNS_COMPUTER_NAME,
        &utf16(&format!("{}.{dns_domain}", COMPUTER.to_ascii_lowercase())),
        &mut info,
    );
    push_av(av::TIMESTAMP, &filetime.to_le_bytes(), &mut info);
    push_av(av::EOL, &[], &mut info);

    const HEADER: usize = 56;
    let mut m = Vec::with_capacity(HEADER + target_name.len() + info.len());
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&2u32.to_le_bytes());
    let sec_buf = |len: usize, off: usize, m: &mut Vec<u8>| {
        m.extend_from_slice(&(len as u16).to_le_bytes());
        m.extend_from_slice(&(len as u16).to_le_bytes());
        m.extend_from_slice(&(off as u32).to_le_bytes());
    };
    sec_buf(target_name.len(), HEADER, &mut m);
    m.extend_from_slice(&f.to_le_bytes());
    m.extend_from_slice(&server_challenge);
    m.extend_from_slice(&[0; 8]);
    sec_buf(info.len(), HEADER + target_name.len(), &mut m);
    // Version: Windows Server 2008 R2 (6.1.7601), NTLMSSP revision 15.
    m.extend_from_slice(&[6, 1, 0xB1, 0x1D, 0, 0, 0, 0x0F]);
    m.extend_from_slice(&target_name);
    m.extend_from_slice(&info);
    m
}

/// What an AUTHENTICATE message (type 3) says.
#[derive(Debug, Clone)]
pub struct Authenticate {
    /// Domain as sent (used verbatim in NTOWFv2).
    pub domain: String,
    /// User as sent (upper-cased in NTOWFv2).
    pub user: String,
    /// NtChallengeResponse: NTProofStr (16 bytes) + blob.
    pub nt_response: Vec<u8>,
    /// EncryptedRandomSessionKey (used when KEY_EXCH is set).
    pub encrypted_session_key: Vec<u8>,
    /// NegotiateFlags of this message.
    pub flags: u32,
    /// The whole message as received.
    pub message: Vec<u8>,
}

/// Parses an AUTHENTICATE message.
///
/// # Errors
/// Not an NTLM AUTHENTICATE message, or fields outside it.
pub fn parse_authenticate(b: &[u8]) -> Result<Authenticate, NtlmError> {
    check_header(b, 3)?;
    let flags = u32_at(b, 60).ok_or_else(|| bad("AUTHENTICATE too short"))?;
    let text = |raw: &[u8]| -> String {
        if flags & flags::UNICODE != 0 {
            let u: Vec<u16> = raw
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&u)
        } else {
            raw.iter().map(|&c| char::from(c)).collect()
        }
    };
    Ok(Authenticate {
        nt_response: field(b, 20)?.to_vec(),
        domain: text(field(b, 28)?),
        user: text(field(b, 36)?),
        encrypted_session_key: field(b, 52)?.to_vec(),
        flags,
        message: b.to_vec(),
    })
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
pub fn ntowfv2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash: [u8; 16] = Md4::digest(utf16(password)).into();
    hmac_md5(&nt_hash, &[&utf16(&(user.to_uppercase() + domain))])
}

/// NTProofStr (MS-NLMP 3.3.2): HMAC-MD5(NTOWFv2, server challenge + blob), where the blob is the
/// NtChallengeResponse after its first 16 bytes.
pub fn nt_proof(ntowf: &[u8; 16], server_challenge: &[u8; 8], blob: &[u8]) -> [u8; 16] {
    hmac_md5(ntowf, &[server_challenge, blob])
}

/// RC4 (for an EncryptedRandomSessionKey under KEY_EXCH, MS-NLMP 3.4.5.1 / 3.1.5.1.2).
fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: [u8; 256] = std::array::from_fn(|i| i as u8);
    let mut j = 0u8;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            b ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

/// MsvAvFlags from the AV pairs of an NTLMv2 blob (0 when absent or malformed).
fn blob_av_flags(blob: &[u8]) -> u32 {
    let mut o = 28;
    while let (Some(id), Some(len)) = (u16_at(blob, o), u16_at(blob, o + 2)) {
        let len = len as usize;
        if id == av::EOL {
            break;
        }
        if id == av::FLAGS && len == 4 {
            return u32_at(blob, o + 4).unwrap_or(0);
        }
        o += 4 + len;
    }
    0
}

/// Why a Windows login is refused. `error()` gives the SQL Server error number to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The domain is not the configured one (or empty): error 18452.
    UntrustedDomain,
    /// Another user of the right domain: error 18456.
    UnknownUser,
    /// No NTLMv2 response (NTLMv1 or anonymous): error 18456.
    NotNtlmV2,
    /// The NTProofStr does not match the configured password: error 18456.
    WrongPassword,
    /// The MIC does not match (message tampered with): error 18456.
    BadMic,
}

impl Refusal {
    /// SQL Server's error number for this refusal.
    pub fn error(&self) -> i32 {
        match self {
            Refusal::UntrustedDomain => 18452,
            _ => 18456,
        }
    }

    /// Reason for the server's log (SQL Server's error log gives similar reasons; the client is not told).
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::UntrustedDomain => "untrusted domain",
            Refusal::UnknownUser => "no such Windows login",
            Refusal::NotNtlmV2 => "not an NTLMv2 response",
            Refusal::WrongPassword => "wrong password",
            Refusal::BadMic => "MIC mismatch",
        }
    }
}

/// Verifies an AUTHENTICATE message against `account` (MS-NLMP 3.3.2 and 3.2.5.1.2): domain and user, the
/// NTLMv2 proof, and the MIC when the client says it sent one. `negotiate` and `challenge` are the two earlier
/// messages exactly as exchanged.
pub fn verify(
    account: Option<&WindowsAccount>,
    negotiate: &[u8],
    challenge: &[u8],
    server_challenge: &[u8; 8],
    auth: &Authenticate,
) -> Result<(), Refusal> {
    let Some(account) = account else {
        return Err(Refusal::UntrustedDomain);
    };
    if auth.domain.is_empty() || !auth.domain.eq_ignore_ascii_case(&account.domain) {
        return Err(Refusal::UntrustedDomain);
    }
    if !auth.user.eq_ignore_ascii_case(&account.user) {
        return Err(Refusal::UnknownUser);
    }
    // NTProofStr (16) + blob header up to the AV pairs (28).
    if auth.nt_response.len() < 16 + 28 || auth.nt_response[16] != 1 {
        return Err(Refusal::NotNtlmV2);
    }
    let (proof, blob) = auth.nt_response.split_at(16);
    let ntowf = ntowfv2(&account.password, &auth.user, &auth.domain);
    if nt_proof(&ntowf, server_challenge, blob) != proof {
        return Err(Refusal::WrongPassword);
    }
    if blob_av_flags(blob) & AV_FLAG_MIC != 0 {
        // NTLMv2: KeyExchangeKey = SessionBaseKey = HMAC-MD5(NTOWFv2, NTProofStr).
        let kx = hmac_md5(&ntowf, &[proof]);
        let exported =
            if auth.flags & flags::KEY_EXCH != 0 && auth.encrypted_session_key.len() == 16 {
                rc4(&kx, &auth.encrypted_session_key)
            } else {
                kx.to_vec()
            };
        let Some(mic) = auth.message.get(MIC_OFFSET..MIC_OFFSET + 16) else {
            return Err(Refusal::BadMic);
        };
        let mut zeroed = auth.message.clone();
        zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
        if hmac_md5(&exported, &[negotiate, challenge, &zeroed]) != mic {
            return Err(Refusal::BadMic);
        }
    }
    Ok(())
}

/// Now as a Windows FILETIME (100 ns intervals since 1601-01-01 UTC).
pub fn filetime_now() -> u64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() / 100) as u64;
    unix + 116_444_736_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rc4_matches_the_classic_vector() {
        // "Key" / "Plaintext" → BBF316E8D940AF0AD3 (Wikipedia's RC4 test vectors).
        assert_eq!(rc4(b"Key", b"Plaintext"), hex("BBF316E8D940AF0AD3"));
    }

    #[test]
    fn account_parses_domain_and_user() {
        let a = WindowsAccount::parse("CORP\\svc_trackit", "pw".into()).unwrap();
        assert_eq!(
            (a.domain.as_str(), a.user.as_str()),
            ("CORP", "svc_trackit")
        );
        assert_eq!(a.login_name(), "CORP\\svc_trackit");
        assert!(WindowsAccount::parse("svc_trackit", String::new()).is_err());
        assert!(WindowsAccount::parse("\\x", String::new()).is_err());
        for bad in ["CORP\\svc\\x", "CORP\\s v c", "CORP\\svc\n", "CORP\\"] {
            assert_eq!(
                WindowsAccount::parse(bad, String::new()).unwrap_err(),
                format!(
                    "'{bad}': expected DOMAIN\\user with one backslash and no spaces (e.g. CORP\\svc_trackit)"
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(negotiate_flags(&[0x60, 0x82, 1]).is_err());
        assert!(parse_authenticate(b"NTLMSSP\0\x03\0\0\0").is_err());
        let mut m = b"NTLMSSP\0\x03\0\0\0".to_vec();
        m.resize(88, 0xFF);
        assert!(parse_authenticate(&m).is_err());
    }
}
