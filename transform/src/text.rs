//! Text conversion (issue 7 "Text"): Track-It! bodies are plain text, HTML email bodies or RTF.
//!
//! - [`to_plain`]: any body → plain text with line breaks kept (the first message of a conversation; Intercom
//!   does not accept HTML there). RTF is converted by a small tokenizer ([`rtf_to_text`]: no well-kept RTF crate
//!   exists for Rust), HTML by the `html2text` crate (html5ever). Text that merely looks like markup (`<none>`,
//!   `a < b`) is not HTML and stays as it is.
//! - [`to_html`]: plain text → minimal escaped HTML (`<p>`, `<br>`, links) for notes, replies and articles.
//! - NUL characters are removed and counted; CRLF becomes LF.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of text conversion, shared by parallel workers.
#[derive(Debug, Default)]
pub struct TextStats {
    /// NUL characters removed.
    pub nul_removed: AtomicU64,
    /// Bodies converted from HTML.
    pub html_converted: AtomicU64,
    /// Bodies converted from RTF.
    pub rtf_converted: AtomicU64,
}

/// The format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text.
    Plain,
    /// An HTML document or fragment with real tags.
    Html,
    /// `{\rtf1 …}`.
    Rtf,
}

const HTML_TAGS: &[&str] = &[
    "html",
    "body",
    "head",
    "div",
    "p",
    "br",
    "span",
    "table",
    "tr",
    "td",
    "style",
    "font",
    "b",
    "i",
    "u",
    "a",
    "img",
    "ul",
    "ol",
    "li",
    "blockquote",
    "strong",
    "em",
    "hr",
    "h1",
    "h2",
    "h3",
    "meta",
    "!doctype",
    "pre",
];

/// Detects the format: RTF when it starts with `{\rtf`, HTML when it contains a known tag (`<p>`, `<br/>`,
/// `<div class=…>`, `</b>` …), plain otherwise.
pub fn detect(text: &str) -> Format {
    let t = text.trim_start();
    if t.starts_with("{\\rtf") {
        return Format::Rtf;
    }
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(pos) = lower[i..].find('<') {
        let start = i + pos + 1;
        let rest = &lower[start..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        for tag in HTML_TAGS {
            if let Some(after) = rest.strip_prefix(tag)
                && matches!(
                    after.as_bytes().first(),
                    Some(b'>' | b' ' | b'/' | b'\n' | b'\t' | b'\r')
                )
            {
                return Format::Html;
            }
        }
        i = start;
        if i >= bytes.len() {
            break;
        }
    }
    Format::Plain
}

/// Removes NUL characters (counted), turns CRLF and CR into LF.
pub fn clean(text: &str, stats: &TextStats) -> String {
    let nuls = text.matches('\0').count() as u64;
    if nuls > 0 {
        stats.nul_removed.fetch_add(nuls, Ordering::Relaxed);
    }
    text.replace('\0', "")
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// Any body → plain text: cleaned, converted from RTF or HTML, trailing spaces of lines and blank lines at both
/// ends removed. Whitespace-only text gives an empty string.
pub fn to_plain(text: &str, stats: &TextStats) -> String {
    let cleaned = clean(text, stats);
    let converted = match detect(&cleaned) {
        Format::Plain => cleaned,
        Format::Rtf => {
            stats.rtf_converted.fetch_add(1, Ordering::Relaxed);
            rtf_to_text(&cleaned)
        }
        Format::Html => {
            stats.html_converted.fetch_add(1, Ordering::Relaxed);
            html_to_text(&cleaned)
        }
    };
    tidy(&converted)
}

fn tidy(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in lines {
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_string()
}

/// HTML → text with the html2text crate (no wrapping, no link footnotes, `<style>`/`<head>` dropped).
pub fn html_to_text(html: &str) -> String {
    html2text::config::plain_no_decorate()
        .link_footnotes(false)
        .no_table_borders()
        .string_from_read(html.as_bytes(), 100_000)
        .unwrap_or_else(|_| strip_tags(html))
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out).into_owned()
}

/// `cid:` references of an HTML body's inline images (`<img src="cid:image001.png@01D…">`), in order, without
/// duplicates; the part before `@` is the file name an email client gives the image.
pub fn cid_refs(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("cid:") {
        let start = i + pos + 4;
        let end = html[start..]
            .find(['"', '\'', '>', ' ', ')'])
            .map(|e| start + e)
            .unwrap_or(html.len());
        let id = html[start..end].to_string();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
        i = end.max(start);
    }
    out
}

/// Plain text → minimal HTML: paragraphs (blank-line separated) as `<p>`, single line breaks as `<br>`, every
/// character escaped, `http(s)://` URLs as links.
pub fn to_html(text: &str) -> String {
    let mut out = String::new();
    for para in text
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
    {
        out.push_str("<p>");
        for (i, line) in para.split('\n').enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            out.push_str(&linkify(line));
        }
        out.push_str("</p>");
    }
    out
}

fn linkify(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = [rest.find("http://"), rest.find("https://")]
        .into_iter()
        .flatten()
        .min()
    {
        out.push_str(&html_escape::encode_text(&rest[..pos]));
        let url_end = rest[pos..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .map(|e| pos + e)
            .unwrap_or(rest.len());
        let url = rest[pos..url_end].trim_end_matches(['.', ',', ')', ';']);
        let url_end = pos + url.len();
        let escaped = html_escape::encode_double_quoted_attribute(url);
        out.push_str(&format!(
            "<a href=\"{escaped}\">{}</a>",
            html_escape::encode_text(url)
        ));
        rest = &rest[url_end..];
    }
    out.push_str(&html_escape::encode_text(rest));
    out
}

/// RTF → text: groups, control words and symbols are interpreted as far as text needs (`\par`, `\line`,
/// `\tab`, `\'hh` in Windows-1252, `\uN` with `\ucN` fallback skipping, `\~`, `\-`); destinations that hold no
/// body text (`\fonttbl`, `\colortbl`, `\stylesheet`, `\info`, `\pict`, `{\* …}`) are skipped.
pub fn rtf_to_text(rtf: &str) -> String {
    const SKIP: &[&str] = &[
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "header",
        "footer",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "xmlnstbl",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "datastore",
        "object",
        "field-inst",
        "fldinst",
    ];
    let chars: Vec<char> = rtf.chars().collect();
    let mut out = String::new();
    // Stack of (skip, uc) per group.
    let mut stack: Vec<(bool, usize)> = vec![(false, 1)];
    let mut pending_skip = 0usize;
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&encoding_rs::WINDOWS_1252.decode(bytes).0);
            bytes.clear();
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let (skip, uc) = *stack.last().unwrap_or(&(false, 1));
        match c {
            '{' => {
                flush(&mut bytes, &mut out);
                stack.push((skip, uc));
                i += 1;
            }
            '}' => {
                flush(&mut bytes, &mut out);
                if stack.len() > 1 {
                    stack.pop();
                }
                i += 1;
            }
            '\\' => {
                i += 1;
                let Some(&n) = chars.get(i) else { break };
                if n.is_ascii_alphabetic() {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    let num_start = i;
                    if i < chars.len() && (chars[i] == '-' || chars[i].is_ascii_digit()) {
                        i += 1;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    let num: Option<i64> =
                        chars[num_start..i].iter().collect::<String>().parse().ok();
                    if i < chars.len() && chars[i] == ' ' {
                        i += 1;
                    }
                    if SKIP.contains(&word.as_str()) {
                        if let Some(top) = stack.last_mut() {
                            top.0 = true;
                        }
                        continue;
                    }
                    if skip {
                        continue;
                    }
                    match word.as_str() {
                        "par" | "line" | "sect" | "page" => {
                            flush(&mut bytes, &mut out);
                            out.push('\n');
                        }
                        "tab" => {
                            flush(&mut bytes, &mut out);
                            out.push('\t');
                        }
                        "uc" => {
                            if let Some(top) = stack.last_mut() {
                                top.1 = num.unwrap_or(1).max(0) as usize;
                            }
                        }
                        "u" => {
                            flush(&mut bytes, &mut out);
                            let v = num.unwrap_or(0);
                            let v = if v < 0 { v + 65536 } else { v };
                            if let Some(ch) = char::from_u32(v as u32) {
                                out.push(ch);
                            }
                            pending_skip = uc;
                        }
                        "emdash" => out.push('—'),
                        "endash" => out.push('–'),
                        "lquote" => out.push('‘'),
                        "rquote" => out.push('’'),
                        "ldblquote" => out.push('“'),
                        "rdblquote" => out.push('”'),
                        "bullet" => out.push('•'),
                        _ => {}
                    }
                } else {
                    i += 1;
                    match n {
                        '*' => {
                            if let Some(top) = stack.last_mut() {
                                top.0 = true;
                            }
                        }
                        '\'' => {
                            let hex: String = chars
                                .get(i..i + 2)
                                .map(|s| s.iter().collect())
                                .unwrap_or_default();
                            i += hex.len();
                            if pending_skip > 0 {
                                pending_skip -= 1;
                            } else if !skip && let Ok(b) = u8::from_str_radix(&hex, 16) {
                                bytes.push(b);
                            }
                        }
                        '~' if !skip => out.push('\u{a0}'),
                        '\\' | '{' | '}' if !skip => {
                            flush(&mut bytes, &mut out);
                            out.push(n);
                        }
                        '\n' | '\r' if !skip => {
                            flush(&mut bytes, &mut out);
                            out.push('\n');
                        }
                        _ => {}
                    }
                }
            }
            '\r' | '\n' => i += 1,
            _ => {
                i += 1;
                if pending_skip > 0 {
                    pending_skip -= 1;
                    continue;
                }
                if !skip {
                    flush(&mut bytes, &mut out);
                    out.push(c);
                }
            }
        }
    }
    flush(&mut bytes, &mut out);
    out
}

/// Truncates to at most `max` characters (Intercom's 255 for attribute strings); `None` when it fits.
pub fn truncate_chars(text: &str, max: usize) -> Option<String> {
    if text.chars().count() <= max {
        None
    } else {
        Some(text.chars().take(max).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_lookalikes_stay_text_and_are_escaped() {
        let s = TextStats::default();
        assert_eq!(detect("<none>"), Format::Plain);
        assert_eq!(detect("if a < b then"), Format::Plain);
        assert_eq!(
            to_plain("see <none>\r\nand a < b", &s),
            "see <none>\nand a < b"
        );
        assert_eq!(
            to_html("see <none>\nand a < b"),
            "<p>see &lt;none&gt;<br>and a &lt; b</p>"
        );
    }

    #[test]
    fn nul_removed_and_counted() {
        let s = TextStats::default();
        assert_eq!(to_plain("a\0b", &s), "ab");
        assert_eq!(s.nul_removed.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn html_email_becomes_text() {
        let s = TextStats::default();
        let html = "<html><head><style>p{color:red}</style></head><body><p>Hello <b>there</b></p>\
                    <p>Second<br>line</p><img src=\"cid:image001.png@01D\"></body></html>";
        let text = to_plain(html, &s);
        assert!(text.contains("Hello there"), "{text}");
        assert!(text.contains("Second\nline"), "{text}");
        assert!(!text.contains("color"), "{text}");
        assert_eq!(cid_refs(html), vec!["image001.png@01D".to_string()]);
    }

    #[test]
    fn rtf_becomes_text() {
        let rtf = r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}{\colortbl;\red0\green0\blue0;}\f0\fs20 Printer \'93jam\'94\par Second line\tab x\u8364?}";
        assert_eq!(rtf_to_text(rtf), "Printer “jam”\nSecond line\tx€");
    }

    #[test]
    fn links_become_anchors() {
        assert_eq!(
            to_html("see https://example.com/a?b=1&c=2."),
            "<p>see <a href=\"https://example.com/a?b=1&amp;c=2\">https://example.com/a?b=1&amp;c=2</a>.</p>"
        );
    }
}
