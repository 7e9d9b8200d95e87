//! Source side: the extract bundle's `inventory.json` and its Parquet tables, read batch by batch
//! (docs/bundle-format.md). Tests can feed in-memory batches instead of a bundle ([`SourceTables::in_memory`]).

mod batch;
mod check;
mod join;

pub use batch::{Batch, decode_text_bytes, format_float};

use crate::error::{Result, TransformError, content};
use crate::profile::ObjectMap;
use arrow_array::RecordBatch;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use ti_shared::bundle::Bundle;

/// Server facts of `inventory.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    /// `@@VERSION`.
    pub version: Option<String>,
    /// `SERVERPROPERTY('ProductVersion')`.
    pub product_version: Option<String>,
    /// Database name.
    pub database: Option<String>,
    /// Server collation.
    pub collation: Option<String>,
    /// Server offset from UTC at snapshot time, minutes east.
    pub utc_offset_minutes: Option<i32>,
    /// Windows time zone name (`CURRENT_TIMEZONE()`), or null on servers before 2019.
    pub time_zone: Option<String>,
    /// When the snapshot was taken, RFC 3339 UTC.
    pub snapshot_time: Option<String>,
}

/// One column of an inventory object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvColumn {
    /// Column name as in SQL Server.
    pub name: String,
    /// SQL Server data type (`int`, `varchar`, `text`, …).
    pub data_type: String,
    /// Character maximum length.
    pub max_length: Option<i64>,
    /// Numeric precision.
    pub precision: Option<i64>,
    /// Numeric scale.
    pub scale: Option<i64>,
    /// Nullable.
    pub nullable: bool,
    /// Collation of character columns.
    pub collation: Option<String>,
}

/// One table or view of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvObject {
    /// Schema (`dbo`, `_SMDBA_`).
    pub schema: String,
    /// Object name.
    pub name: String,
    /// `BASE TABLE` or `VIEW`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Bundle folder of its Parquet parts.
    pub folder: String,
    /// Columns in ordinal order.
    pub columns: Vec<InvColumn>,
    /// Primary key columns.
    pub primary_key: Vec<String>,
    /// `COUNT_BIG(*)` at extract time.
    pub row_count: Option<u64>,
    /// Rows written to the bundle.
    pub extracted_rows: Option<u64>,
}

impl InvObject {
    /// `schema.name`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The inventory column of that name, compared case-insensitively.
    pub fn column(&self, name: &str) -> Option<&InvColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// `inventory.json` of an extract bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    /// Server facts.
    pub server: ServerInfo,
    /// Tables and views.
    pub objects: Vec<InvObject>,
}

impl Inventory {
    /// The object named `schema.name` (case-insensitive), if the inventory has it.
    pub fn object(&self, full_name: &str) -> Option<&InvObject> {
        self.objects
            .iter()
            .find(|o| o.full_name().eq_ignore_ascii_case(full_name))
    }

    /// The schema fingerprint the mapping is bound to: blake3 of the canonical JSON of every object's name, type
    /// and columns (name, type, length, precision, scale), sorted case-insensitively. Row counts do not count, so
    /// a later delta extract of the same database has the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut objects: Vec<serde_json::Value> = self
            .objects
            .iter()
            .map(|o| {
                serde_json::json!({
                    "name": o.full_name().to_lowercase(),
                    "type": o.object_type,
                    "columns": o.columns.iter().map(|c| serde_json::json!([
                        c.name.to_lowercase(), c.data_type.to_lowercase(), c.max_length, c.precision, c.scale
                    ])).collect::<Vec<_>>(),
                })
            })
            .collect();
        objects.sort_by_key(|o| o["name"].as_str().unwrap_or_default().to_string());
        ti_shared::canonical::digest(&serde_json::Value::Array(objects))
    }
}

enum Backend {
    Bundle {
        root: PathBuf,
        parts: HashMap<String, Vec<String>>,
        blobs: HashMap<String, PathBuf>,
        /// Manifest `rows` of every file (path → rows), for the completeness check (check.rs).
        rows: HashMap<String, Option<u64>>,
    },
    Memory {
        batches: HashMap<String, Vec<RecordBatch>>,
        blobs: HashMap<String, Vec<u8>>,
    },
}

/// Access to the source tables of one extract: inventory plus a batch stream per table.
pub struct SourceTables {
    inventory: Inventory,
    backend: Backend,
    bundle_id: String,
}

/// A source value as the transform sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    /// SQL NULL.
    #[default]
    Null,
    /// Character data (decoded).
    Text(String),
    /// Any integer type.
    Int(i64),
    /// real, float, decimal, money.
    Float(f64),
    /// bit.
    Bool(bool),
    /// datetime without zone (wall time of the source server).
    Local(NaiveDateTime),
    /// datetimeoffset, already in UTC.
    Utc(NaiveDateTime),
    /// Binary data held in the row.
    Bytes(Vec<u8>),
    /// A LOB cell stored in `blobs/`.
    Blob {
        /// blake3 hex of the bytes.
        hash: String,
        /// Length in bytes.
        bytes: u64,
    },
}

impl SourceTables {
    /// Reads `inventory.json` and the part list of every table of a verified extract bundle.
    ///
    /// # Errors
    /// [`TransformError::Content`] (exit 3) when `inventory.json` is missing or unreadable.
    pub fn from_bundle(bundle: &Bundle) -> Result<Self> {
        let inv = ti_shared::bundle::layout::INVENTORY;
        let file = bundle.open_file(inv).map_err(|e| match e {
            ti_shared::bundle::BundleError::NotInBundle { .. } => content(
                bundle.root(),
                inv,
                "it is missing: the manifest does not list it; every extract bundle has one",
            ),
            other => other.into(),
        })?;
        let inventory: Inventory = serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| content(bundle.root(), inv, e))?;
        let mut parts: HashMap<String, Vec<String>> = HashMap::new();
        let mut blobs = HashMap::new();
        for entry in &bundle.manifest().files {
            if let Some(rest) = entry.path.strip_prefix("blobs/")
                && let Some((_, hash)) = rest.split_once('/')
            {
                blobs.insert(hash.to_string(), bundle.path(&entry.path));
            }
        }
        for object in &inventory.objects {
            let prefix = format!("{}/", object.folder.trim_end_matches('/'));
            let mut files: Vec<String> = bundle
                .files_under(&prefix)
                .filter(|f| f.path.ends_with(".parquet"))
                .map(|f| f.path.clone())
                .collect();
            files.sort();
            parts.insert(object.full_name().to_lowercase(), files);
        }
        Ok(Self {
            inventory,
            backend: Backend::Bundle {
                root: bundle.root().to_path_buf(),
                parts,
                blobs,
                rows: bundle
                    .manifest()
                    .files
                    .iter()
                    .map(|f| (f.path.clone(), f.rows))
                    .collect(),
            },
            bundle_id: bundle.id().to_string(),
        })
    }

    /// Tables held in memory (tests): `batches` keyed by `schema.name` (any case); `blobs` keyed by blake3 hex.
    pub fn in_memory(
        inventory: Inventory,
        batches: HashMap<String, Vec<RecordBatch>>,
        blobs: HashMap<String, Vec<u8>>,
    ) -> Self {
        let batches = batches
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        Self {
            inventory,
            backend: Backend::Memory { batches, blobs },
            bundle_id: "in-memory".into(),
        }
    }

    /// The inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The extract bundle's id (`in-memory` for test inputs).
    pub fn bundle_id(&self) -> &str {
        &self.bundle_id
    }

    /// Streams the batches of `full_name` (`schema.name`, case-insensitive) to `f`, one at a time (memory: one
    /// row group). A table the inventory lacks yields nothing. Returns the number of rows seen.
    ///
    /// # Errors
    /// [`TransformError::Content`] (exit 3, naming the bundle and the part) when a part cannot be decoded;
    /// [`TransformError::Parquet`] when it cannot be opened; whatever `f` returns.
    pub fn scan(
        &self,
        full_name: &str,
        mut f: impl FnMut(&Batch<'_>) -> Result<()>,
    ) -> Result<u64> {
        let Some(object) = self.inventory.object(full_name) else {
            return Ok(0);
        };
        let key = object.full_name().to_lowercase();
        let mut rows = 0u64;
        match &self.backend {
            Backend::Memory { batches, .. } => {
                for rb in batches.get(&key).into_iter().flatten() {
                    rows += rb.num_rows() as u64;
                    f(&Batch::new(rb, object, self))?;
                }
            }
            Backend::Bundle { root, parts, .. } => {
                for rel in parts.get(&key).into_iter().flatten() {
                    let file = std::fs::File::open(root.join(rel))
                        .map_err(|e| TransformError::Parquet(format!("{rel}: {e}")))?;
                    let reader =
                        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                            file,
                        )
                        .and_then(|b| b.with_batch_size(8192).build())
                        .map_err(|e| content(root, rel, e))?;
                    for rb in reader {
                        let rb = rb.map_err(|e| content(root, rel, e))?;
                        rows += rb.num_rows() as u64;
                        f(&Batch::new(&rb, object, self))?;
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Streams the batches of a profile object's table like [`Self::scan`]; with a `join` whose table the
    /// extract has, every batch also carries the joined columns (matched on the key, NULL without a match).
    ///
    /// # Errors
    /// As [`Self::scan`]; arrow failures while joining.
    pub fn scan_map(
        &self,
        map: &ObjectMap,
        mut f: impl FnMut(&Batch<'_>) -> Result<()>,
    ) -> Result<u64> {
        let Some(j) = map
            .join
            .as_ref()
            .filter(|j| self.inventory.object(&j.table).is_some())
        else {
            return self.scan(&map.table, f);
        };
        let side = join::JoinSide::load(self, j)?;
        self.scan(&map.table, |batch| {
            let merged = side.attach(batch, &map.key)?;
            f(&Batch::new(&merged, batch.object, self))
        })
    }

    /// The bytes of a blob.
    ///
    /// # Errors
    /// [`TransformError::Input`] when the bundle has no such blob.
    pub fn read_blob(&self, hash: &str) -> Result<Vec<u8>> {
        match &self.backend {
            Backend::Memory { blobs, .. } => blobs
                .get(hash)
                .cloned()
                .ok_or_else(|| TransformError::Input(format!("blob {hash} missing"))),
            Backend::Bundle { blobs, .. } => {
                let path = blobs
                    .get(hash)
                    .ok_or_else(|| TransformError::Input(format!("blob {hash} missing")))?;
                std::fs::read(path).map_err(|e| TransformError::Input(format!("blob {hash}: {e}")))
            }
        }
    }

    /// The extract bundle's folder (`None` for in-memory test inputs).
    pub fn root(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Bundle { root, .. } => Some(root),
            Backend::Memory { .. } => None,
        }
    }

    /// The file of a blob in the extract bundle (for hard-linking), if it is on disk.
    pub fn blob_file(&self, hash: &str) -> Option<PathBuf> {
        match &self.backend {
            Backend::Bundle { blobs, .. } => blobs.get(hash).cloned(),
            Backend::Memory { .. } => None,
        }
    }

    /// True when the blob exists.
    pub fn has_blob(&self, hash: &str) -> bool {
        match &self.backend {
            Backend::Bundle { blobs, .. } => blobs.contains_key(hash),
            Backend::Memory { blobs, .. } => blobs.contains_key(hash),
        }
    }

    /// Every parquet file of the extract under `prefix` (e.g. `attachments/`).
    pub fn scan_file(&self, rel: &str, mut f: impl FnMut(&Batch<'_>) -> Result<()>) -> Result<u64> {
        let object = InvObject {
            schema: "bundle".into(),
            name: rel.into(),
            ..Default::default()
        };
        let mut rows = 0;
        match &self.backend {
            Backend::Memory { batches, .. } => {
                for rb in batches.get(&rel.to_lowercase()).into_iter().flatten() {
                    rows += rb.num_rows() as u64;
                    f(&Batch::new(rb, &object, self))?;
                }
            }
            Backend::Bundle { root, .. } => {
                let path = root.join(rel);
                if !path.exists() {
                    return Ok(0);
                }
                let file = std::fs::File::open(&path)
                    .map_err(|e| TransformError::Parquet(format!("{rel}: {e}")))?;
                let reader =
                    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                        .and_then(|b| b.with_batch_size(8192).build())
                        .map_err(|e| content(root, rel, e))?;
                for rb in reader {
                    let rb = rb.map_err(|e| content(root, rel, e))?;
                    rows += rb.num_rows() as u64;
                    f(&Batch::new(&rb, &object, self))?;
                }
            }
        }
        Ok(rows)
    }
}
