//! Table and view definitions of the `classic` profile (trackit-fixture.md §2). Name status (REAL, SEED,
//! PLACEHOLDER) is documented in the crate README.

use super::ddl::{ColDef, TableDef, col, nn, pk, widen_type};
use super::{Ctx, TextMode};

/// Every object of one generated database.
#[derive(Debug, Clone)]
pub struct Defs {
    /// dbo.TASKS
    pub tasks: TableDef,
    /// dbo.TaskNote
    pub task_note: TableDef,
    /// dbo.WorkOrderStatus
    pub status: TableDef,
    /// dbo.WorkOrderType
    pub wo_type: TableDef,
    /// dbo.TaskNoteType
    pub note_type: TableDef,
    /// dbo.TaskNoteCategory
    pub note_category: TableDef,
    /// dbo.HDUsers
    pub users: TableDef,
    /// dbo.HDGroups
    pub groups: TableDef,
    /// dbo.HDGroupMembers
    pub members: TableDef,
    /// dbo.Assets
    pub assets: TableDef,
    /// dbo.ConfigItems
    pub config_items: TableDef,
    /// dbo.ChangeRequests
    pub changes: TableDef,
    /// dbo.ChangeApprovals
    pub approvals: TableDef,
    /// dbo.KBArticles
    pub kb: TableDef,
    /// dbo.SLAPolicies
    pub sla_policies: TableDef,
    /// dbo.SLATargets
    pub sla_targets: TableDef,
    /// dbo.BCMRelations
    pub bcm: TableDef,
    /// dbo.Attachments
    pub attachments: TableDef,
    /// dbo.zz_import_2016 (unrelated extra table)
    pub zz_import: TableDef,
    /// dbo.zz_type_probe (extremes of types the classic schema lacks)
    pub probe: TableDef,
    /// dbo.vTASKS_BROWSE (view)
    pub browse: TableDef,
}

impl Defs {
    /// The base tables, in creation order.
    pub fn tables(&self) -> Vec<&TableDef> {
        let mut v = vec![
            &self.tasks,
            &self.task_note,
            &self.status,
            &self.wo_type,
            &self.note_type,
            &self.note_category,
        ];
        v.extend(self.modules());
        v
    }

    /// The tables every profile shares (people, assets and the other modules, attachments, extra tables).
    pub fn modules(&self) -> Vec<&TableDef> {
        vec![
            &self.users,
            &self.groups,
            &self.members,
            &self.assets,
            &self.config_items,
            &self.changes,
            &self.approvals,
            &self.kb,
            &self.sla_policies,
            &self.sla_targets,
            &self.bcm,
            &self.attachments,
            &self.zz_import,
            &self.probe,
        ]
    }
}

fn range(prefix: &str, from: u32, to: u32, ty: &str) -> Vec<ColDef> {
    (from..=to)
        .map(|i| col(&format!("{prefix}{i}"), ty))
        .collect()
}

/// Applies the text mode to every varchar/text column of a table.
fn mode(ctx: &Ctx, mut def: TableDef) -> TableDef {
    if ctx.text == TextMode::Nvarchar {
        for c in &mut def.cols {
            c.ty = widen_type(&c.ty);
        }
    }
    def
}

fn tasks() -> TableDef {
    let mut cols = vec![
        pk("WOID", "int", 1),
        nn("WO_NUM", "int"),
        col("PARENTWOID", "int"),
        col("TASK", "varchar(100)"),
        col("DESCRIPT", "text"),
        col("NOTE", "text"),
        col("REQUEST", "varchar(50)"),
        col("RESPONS", "varchar(30)"),
        col("RESPONDEDBY", "varchar(30)"),
        col("CLSDBY", "varchar(30)"),
        col("DEPT", "varchar(30)"),
        col("PRIORITY", "varchar(50)"),
        col("TYPE", "varchar(30)"),
        col("WOTYPE2", "varchar(30)"),
        col("WOTYPE3", "varchar(30)"),
        col("WorkOrderTypeId", "int"),
        col("WorkOrderStatusId", "int"),
        col("STATUS", "varchar(25)"),
    ];
    for d in [
        "REQDATE",
        "OPENDATE",
        "DUEDATE",
        "MODIDATE",
        "ASSNDATE",
        "RESPONSEDATE",
        "RESPONDEDDATE",
        "CLSDDATE",
    ] {
        cols.push(col(d, "datetime"));
    }
    cols.push(col("COMPLETED", "datetime"));
    cols.push(col("ELAPSETIME", "varchar(20)"));
    cols.push(col("ELAPSEMIN", "int"));
    cols.push(col("HOURS", "real"));
    cols.push(col("LOOKUP1", "varchar(50)"));
    cols.push(col("LOOKUP2", "varchar(50)"));
    cols.extend(range("TaskLookup", 3, 8, "varchar(50)"));
    cols.extend(range("WO_TEXT", 1, 6, "varchar(40)"));
    cols.push(col("WO_NUM1", "real"));
    cols.push(col("WO_INT1", "int"));
    cols.extend(range("WO_DATE", 1, 6, "datetime"));
    cols.push(col("LOCATION", "varchar(50)"));
    cols.push(col("ASSETNAME", "varchar(50)"));
    cols.push(col("WO_MEMO1", "text"));
    cols.push(col("ZZ_SITE_COSTCENTER", "nvarchar(20)"));
    TableDef::new("dbo", "TASKS", cols)
}

/// The `classic` profile's objects.
pub fn classic(ctx: &Ctx) -> Defs {
    let d = |name: &str, cols: Vec<ColDef>| mode(ctx, TableDef::new("dbo", name, cols));
    let mut utf8 = col("Utf8Text", "varchar(100)");
    utf8.collation = Some("Latin1_General_100_CI_AS_SC_UTF8".into());
    Defs {
        tasks: mode(ctx, tasks()),
        task_note: d(
            "TaskNote",
            vec![
                pk("TaskNoteId", "int", 1),
                col("woid", "int"),
                col("CreateDate", "datetime"),
                col("ModifiedDate", "datetime"),
                col("CreatedBy", "varchar(50)"),
                col("NoteText", "text"),
                col("TaskNoteTypeId", "int"),
                col("TaskNoteCategoryId", "int"),
                col("IsPrivate", "bit"),
                col("ActivityCode", "varchar(50)"),
            ],
        ),
        status: d(
            "WorkOrderStatus",
            vec![
                pk("WorkOrderStatusId", "int", 1),
                col("WorkOrderStatusName", "varchar(255)"),
                col("StopsClock", "bit"),
            ],
        ),
        wo_type: d(
            "WorkOrderType",
            vec![
                pk("WorkOrderTypeId", "int", 1),
                col("WorkOrderTypeName", "varchar(255)"),
            ],
        ),
        note_type: d(
            "TaskNoteType",
            vec![
                pk("TaskNoteTypeId", "int", 1),
                col("TaskNoteTypeName", "varchar(100)"),
            ],
        ),
        note_category: d(
            "TaskNoteCategory",
            vec![
                pk("TaskNoteCategoryId", "int", 1),
                col("TaskNoteCategoryDescr", "varchar(100)"),
            ],
        ),
        users: d(
            "HDUsers",
            vec![
                pk("UserId", "int", 1),
                col("LoginId", "varchar(50)"),
                col("FullName", "varchar(50)"),
                col("FirstName", "nvarchar(50)"),
                col("LastName", "nvarchar(50)"),
                col("Email", "varchar(100)"),
                col("Phone", "varchar(30)"),
                col("Dept", "varchar(30)"),
                col("Location", "varchar(50)"),
                col("IsTechnician", "bit"),
                col("IsRequestor", "bit"),
                col("IsActive", "bit"),
                col("CreatedDate", "datetime"),
            ],
        ),
        groups: d(
            "HDGroups",
            vec![pk("GroupId", "int", 1), col("GroupName", "varchar(50)")],
        ),
        members: d(
            "HDGroupMembers",
            vec![pk("GroupId", "int", 1), pk("UserId", "int", 2)],
        ),
        assets: d(
            "Assets",
            vec![
                pk("AssetId", "int", 1),
                col("AssetName", "varchar(50)"),
                col("AssetTag", "varchar(30)"),
                col("SerialNo", "varchar(50)"),
                col("AssetType", "varchar(30)"),
                col("Manufacturer", "varchar(50)"),
                col("Model", "varchar(50)"),
                col("AssignedUser", "varchar(50)"),
                col("Location", "varchar(50)"),
                col("PurchaseDate", "datetime"),
                col("RetiredDate", "datetime"),
                col("IsManaged", "bit"),
                col("BcmDeviceId", "varchar(64)"),
            ],
        ),
        config_items: d(
            "ConfigItems",
            vec![
                pk("CIId", "int", 1),
                col("AssetId", "int"),
                col("CIName", "varchar(100)"),
                col("CIType", "varchar(30)"),
                col("Status", "varchar(25)"),
                col("Notes", "text"),
            ],
        ),
        changes: d(
            "ChangeRequests",
            vec![
                pk("ChangeId", "int", 1),
                col("Summary", "varchar(100)"),
                col("Description", "text"),
                col("RequestorName", "varchar(50)"),
                col("Status", "varchar(25)"),
                col("Priority", "varchar(50)"),
                col("Risk", "varchar(20)"),
                col("PlannedStart", "datetime"),
                col("PlannedEnd", "datetime"),
                col("ApprovalState", "varchar(25)"),
                col("LinkedWOID", "int"),
            ],
        ),
        approvals: d(
            "ChangeApprovals",
            vec![
                nn("ChangeId", "int"),
                col("Approver", "varchar(50)"),
                col("Decision", "varchar(10)"),
                col("DecidedAt", "datetime"),
                col("Comment", "varchar(500)"),
            ],
        ),
        kb: d(
            "KBArticles",
            vec![
                pk("ArticleId", "int", 1),
                col("Title", "varchar(200)"),
                col("Body", "text"),
                col("Category", "varchar(60)"),
                col("IsPublished", "bit"),
                col("IsSelfService", "bit"),
                col("CreatedBy", "varchar(50)"),
                col("CreatedDate", "datetime"),
                col("ModifiedDate", "datetime"),
            ],
        ),
        sla_policies: d(
            "SLAPolicies",
            vec![
                pk("SLAId", "int", 1),
                col("Name", "varchar(60)"),
                col("AppliesToPriority", "varchar(50)"),
                col("IsActive", "bit"),
            ],
        ),
        sla_targets: d(
            "SLATargets",
            vec![
                pk("SLAId", "int", 1),
                pk("Metric", "varchar(20)", 2),
                col("TargetMinutes", "int"),
                col("BusinessHoursOnly", "bit"),
            ],
        ),
        bcm: d(
            "BCMRelations",
            vec![
                nn("FromAssetId", "int"),
                col("ToAssetId", "int"),
                col("RelationType", "varchar(30)"),
                col("BcmObjectId", "varchar(64)"),
                col("LastSync", "datetime"),
            ],
        ),
        attachments: d(
            "Attachments",
            vec![
                pk("AttachmentId", "int", 1),
                col("WOID", "int"),
                col("FileName", "nvarchar(260)"),
                col("StoredPath", "nvarchar(400)"),
                col("SizeBytes", "bigint"),
                col("AddedBy", "varchar(50)"),
                col("AddedDate", "datetime"),
                col("Content", "varbinary(max)"),
            ],
        ),
        zz_import: d(
            "zz_import_2016",
            vec![
                pk("ImportRowId", "int", 1),
                col("SourceSystem", "varchar(30)"),
                col("LegacyTicketNo", "varchar(20)"),
                col("ImportedOn", "datetime"),
                col("RawLine", "varchar(400)"),
                col("Processed", "bit"),
            ],
        ),
        probe: TableDef::new(
            "dbo",
            "zz_type_probe",
            vec![
                pk("ProbeId", "int", 1),
                nn("Label", "varchar(60)"),
                col("MoneyValue", "money"),
                col("SmallMoneyValue", "smallmoney"),
                col("DecimalValue", "decimal(38,38)"),
                col("Decimal19_4", "decimal(19,4)"),
                col("DtoValue", "datetimeoffset(7)"),
                col("GuidValue", "uniqueidentifier"),
                col("Dt2Value", "datetime2(7)"),
                col("DateValue", "date"),
                col("TimeValue", "time(7)"),
                col("DtValue", "datetime"),
                col("SmallDtValue", "smalldatetime"),
                utf8,
                col("NVarcharValue", "nvarchar(100)"),
                col("NTextValue", "ntext"),
                col("VarcharValue", "varchar(100)"),
                col("CharValue", "char(10)"),
                col("BigValue", "bigint"),
                col("SmallValue", "smallint"),
                col("TinyValue", "tinyint"),
                col("FloatValue", "float"),
                col("RealValue", "real"),
                col("BitValue", "bit"),
                col("BinValue", "varbinary(max)"),
            ],
        ),
        browse: mode(
            ctx,
            TableDef::new(
                "dbo",
                "vTASKS_BROWSE",
                vec![
                    nn("WO_NUM", "int"),
                    nn("woid", "int"),
                    col("task", "varchar(100)"),
                    col("request_fullname", "varchar(50)"),
                    col("request_email", "varchar(100)"),
                    col("RESPONS", "varchar(30)"),
                    col("Status", "varchar(25)"),
                    col("WorkOrderStatusName", "varchar(255)"),
                    col("LOOKUP1", "varchar(50)"),
                    col("LOOKUP2", "varchar(50)"),
                    col("TaskLookup3", "varchar(50)"),
                    col("TaskLookup4", "varchar(50)"),
                    col("WO_TEXT2", "varchar(40)"),
                ],
            ),
        ),
    }
}
