//! Character data: the extractor fetches char/varchar/text as `varbinary` and decodes the bytes with the
//! column's collation code page, and nchar/nvarchar/ntext/xml as UTF-16LE, because tiberius aborts a whole
//! result on one undecodable value. A value that does not decode cleanly yields the lossy decoding (U+FFFD)
//! and is flagged, so the caller keeps the original bytes in `<col>__raw`.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// The code page of a collation name (FORMAT.md §4 plus the other Windows code pages SQL Server uses).
/// Unknown names fall back to Windows-1252, the code page of every Latin1_General collation.
pub fn encoding_for_collation(collation: &str) -> &'static Encoding {
    let c = collation.to_ascii_lowercase();
    if c.contains("_utf8") {
        return encoding_rs::UTF_8;
    }
    // SQL_..._CP1250_..., SQL_..._CP1251_... name their code page.
    for (cp, enc) in [
        ("cp1250", encoding_rs::WINDOWS_1250),
        ("cp1251", encoding_rs::WINDOWS_1251),
        ("cp1253", encoding_rs::WINDOWS_1253),
        ("cp1254", encoding_rs::WINDOWS_1254),
        ("cp1255", encoding_rs::WINDOWS_1255),
        ("cp1256", encoding_rs::WINDOWS_1256),
        ("cp1257", encoding_rs::WINDOWS_1257),
        ("cp874", encoding_rs::WINDOWS_874),
    ] {
        if c.contains(cp) {
            return enc;
        }
    }
    let prefixes: &[(&[&str], &'static Encoding)] = &[
        (
            &[
                "cyrillic",
                "ukrainian",
                "macedonian",
                "kazakh",
                "tatar",
                "bashkir",
                "yakut",
                "serbian_cyrillic",
                "bosnian_cyrillic",
                "mongolian",
            ],
            encoding_rs::WINDOWS_1251,
        ),
        (&["chinese_prc", "chinese_simplified"], encoding_rs::GBK),
        (
            &["chinese_taiwan", "chinese_traditional", "chinese_hong_kong"],
            encoding_rs::BIG5,
        ),
        (&["japanese"], encoding_rs::SHIFT_JIS),
        (&["korean"], encoding_rs::EUC_KR),
        (&["thai"], encoding_rs::WINDOWS_874),
        (&["greek"], encoding_rs::WINDOWS_1253),
        (
            &["turkish", "azeri_latin", "uzbek_latin"],
            encoding_rs::WINDOWS_1254,
        ),
        (&["hebrew"], encoding_rs::WINDOWS_1255),
        (
            &["arabic", "urdu", "persian", "pashto", "dari", "uighur"],
            encoding_rs::WINDOWS_1256,
        ),
        (
            &["lithuanian", "latvian", "estonian"],
            encoding_rs::WINDOWS_1257,
        ),
        (&["vietnamese"], encoding_rs::WINDOWS_1258),
        (
            &[
                "polish",
                "czech",
                "hungarian",
                "croatian",
                "slovak",
                "slovenian",
                "romanian",
                "albanian",
                "bosnian_latin",
                "serbian_latin",
                "turkmen",
                "lower_sorbian",
            ],
            encoding_rs::WINDOWS_1250,
        ),
    ];
    for (names, enc) in prefixes {
        if names.iter().any(|n| c.starts_with(n)) {
            return enc;
        }
    }
    encoding_rs::WINDOWS_1252
}

/// How a character column's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-16LE (nchar, nvarchar, ntext, xml).
    Utf16,
    /// A code page (char, varchar, text) chosen by collation.
    CodePage(&'static Encoding),
}

impl TextEncoding {
    /// The encoding_rs encoding.
    pub fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf16 => encoding_rs::UTF_16LE,
            TextEncoding::CodePage(e) => e,
        }
    }
}

/// Decodes `bytes`: `(text, false)` when clean, `(lossy text with U+FFFD, true)` when some bytes could not be
/// decoded (the caller keeps `bytes` raw). Borrows `bytes` when they are already valid text (ASCII, UTF-8).
pub fn decode(bytes: &[u8], enc: TextEncoding) -> (Cow<'_, str>, bool) {
    let e = enc.encoding();
    if let Some(text) = e.decode_without_bom_handling_and_without_replacement(bytes) {
        return (text, false);
    }
    let (text, _) = e.decode_without_bom_handling(bytes);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collations_pick_their_code_page() {
        assert_eq!(
            encoding_for_collation("SQL_Latin1_General_CP1_CI_AS"),
            encoding_rs::WINDOWS_1252
        );
        assert_eq!(
            encoding_for_collation("Latin1_General_100_CI_AS_SC_UTF8"),
            encoding_rs::UTF_8
        );
        assert_eq!(
            encoding_for_collation("Cyrillic_General_CI_AS"),
            encoding_rs::WINDOWS_1251
        );
        assert_eq!(
            encoding_for_collation("Chinese_PRC_CI_AS"),
            encoding_rs::GBK
        );
        assert_eq!(
            encoding_for_collation("Japanese_CI_AS"),
            encoding_rs::SHIFT_JIS
        );
        assert_eq!(
            encoding_for_collation("SQL_Latin1_General_CP1250_CI_AS"),
            encoding_rs::WINDOWS_1250
        );
    }

    #[test]
    fn cp1252_cafe_and_invalid_utf8_and_lone_surrogate() {
        let cp = TextEncoding::CodePage(encoding_rs::WINDOWS_1252);
        assert_eq!(decode(b"caf\xE9", cp), ("café".into(), false));
        let utf8 = TextEncoding::CodePage(encoding_rs::UTF_8);
        let (text, lossy) = decode(b"caf\xC3 \xFF\xFE bad", utf8);
        assert!(lossy);
        assert!(text.contains('\u{FFFD}') && text.starts_with("caf"));
        let (text, lossy) = decode(&[0x3D, 0xD8], TextEncoding::Utf16);
        assert!(lossy);
        assert_eq!(text, "\u{FFFD}");
        assert_eq!(
            decode(&[0x3D, 0xD8, 0x00, 0xDE], TextEncoding::Utf16),
            ("😀".into(), false)
        );
        assert_eq!(decode(b"", utf8), ("".into(), false));
        // Valid text is borrowed, not copied.
        assert!(matches!(decode(b"plain ascii", cp).0, Cow::Borrowed(_)));
    }
}
