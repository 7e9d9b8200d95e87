//! Text helpers: the Windows-1252 `?` loss, truncation, and generated ticket/note/article bodies.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// The 27 characters Windows-1252 maps into 0x80–0x9F.
const CP1252_HIGH: &[char] = &[
    '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', 'ž', 'Ÿ',
];

/// True when Windows-1252 can represent `c`.
pub fn cp1252_ok(c: char) -> bool {
    let u = c as u32;
    u < 0x80 || (0xA0..=0xFF).contains(&u) || CP1252_HIGH.contains(&c)
}

/// `Some(lossy)` when `s` holds characters Windows-1252 cannot represent (each becomes `?`, as SQL Server
/// does on insert into a varchar column); `None` when `s` is already representable.
pub fn cp1252_lossy(s: &str) -> Option<String> {
    if s.chars().all(cp1252_ok) {
        return None;
    }
    Some(
        s.chars()
            .map(|c| if cp1252_ok(c) { c } else { '?' })
            .collect(),
    )
}

/// Truncates `s` in place to at most `max` characters.
pub fn truncate_chars(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    if let Some((idx, _)) = s.char_indices().nth(max) {
        s.truncate(idx);
    }
}

const WORDS: &[&str] = &[
    "printer",
    "network",
    "password",
    "reset",
    "laptop",
    "monitor",
    "outlook",
    "email",
    "vpn",
    "access",
    "share",
    "drive",
    "folder",
    "error",
    "message",
    "screen",
    "keyboard",
    "mouse",
    "docking",
    "station",
    "license",
    "update",
    "install",
    "software",
    "server",
    "slow",
    "cannot",
    "login",
    "account",
    "locked",
    "phone",
    "voicemail",
    "badge",
    "scanner",
    "toner",
    "jam",
    "wifi",
    "connection",
    "dropped",
    "application",
    "crash",
    "report",
    "payroll",
    "excel",
    "word",
    "calendar",
    "meeting",
    "room",
    "projector",
    "backup",
    "restore",
    "file",
    "deleted",
    "permissions",
];

const SUBJECTS: &[&str] = &[
    "Printer on 3rd floor jams",
    "Cannot log in to Outlook",
    "Password reset",
    "VPN disconnects every hour",
    "New hire setup",
    "Laptop very slow",
    "Monitor flickers",
    "Need access to shared drive",
    "Install Adobe Reader",
    "Phone has no dial tone",
    "Excel crashes when opening report",
    "Badge does not open door",
    "Scanner not sending to email",
    "Wifi drops in conference room",
    "Account locked out",
    "Request new keyboard",
    "Payroll application error",
    "Restore deleted file",
    "Calendar not syncing to phone",
    "Projector in room 204 broken",
];

/// A ticket summary (TASK), short and plain.
pub fn subject(rng: &mut ChaCha8Rng) -> String {
    let base = SUBJECTS.choose(rng).copied().unwrap_or("Help");
    if rng.random_bool(0.3) {
        format!("{base} - {}", WORDS.choose(rng).copied().unwrap_or(""))
    } else {
        base.into()
    }
}

/// `n` random words separated by spaces.
pub fn words(rng: &mut ChaCha8Rng, n: usize) -> String {
    let mut out = String::with_capacity(n * 8);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS.choose(rng).copied().unwrap_or("x"));
    }
    out
}

/// Plain text with CRLF line breaks: `lines` sentences.
pub fn plain_crlf(rng: &mut ChaCha8Rng, lines: usize) -> String {
    let mut out = String::new();
    for i in 0..lines {
        if i > 0 {
            out.push_str("\r\n");
        }
        let n = rng.random_range(4..14);
        let mut s = words(rng, n);
        if let Some(f) = s.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        out.push_str(&s);
        out.push('.');
    }
    out
}

/// An HTML email body with a `<style>` block, an inline `cid:` image, a signature and a quoted reply.
pub fn html_email(rng: &mut ChaCha8Rng, sender: &str) -> String {
    let body = plain_crlf(rng, 2).replace("\r\n", "<br>\r\n");
    let quoted = plain_crlf(rng, 1);
    format!(
        "<html><head><style>p {{ margin: 0; font-family: Calibri; }} .sig {{ color: #888; }}</style></head>\r\n\
         <body><p>Hi,</p><p>{body}</p><p><img src=\"cid:image001.png@01D2A1B2.3C4D5E60\"></p>\r\n\
         <p class=\"sig\">{sender}<br>IT Service Desk &amp; Support</p>\r\n\
         <blockquote>-----Original Message-----<br>{quoted}</blockquote></body></html>"
    )
}

/// An RTF body as the Windows rich-text control writes it.
pub fn rtf(rng: &mut ChaCha8Rng) -> String {
    let text = words(rng, 12);
    format!(
        "{{\\rtf1\\ansi\\ansicpg1252\\deff0{{\\fonttbl{{\\f0\\fnil\\fcharset0 Microsoft Sans Serif;}}}}\r\n\
         \\viewkind4\\uc1\\pard\\f0\\fs17 {text}\\par\r\n\\b Resolution:\\b0  reboot\\par\r\n}}"
    )
}

/// A body of at least `chars` characters (CRLF lines of words), deterministic from `rng`.
pub fn long_body(rng: &mut ChaCha8Rng, chars: usize) -> String {
    let mut out = String::with_capacity(chars + 100);
    while out.len() < chars {
        let n = rng.random_range(6..16);
        out.push_str(&words(rng, n));
        out.push_str(".\r\n");
    }
    truncate_chars(&mut out, chars);
    out
}

/// A note body of a given flavour, chosen with realistic frequencies.
pub fn note_body(rng: &mut ChaCha8Rng, author: &str) -> String {
    match rng.random_range(0..100) {
        0..=69 => {
            let n = rng.random_range(1..4);
            plain_crlf(rng, n)
        }
        70..=84 => html_email(rng, author),
        85..=89 => rtf(rng),
        90..=94 => format!("Called user.\tLeft voicemail.\r\n{}", plain_crlf(rng, 1)),
        _ => format!("Status changed. {}", words(rng, 3)),
    }
}
