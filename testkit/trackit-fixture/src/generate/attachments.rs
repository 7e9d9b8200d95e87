//! `dbo.Attachments` rows and their bytes: files under `DIR/attachments/<WO_NUM>/<file>` (share mode) or
//! `Attachments.Content` (blob mode), with the attachment dirty data of trackit-fixture.md §4.
//!
//! In share mode `StoredPath` is `<WO_NUM>\<file name on disk>`, relative to `DIR/attachments`; split it at
//! the first backslash only, because file names may themselves contain backslashes.

use super::ddl::{Inserter, V};
use super::schema::Defs;
use super::sentinels::{self, ORPHAN_FOLDER_WOID};
use super::tickets::{Gen, Plan, Ticket, d, dt};
use super::{AttachMode, Ctx, GenError, Truth, io_err, sub_rng};
use chrono::Duration;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::PathBuf;

const NAMES: &[&str] = &[
    "screenshot.png",
    "error.txt",
    "report.pdf",
    "invoice.xlsx",
    "photo.jpg",
    "logs.zip",
    "document.docx",
    "email.msg",
    "config.xml",
    "scan.tif",
];
const RESTRICTED: &[&str] = &["exe", "scr", "bat", "js", "vbs", "msi", "cmd", "com", "ps1"];

/// One attachment to write.
struct Spec {
    name: String,
    size: usize,
    missing: bool,
    orphan_twin: bool,
}

/// Writer state kept across tickets.
pub struct AttachState<'c> {
    ins: Inserter<'c>,
    ctx: Ctx,
    dir: PathBuf,
    next_id: i64,
}

impl<'c> AttachState<'c> {
    /// Prepares the insert and the attachment directory.
    pub fn new(conn: &'c rusqlite::Connection, ctx: &Ctx, defs: &Defs) -> Result<Self, GenError> {
        let dir = ctx.out.join("attachments");
        if ctx.attach == AttachMode::Share {
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        Ok(Self {
            ins: Inserter::new(conn, &defs.attachments)?,
            ctx: ctx.clone(),
            dir,
            next_id: 1,
        })
    }

    fn sentinel_specs(&self, woid: i64) -> Vec<Spec> {
        let s = |name: &str, size: usize| Spec {
            name: name.into(),
            size,
            missing: false,
            orphan_twin: false,
        };
        match woid {
            81 => RESTRICTED
                .iter()
                .map(|e| s(&format!("tool.{e}"), 2048))
                .collect(),
            82 => vec![s("invoice.pdf.exe", 4096)],
            83 => vec![s("README", 1200)],
            84 => vec![s("SCAN0001.PDF", 30_000)],
            85 => vec![Spec {
                orphan_twin: true,
                ..s("empty.txt", 0)
            }],
            86 => vec![s("report.pdf", 5000), s("report.pdf", 7000)],
            87 => [
                "back\\slash.txt",
                "..\\..\\windows\\evil.txt",
                "C:temp.txt",
                "trailing.dot.",
                "trailing space.txt ",
                "CON.txt",
                "Résumé 履歴書.docx",
                "photo_\u{202E}gnp.exe",
            ]
            .iter()
            .map(|n| s(n, 1500))
            .collect(),
            88 if self.ctx.attach == AttachMode::Blob => {
                vec![
                    s("folder/inside.txt", 100),
                    s(&format!("{}.txt", "long_name_".repeat(27)), 100),
                ]
            }
            89 => vec![Spec {
                missing: true,
                ..s("lost.pdf", 9000)
            }],
            90 if self.ctx.scale.tickets >= 100_000 => vec![s("disk_image.zip", 30 * 1024 * 1024)],
            1 => vec![s("clean.pdf", 3000)],
            _ => Vec::new(),
        }
    }

    fn random_specs(rng: &mut ChaCha8Rng) -> Vec<Spec> {
        let r: f64 = rng.random();
        let n = if r < 0.18 {
            1
        } else if r < 0.21 {
            2
        } else if r < 0.22 {
            3
        } else {
            0
        };
        let mut out: Vec<Spec> = Vec::new();
        for _ in 0..n {
            let mut name = NAMES[rng.random_range(0..NAMES.len())].to_string();
            let k: f64 = rng.random();
            if k < 0.03 {
                name = format!(
                    "setup.{}",
                    RESTRICTED[rng.random_range(0..RESTRICTED.len())]
                );
            } else if k < 0.035 {
                name = "invoice.pdf.exe".into();
            } else if k < 0.045 {
                name = "attachment".into();
            } else if k < 0.065 {
                name = name.to_uppercase();
            } else if k < 0.07 {
                name = ["CON.txt", "trailing.dot.", "back\\slash.log", "Résumé.docx"]
                    [rng.random_range(0..4)]
                .into();
            }
            let size = if rng.random_bool(0.02) {
                0
            } else if rng.random_bool(0.99) {
                rng.random_range(1024..50 * 1024)
            } else {
                rng.random_range(50 * 1024..2 * 1024 * 1024)
            };
            let dup = rng.random_bool(0.005);
            out.push(Spec {
                name: name.clone(),
                size,
                missing: rng.random_bool(0.01),
                orphan_twin: rng.random_bool(0.01),
            });
            if dup {
                out.push(Spec {
                    name,
                    size: size / 2,
                    missing: false,
                    orphan_twin: false,
                });
            }
        }
        out
    }

    /// Writes the attachments of one ticket.
    pub fn for_ticket(
        &mut self,
        g: &Gen,
        t: &Ticket,
        rng: &mut ChaCha8Rng,
        sentinel: bool,
        truth: &mut Truth,
    ) -> Result<(), GenError> {
        let specs = if sentinel {
            self.sentinel_specs(t.woid)
        } else {
            Self::random_specs(rng)
        };
        let mut used = HashSet::new();
        for spec in specs {
            let share = self.ctx.attach == AttachMode::Share;
            if share && !disk_safe(&spec.name) {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let bytes = content(self.ctx.seed, id, &spec.name, spec.size);
            let by = g.people.persons[g.tech(rng)].login.clone();
            let added = t.dates[d::OPEN].map(|o| o + Duration::minutes(rng.random_range(1..600)));
            let mut stored = V::Null;
            let mut blob = V::Null;
            if share {
                let mut disk = spec.name.clone();
                let mut k = 2;
                while !used.insert(disk.to_lowercase()) {
                    disk = dedup_name(&spec.name, k);
                    k += 1;
                }
                stored = V::T(format!("{}\\{}", t.wo_num, disk));
                if !spec.missing {
                    self.write_file(t.wo_num, &disk, &bytes, truth)?;
                }
                if spec.orphan_twin {
                    let orphan = format!("~$orphan_{id}.tmp");
                    self.write_file(t.wo_num, &orphan, b"no metadata row points here", truth)?;
                    truth.attachments.orphan_files += 1;
                }
            } else if !spec.missing {
                blob = V::B(bytes.clone());
            }
            if spec.missing {
                truth.attachments.missing_on_disk += 1;
            }
            truth.attachment_row(&spec.name, bytes.len() as u64, id, t.woid);
            self.ins.insert(vec![
                V::I(id),
                V::I(t.woid),
                spec.name.as_str().into(),
                stored,
                V::I(bytes.len() as i64),
                by.into(),
                V::from(added.map(dt)),
                blob,
            ])?;
        }
        Ok(())
    }

    fn write_file(
        &mut self,
        wo_num: i64,
        name: &str,
        bytes: &[u8],
        truth: &mut Truth,
    ) -> Result<(), GenError> {
        let folder = self.dir.join(wo_num.to_string());
        std::fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let path = folder.join(name);
        std::fs::write(&path, bytes).map_err(io_err(&path))?;
        truth.attachments.files_on_disk += 1;
        truth.attachments.bytes_on_disk += bytes.len() as u64;
        Ok(())
    }

    /// Writes the folder of a work order that does not exist (share mode) and closes the books.
    pub fn finish(&mut self, plan: &Plan, truth: &mut Truth) -> Result<(), GenError> {
        if self.ctx.attach == AttachMode::Share && !plan.exists(ORPHAN_FOLDER_WOID) {
            self.write_file(
                ORPHAN_FOLDER_WOID,
                "orphan.txt",
                b"folder of a deleted work order",
                truth,
            )?;
            truth.attachments.orphan_files += 1;
            truth.sentinel_attachment("attach_orphan_folder", ORPHAN_FOLDER_WOID);
        }
        let _ = sentinels::MISSING_WOID;
        Ok(())
    }
}

/// True when a file of this name can be created on the generating (Unix) file system.
fn disk_safe(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
        && name.len() <= 255
}

fn dedup_name(name: &str, k: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({k}).{ext}"),
        _ => format!("{name} ({k})"),
    }
}

/// Deterministic file bytes: a magic header matching the extension, then a ChaCha stream keyed by
/// `(seed, attachment id)`, `size` bytes in all.
pub fn content(seed: u64, id: i64, name: &str, size: usize) -> Vec<u8> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let magic: &[u8] = match ext.as_str() {
        "pdf" => b"%PDF-1.4\n",
        "png" => b"\x89PNG\r\n\x1a\n",
        "jpg" => b"\xFF\xD8\xFF\xE0",
        "zip" | "docx" | "xlsx" => b"PK\x03\x04",
        "exe" | "scr" | "com" | "msi" => b"MZ\x90\x00",
        _ => b"",
    };
    let mut out = vec![0u8; size];
    let mut rng = sub_rng(seed, "attachment-bytes", id as u64);
    rng.fill_bytes(&mut out);
    let n = magic.len().min(size);
    out[..n].copy_from_slice(&magic[..n]);
    if matches!(ext.as_str(), "txt" | "log" | "xml" | "") {
        for b in &mut out {
            *b = b"abcdefghij klmnop\r\n"[(*b as usize) % 19];
        }
    }
    out
}
