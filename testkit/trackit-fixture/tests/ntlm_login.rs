//! Windows (NTLM) logins: the NTLMv2 primitives against the MS-NLMP §4.2.4 test vectors, and the server's whole
//! integrated-security exchange (LOGIN7 + NEGOTIATE → SSPI CHALLENGE → AUTHENTICATE → LOGINACK or error
//! 18452/18456) driven by a bare TDS client. The tiberius + sspi-rs client is exercised by
//! extract/tests/ntlm_login.rs (`--features ntlm`).

mod serve_support;

use hmac::{Hmac, Mac};
use md5::Md5;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use trackit_fixture::serve::ntlm::{
    self, Authenticate, Refusal, WindowsAccount, flags, nt_proof, ntowfv2,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// MS-NLMP §4.2.4.1.3: the NTLMv2 "temp" blob of the test vectors (time 0, client challenge aa…aa, AV pairs
/// NbDomainName "Domain" and NbComputerName "Server").
fn vector_blob() -> Vec<u8> {
    let mut b = hex("0101 0000 0000 0000  0000 0000 0000 0000  aaaa aaaa aaaa aaaa  0000 0000");
    b.extend_from_slice(&[0x02, 0x00, 0x0c, 0x00]);
    b.extend_from_slice(&utf16("Domain"));
    b.extend_from_slice(&[0x01, 0x00, 0x0c, 0x00]);
    b.extend_from_slice(&utf16("Server"));
    b.extend_from_slice(&[0; 4]); // MsvAvEOL
    b.extend_from_slice(&[0; 4]);
    b
}

const VECTOR_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

#[test]
fn ntowfv2_and_nt_proof_match_ms_nlmp_4_2_4() {
    // §4.2.4.1.1 NTOWFv2("Password", "User", "Domain").
    let ntowf = ntowfv2("Password", "User", "Domain");
    assert_eq!(ntowf.to_vec(), hex("0c868a403bfd7a93a3001ef22ef02e3f"));
    // §4.2.4.2.2 NTProofStr.
    let proof = nt_proof(&ntowf, &VECTOR_CHALLENGE, &vector_blob());
    assert_eq!(proof.to_vec(), hex("68cd0ab851e51c96aabc927bebef6a1c"));
    // §4.2.4.1.2 session base key = HMAC-MD5(NTOWFv2, NTProofStr).
    assert_eq!(
        hmac_md5(&ntowf, &[&proof]).to_vec(),
        hex("8de40ccadbc14a82f15cb0ad0de95ca3")
    );
}

/// The vector's AUTHENTICATE as `verify` sees it (no MIC: the vector's AV pairs carry no MsvAvFlags).
fn vector_auth(domain: &str, user: &str) -> Authenticate {
    let blob = vector_blob();
    let proof = nt_proof(
        &ntowfv2("Password", "User", "Domain"),
        &VECTOR_CHALLENGE,
        &blob,
    );
    let mut nt = proof.to_vec();
    nt.extend_from_slice(&blob);
    Authenticate {
        domain: domain.into(),
        user: user.into(),
        nt_response: nt,
        encrypted_session_key: Vec::new(),
        flags: flags::UNICODE,
        message: Vec::new(),
    }
}

#[test]
fn verify_accepts_the_vector_and_refuses_each_mismatch() {
    let account = |pw: &str| WindowsAccount::parse("Domain\\User", pw.into()).unwrap();
    let ok = account("Password");
    let check = |a: &WindowsAccount, auth: &Authenticate| {
        ntlm::verify(Some(a), &[], &[], &VECTOR_CHALLENGE, auth)
    };
    assert_eq!(check(&ok, &vector_auth("Domain", "User")), Ok(()));
    assert_eq!(
        check(&account("password"), &vector_auth("Domain", "User")),
        Err(Refusal::WrongPassword)
    );
    assert_eq!(
        check(&ok, &vector_auth("Other", "User")),
        Err(Refusal::UntrustedDomain)
    );
    assert_eq!(
        check(&ok, &vector_auth("Domain", "Someone")),
        Err(Refusal::UnknownUser)
    );
    let mut v1 = vector_auth("Domain", "User");
    v1.nt_response.truncate(24); // an NTLMv1-sized response
    assert_eq!(check(&ok, &v1), Err(Refusal::NotNtlmV2));
    assert_eq!(
        ntlm::verify(
            None,
            &[],
            &[],
            &VECTOR_CHALLENGE,
            &vector_auth("Domain", "User")
        ),
        Err(Refusal::UntrustedDomain)
    );
    assert_eq!(Refusal::UntrustedDomain.error(), 18452);
    assert_eq!(Refusal::WrongPassword.error(), 18456);
}

// ---------------------------------------------------------------------------------------------------------------
// The exchange over TDS.

const PASSWORD: &str = "S3cret!pass";
const PACKET: usize = 4096;

struct Server {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `trackit-fixture serve` with the Windows password in TRACKIT_FIXTURE_WINDOWS_PASSWORD and `extra` flags.
fn serve(db: &Path, extra: &[&str]) -> Server {
    let log = db.with_extension(format!("ntlm{}.log", extra.len()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackit-fixture"))
        .args(["serve", "--db"])
        .arg(db)
        .arg("--log")
        .arg(&log)
        .args(extra)
        .env("TRACKIT_FIXTURE_WINDOWS_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .expect(&line)
        .parse()
        .unwrap();
    Server { child, port, log }
}

fn send(sock: &mut TcpStream, ty: u8, payload: &[u8]) {
    let mut out = vec![ty, 1];
    out.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(payload);
    sock.write_all(&out).unwrap();
}

/// One whole reply message, or None when the server closed the connection.
fn reply(sock: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut hdr = [0u8; 8];
        sock.read_exact(&mut hdr).ok()?;
        let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize - 8;
        let start = data.len();
        data.resize(start + len, 0);
        sock.read_exact(&mut data[start..]).unwrap();
        if hdr[1] & 1 != 0 {
            return Some(data);
        }
    }
}

/// LOGIN7 for a Windows login: no user or password, OptionFlags2 fIntSecurity, `sspi` as SSPI data.
fn login7_integrated(sspi: &[u8]) -> Vec<u8> {
    let fields: [Vec<u8>; 9] = [
        utf16("ntlm-host"),
        Vec::new(),
        Vec::new(),
        utf16("ntlm-test"),
        utf16("127.0.0.1"),
        Vec::new(),
        utf16("raw"),
        Vec::new(),
        utf16("TRACKIT_DATA"),
    ];
    let mut fixed = Vec::new();
    fixed.extend_from_slice(&0u32.to_le_bytes());
    fixed.extend_from_slice(&0x7400_0004u32.to_le_bytes());
    fixed.extend_from_slice(&(PACKET as u32).to_le_bytes());
    fixed.extend_from_slice(&[0; 12]);
    fixed.extend_from_slice(&[0xE0, 0x03 | 0x80, 0, 0]); // OptionFlags2 | fIntSecurity
    fixed.extend_from_slice(&[0; 8]);
    let base = 94;
    let mut data = Vec::new();
    for f in &fields {
        fixed.extend_from_slice(&((base + data.len()) as u16).to_le_bytes());
        fixed.extend_from_slice(&((f.len() / 2) as u16).to_le_bytes());
        data.extend_from_slice(f);
    }
    fixed.extend_from_slice(&[0; 6]);
    fixed.extend_from_slice(&((base + data.len()) as u16).to_le_bytes()); // ibSSPI
    fixed.extend_from_slice(&(sspi.len() as u16).to_le_bytes()); // cbSSPI (bytes)
    data.extend_from_slice(sspi);
    for _ in 0..2 {
        fixed.extend_from_slice(&((base + data.len()) as u16).to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());
    }
    fixed.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(fixed.len(), base);
    fixed.extend_from_slice(&data);
    let len = fixed.len() as u32;
    fixed[..4].copy_from_slice(&len.to_le_bytes());
    fixed
}

const CLIENT_FLAGS: u32 = flags::UNICODE
    | flags::REQUEST_TARGET
    | flags::NTLM
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSION_SECURITY
    | flags::TARGET_INFO
    | flags::VERSION
    | flags::N128
    | flags::N56;

fn negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // domain and workstation fields
    m.extend_from_slice(&[10, 0, 0x61, 0x4A, 0, 0, 0, 0x0F]);
    m
}

fn sec_buf(len: usize, off: usize, m: &mut Vec<u8>) {
    m.extend_from_slice(&(len as u16).to_le_bytes());
    m.extend_from_slice(&(len as u16).to_le_bytes());
    m.extend_from_slice(&(off as u32).to_le_bytes());
}

/// A client's AUTHENTICATE for `challenge` (NTLMv2 with MsvAvFlags = MIC present, and the MIC), as sspi-rs builds
/// it; `tamper` flips a bit of the MIC.
fn authenticate(
    negotiate: &[u8],
    challenge: &[u8],
    domain: &str,
    user: &str,
    password: &str,
    tamper: bool,
) -> Vec<u8> {
    assert_eq!(&challenge[..8], b"NTLMSSP\0");
    let server_challenge: [u8; 8] = challenge[24..32].try_into().unwrap();
    let info_len = u16::from_le_bytes([challenge[40], challenge[41]]) as usize;
    let info_off = u32::from_le_bytes(challenge[44..48].try_into().unwrap()) as usize;
    let info = &challenge[info_off..info_off + info_len];
    // Copy the AV pairs without EOL, find the timestamp, add MsvAvFlags = 0x2 and EOL.
    let (mut pairs, mut timestamp, mut o) = (Vec::new(), None, 0);
    loop {
        let id = u16::from_le_bytes([info[o], info[o + 1]]);
        let len = u16::from_le_bytes([info[o + 2], info[o + 3]]) as usize;
        if id == 0 {
            break;
        }
        if id == 7 {
            timestamp = Some(info[o + 4..o + 12].to_vec());
        }
        pairs.extend_from_slice(&info[o..o + 4 + len]);
        o += 4 + len;
    }
    pairs.extend_from_slice(&[6, 0, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    let mut blob = hex("0101 0000 0000 0000");
    blob.extend_from_slice(&timestamp.expect("the CHALLENGE carries MsvAvTimestamp"));
    blob.extend_from_slice(&[0x5A; 8]); // client challenge
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&pairs);
    blob.extend_from_slice(&[0; 4]);
    let ntowf = ntowfv2(password, user, domain);
    let proof = nt_proof(&ntowf, &server_challenge, &blob);
    let mut nt = proof.to_vec();
    nt.extend_from_slice(&blob);
    let session_key = hmac_md5(&ntowf, &[&proof]);

    let (d, u, lm) = (utf16(domain), utf16(user), vec![0u8; 24]);
    let base = 88;
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let off_d = base;
    let off_u = off_d + d.len();
    let off_w = off_u + u.len();
    let off_lm = off_w;
    let off_nt = off_lm + lm.len();
    let off_k = off_nt + nt.len();
    sec_buf(lm.len(), off_lm, &mut m);
    sec_buf(nt.len(), off_nt, &mut m);
    sec_buf(d.len(), off_d, &mut m);
    sec_buf(u.len(), off_u, &mut m);
    sec_buf(0, off_w, &mut m);
    sec_buf(0, off_k, &mut m);
    m.extend_from_slice(&CLIENT_FLAGS.to_le_bytes());
    m.extend_from_slice(&[10, 0, 0x61, 0x4A, 0, 0, 0, 0x0F]);
    m.extend_from_slice(&[0; 16]); // MIC, filled below
    assert_eq!(m.len(), base);
    for part in [&d, &u, &lm, &nt] {
        m.extend_from_slice(part);
    }
    let mut mic = hmac_md5(&session_key, &[negotiate, challenge, &m]);
    if tamper {
        mic[0] ^= 1;
    }
    m[72..88].copy_from_slice(&mic);
    m
}

/// First token of a reply: (error number, message) when it is an ERROR token.
fn error_of(reply: &[u8]) -> Option<(i32, String)> {
    if reply.first() != Some(&0xAA) {
        return None;
    }
    let number = i32::from_le_bytes(reply[3..7].try_into().unwrap());
    let chars = u16::from_le_bytes([reply[9], reply[10]]) as usize;
    let text: Vec<u16> = reply[11..11 + chars * 2]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some((number, String::from_utf16(&text).unwrap()))
}

enum Outcome {
    LoggedIn(Vec<u8>),
    Refused(i32, String),
}

/// PRELOGIN, LOGIN7 + NEGOTIATE, CHALLENGE, AUTHENTICATE (in a packet of type `auth_packet`); the server's answer.
fn windows_login(
    port: u16,
    domain: &str,
    user: &str,
    password: &str,
    tamper: bool,
    auth_packet: u8,
) -> Outcome {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut pre = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
    pre.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x02]);
    send(&mut sock, 0x12, &pre);
    reply(&mut sock).unwrap();
    let neg = negotiate();
    send(&mut sock, 0x10, &login7_integrated(&neg));
    let r = reply(&mut sock).unwrap();
    assert_eq!(r[0], 0xED, "an SSPI token answers the NEGOTIATE");
    let len = u16::from_le_bytes([r[1], r[2]]) as usize;
    assert_eq!(r.len(), 3 + len, "the SSPI token is the whole reply");
    let challenge = &r[3..];
    assert_eq!(u32::from_le_bytes(challenge[8..12].try_into().unwrap()), 2);
    let auth = authenticate(&neg, challenge, domain, user, password, tamper);
    send(&mut sock, auth_packet, &auth);
    let r = reply(&mut sock).unwrap();
    match error_of(&r) {
        Some((n, text)) => {
            let mut rest = [0u8; 1];
            assert_eq!(
                sock.read(&mut rest).unwrap_or(0),
                0,
                "the server closes after a refused login"
            );
            Outcome::Refused(n, text)
        }
        None => Outcome::LoggedIn(r),
    }
}

#[test]
fn windows_logins_over_tds() {
    let dir = tempfile::tempdir().unwrap();
    let db = serve_support::golden_db(dir.path(), 10, None);
    let srv = serve(&db, &["--windows-login", "CORP\\svc_trackit"]);

    // The right password, as tiberius's sspi-rs path sends it (packet type 0x10) and as MS-TDS says (0x11); the
    // domain and user in any case.
    for (domain, user, ty) in [("CORP", "svc_trackit", 0x10), ("corp", "SVC_TRACKIT", 0x11)] {
        match windows_login(srv.port, domain, user, PASSWORD, false, ty) {
            Outcome::LoggedIn(r) => {
                assert!(r.contains(&0xAD), "LOGINACK expected");
                let done = &r[r.len() - 13..];
                assert!(done[0] == 0xFD && done[1] & 0x02 == 0, "DONE without error");
            }
            Outcome::Refused(n, t) => panic!("{domain}\\{user}: refused {n} {t}"),
        }
    }
    let refused = |domain: &str, user: &str, password: &str, tamper: bool| match windows_login(
        srv.port, domain, user, password, tamper, 0x11,
    ) {
        Outcome::Refused(n, t) => (n, t),
        Outcome::LoggedIn(_) => panic!("{domain}\\{user} must be refused"),
    };
    let failed_for = "Login failed for user 'CORP\\svc_trackit'.".to_string();
    assert_eq!(
        refused("CORP", "svc_trackit", "Wr0ng-pass", false),
        (18456, failed_for.clone())
    );
    assert_eq!(
        refused("CORP", "svc_trackit", PASSWORD, true),
        (18456, failed_for),
        "a MIC that does not match"
    );
    assert_eq!(
        refused("CORP", "someone", PASSWORD, false),
        (18456, "Login failed for user 'CORP\\someone'.".into())
    );
    let untrusted = (
        18452,
        "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication."
            .to_string(),
    );
    assert_eq!(refused("OTHER", "svc_trackit", PASSWORD, false), untrusted);

    let log = std::fs::read_to_string(&srv.log).unwrap();
    assert_eq!(
        log.matches("login: user 'CORP\\svc_trackit' app 'ntlm-test' (Windows login, NTLMv2)")
            .count(),
        2,
        "{log}"
    );
    for line in [
        "login failed for user 'CORP\\svc_trackit' (NTLM: wrong password)",
        "login failed for user 'CORP\\svc_trackit' (NTLM: MIC mismatch)",
        "login failed for user 'CORP\\someone' (NTLM: no such Windows login)",
        "login failed for user 'OTHER\\svc_trackit' (NTLM: untrusted domain)",
    ] {
        assert!(log.contains(line), "{line} not in {log}");
    }
    assert!(
        !log.contains(PASSWORD) && !log.contains("Wr0ng-pass"),
        "{log}"
    );

    // A server with no Windows login configured trusts no domain.
    let plain = serve(&db, &[]);
    match windows_login(plain.port, "CORP", "svc_trackit", PASSWORD, false, 0x11) {
        Outcome::Refused(n, _) => assert_eq!(n, 18452),
        Outcome::LoggedIn(_) => panic!("no Windows login is configured"),
    }
}

#[test]
fn a_kerberos_token_is_refused_with_18452() {
    let dir = tempfile::tempdir().unwrap();
    let db = serve_support::golden_db(dir.path(), 1, None);
    let srv = serve(&db, &["--windows-login", "CORP\\svc_trackit"]);
    let mut sock = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let mut pre = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
    pre.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x02]);
    send(&mut sock, 0x12, &pre);
    reply(&mut sock).unwrap();
    // An SPNEGO/Kerberos initial token starts with 0x60 (ASN.1 application 0).
    send(
        &mut sock,
        0x10,
        &login7_integrated(&[0x60, 0x28, 0x06, 0x06, 0x2b]),
    );
    let r = reply(&mut sock).unwrap();
    assert_eq!(error_of(&r).map(|e| e.0), Some(18452));
}
