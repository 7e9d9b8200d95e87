//! People and groups (`dbo.HDUsers`, `dbo.HDGroups`, `dbo.HDGroupMembers`, trackit-fixture.md §2.4) with the
//! people-related dirty data of §4.

use super::ddl::{Inserter, V, fitted};
use super::names::{DEPTS, FIRST, LAST, LOCATIONS, SPECIAL};
use super::schema::Defs;
use super::tickets::{dt, epoch};
use super::{CUSTOMER_DOMAIN, Ctx, GenError, Truth, sub_rng};
use chrono::Duration;
use rand::Rng;
use rand::seq::IndexedRandom;
use std::collections::HashSet;

/// One HDUsers row, values as stored (fitted to the column widths and code page).
#[derive(Debug, Clone)]
pub struct Person {
    /// UserId.
    pub id: i64,
    /// LoginId.
    pub login: String,
    /// FullName as stored (varchar(50)).
    pub full_name: String,
    /// FirstName (nvarchar).
    pub first: String,
    /// LastName (nvarchar).
    pub last: String,
    /// Email as stored (NULL, '', invalid, padded…).
    pub email: Option<String>,
    /// Dept.
    pub dept: String,
    /// Location.
    pub location: String,
    /// IsTechnician.
    pub is_tech: bool,
    /// IsRequestor.
    pub is_requestor: bool,
    /// IsActive.
    pub is_active: bool,
    /// Dirty-data kinds this row carries.
    pub kinds: Vec<&'static str>,
}

/// All people and groups of one database.
#[derive(Debug, Clone)]
pub struct People {
    /// HDUsers rows in UserId order.
    pub persons: Vec<Person>,
    /// Indices (into `persons`) of technicians.
    pub techs: Vec<usize>,
    /// Indices of requestors (IsRequestor = 1), technicians who also request included.
    pub requestors: Vec<usize>,
    /// HDGroups (GroupId, GroupName).
    pub groups: Vec<(i64, String)>,
    /// HDGroupMembers (GroupId, UserId).
    pub members: Vec<(i64, i64)>,
    /// UserIds of technicians deliberately left out of admins.json.
    pub unlisted_techs: Vec<i64>,
}

/// Fixed UserIds of the people sentinels (documented in the README).
pub mod ids {
    /// "Administrator" technician.
    pub const ADMINISTRATOR: i64 = 1;
    /// Bot technician "helpdeskbot".
    pub const BOT: i64 = 2;
    /// Disabled technician still assigned to open tickets.
    pub const DISABLED_TECH: i64 = 3;
    /// Technician who is also a requestor.
    pub const TECH_REQUESTOR: i64 = 4;
    /// Technician whose email is stored upper-case and padded.
    pub const TECH_PADDED_EMAIL: i64 = 5;
    /// "John Smith", the person written three ways in TASKS.REQUEST.
    pub const JOHN_SMITH: i64 = 1001;
    /// First of two different people named "Maria Garcia".
    pub const SAME_NAME_A: i64 = 1002;
    /// Second "Maria Garcia".
    pub const SAME_NAME_B: i64 = 1003;
    /// Email NULL.
    pub const EMAIL_NULL: i64 = 1004;
    /// Email ''.
    pub const EMAIL_EMPTY: i64 = 1005;
    /// Emails "n/a", "john.doe@", "x@y".
    pub const EMAIL_INVALID: [i64; 3] = [1006, 1007, 1008];
    /// Two users sharing one email.
    pub const EMAIL_SHARED: [i64; 2] = [1009, 1010];
    /// Upper-case, padded email.
    pub const EMAIL_PADDED: i64 = 1011;
    /// Plus-address.
    pub const EMAIL_PLUS: i64 = 1012;
    /// First of the special-name people (apostrophe, hyphen, accents, CJK, Arabic, Hebrew): 1013–1019.
    pub const SPECIAL_FIRST: i64 = 1013;
    /// Same email as John Smith, different case (merged after normalisation).
    pub const EMAIL_CASE_TWIN: i64 = 1020;
    /// First randomly generated requestor.
    pub const FIRST_RANDOM_REQUESTOR: i64 = 1021;
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ä' | 'á' | 'à' | 'â' | 'Á' | 'Ä' => Some('a'),
            'é' | 'è' | 'ê' | 'É' => Some('e'),
            'í' | 'ì' | 'Í' => Some('i'),
            'ó' | 'ö' | 'ò' | 'Ö' | 'Ó' => Some('o'),
            'ú' | 'ü' | 'Ü' => Some('u'),
            'ñ' => Some('n'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            '-' | '.' => Some(c),
            _ => None,
        })
        .collect()
}

struct Builder<'a> {
    ctx: &'a Ctx,
    persons: Vec<Person>,
    emails: HashSet<String>,
    logins: HashSet<String>,
}

impl Builder<'_> {
    fn unique_email(&mut self, first: &str, last: &str, uid: i64) -> String {
        let mut local = format!("{}.{}", ascii_fold(first), ascii_fold(last));
        if local.len() < 3 || local.starts_with('.') || local.ends_with('.') {
            local = format!("user{uid}");
        }
        let mut email = format!("{local}@{CUSTOMER_DOMAIN}");
        let mut n = 2;
        while self.emails.contains(&email) {
            email = format!("{local}{n}@{CUSTOMER_DOMAIN}");
            n += 1;
        }
        self.emails.insert(email.clone());
        email
    }

    fn unique_login(&mut self, first: &str, last: &str, uid: i64) -> String {
        let f = ascii_fold(first);
        let base = format!("{}{}", f.chars().next().unwrap_or('u'), ascii_fold(last));
        let mut login = if base.len() < 2 {
            format!("user{uid}")
        } else {
            base
        };
        if self.logins.contains(&login) {
            login = format!("{login}{uid}");
        }
        self.logins.insert(login.clone());
        login
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: i64,
        first: &str,
        last: &str,
        full: Option<&str>,
        email: Option<String>,
        tech: bool,
        req: bool,
    ) {
        let cp = self.ctx.cp1252();
        let mut rng = sub_rng(self.ctx.seed, "person", id as u64);
        let login = self.unique_login(first, last, id);
        let full_name = full.map_or_else(|| format!("{first} {last}"), str::to_string);
        self.persons.push(Person {
            id,
            login: fitted(&login, 50, cp),
            full_name: fitted(&full_name, 50, cp),
            first: first.into(),
            last: last.into(),
            email: email.map(|e| fitted(&e, 100, cp)),
            dept: DEPTS.choose(&mut rng).copied().unwrap_or("IT").into(),
            location: LOCATIONS
                .choose(&mut rng)
                .copied()
                .unwrap_or("Remote")
                .into(),
            is_tech: tech,
            is_requestor: req,
            is_active: true,
            kinds: Vec::new(),
        });
    }

    fn last_mut(&mut self) -> &mut Person {
        let n = self.persons.len() - 1;
        &mut self.persons[n]
    }
}

/// Generates every person and group.
pub fn generate(ctx: &Ctx) -> People {
    let mut b = Builder {
        ctx,
        persons: Vec::new(),
        emails: HashSet::new(),
        logins: HashSet::new(),
    };
    let t = ctx.scale.technicians as i64;
    let d = CUSTOMER_DOMAIN;
    // Technicians 1..=T.
    b.push(
        ids::ADMINISTRATOR,
        "Administrator",
        "",
        Some("Administrator"),
        Some(format!("admin@{d}")),
        true,
        false,
    );
    b.last_mut().login = "admin".into();
    b.last_mut().kinds.push("administrator_technician");
    b.push(
        ids::BOT,
        "helpdeskbot",
        "",
        Some("helpdeskbot"),
        Some(format!("helpdeskbot@{d}")),
        true,
        false,
    );
    b.last_mut().login = "helpdeskbot".into();
    b.last_mut().kinds.push("bot_technician");
    let e = b.unique_email("Gary", "Oldham", 3);
    b.push(
        ids::DISABLED_TECH,
        "Gary",
        "Oldham",
        None,
        Some(e),
        true,
        false,
    );
    b.last_mut().is_active = false;
    b.last_mut().kinds.push("disabled_technician");
    let e = b.unique_email("Dana", "Whitfield", 4);
    b.push(
        ids::TECH_REQUESTOR,
        "Dana",
        "Whitfield",
        None,
        Some(e),
        true,
        true,
    );
    b.last_mut().kinds.push("technician_also_requestor");
    let e = b.unique_email("Priya", "Natarajan", 5);
    b.push(
        ids::TECH_PADDED_EMAIL,
        "Priya",
        "Natarajan",
        None,
        Some(format!(" {} ", e.to_uppercase())),
        true,
        false,
    );
    b.last_mut().kinds.push("email_upper_padded");
    let mut tech_names = HashSet::new();
    for id in 6..=t {
        let mut rng = sub_rng(ctx.seed, "tech", id as u64);
        let (mut f, mut l) = ("", "");
        for _ in 0..50 {
            f = FIRST.choose(&mut rng).copied().unwrap_or("Tech");
            l = LAST.choose(&mut rng).copied().unwrap_or("Person");
            if tech_names.insert(format!("{f} {l}")) {
                break;
            }
        }
        let e = b.unique_email(f, l, id);
        let also_req = rng.random_bool(0.2);
        b.push(id, f, l, None, Some(e), true, also_req);
        if also_req {
            b.last_mut().kinds.push("technician_also_requestor");
        }
    }
    // Requestor sentinels.
    let e = b.unique_email("John", "Smith", ids::JOHN_SMITH);
    b.push(ids::JOHN_SMITH, "John", "Smith", None, Some(e), false, true);
    let e = b.unique_email("Maria", "Garcia", ids::SAME_NAME_A);
    b.push(
        ids::SAME_NAME_A,
        "Maria",
        "Garcia",
        None,
        Some(e),
        false,
        true,
    );
    b.last_mut().kinds.push("duplicate_full_name");
    let e = b.unique_email("Maria", "Garcia", ids::SAME_NAME_B);
    b.push(
        ids::SAME_NAME_B,
        "Maria",
        "Garcia",
        None,
        Some(e),
        false,
        true,
    );
    b.last_mut().kinds.push("duplicate_full_name");
    b.push(ids::EMAIL_NULL, "Walter", "Nomail", None, None, false, true);
    b.last_mut().kinds.push("email_missing");
    b.push(
        ids::EMAIL_EMPTY,
        "Wendy",
        "Blank",
        None,
        Some(String::new()),
        false,
        true,
    );
    b.last_mut().kinds.push("email_missing");
    for (id, bad) in ids::EMAIL_INVALID.iter().zip(["n/a", "john.doe@", "x@y"]) {
        b.push(
            *id,
            "Ivan",
            &format!("Invalid{}", id - 1005),
            None,
            Some(bad.into()),
            false,
            true,
        );
        b.last_mut().kinds.push("email_invalid");
    }
    let shared = format!("frontdesk@{d}");
    b.push(
        ids::EMAIL_SHARED[0],
        "Front",
        "Desk",
        None,
        Some(shared.clone()),
        false,
        true,
    );
    b.last_mut().kinds.push("email_shared");
    b.push(
        ids::EMAIL_SHARED[1],
        "Reception",
        "Temp",
        None,
        Some(shared),
        false,
        true,
    );
    b.last_mut().kinds.push("email_shared");
    let e = b.unique_email("Kevin", "Brandt", ids::EMAIL_PADDED);
    b.push(
        ids::EMAIL_PADDED,
        "Kevin",
        "Brandt",
        None,
        Some(format!("  {}  ", e.to_uppercase())),
        false,
        true,
    );
    b.last_mut().kinds.push("email_upper_padded");
    b.push(
        ids::EMAIL_PLUS,
        "Laura",
        "Chen",
        None,
        Some(format!("laura.chen+helpdesk@{d}")),
        false,
        true,
    );
    b.last_mut().kinds.push("email_plus_address");
    for (i, (f, l, kind)) in SPECIAL.iter().enumerate() {
        let id = ids::SPECIAL_FIRST + i as i64;
        let e = b.unique_email(f, l, id);
        let full = if *kind == "name_cjk" {
            format!("{l}{f}")
        } else {
            format!("{f} {l}")
        };
        b.push(id, f, l, Some(&full), Some(e), false, true);
        b.last_mut().kinds.push(kind);
    }
    b.push(
        ids::EMAIL_CASE_TWIN,
        "Jon",
        "Smith-Twin",
        None,
        Some(format!("JOHN.SMITH@{}", d.to_uppercase())),
        false,
        true,
    );
    b.last_mut().kinds.push("email_shared");
    // Random requestors.
    let sentinel_count = (ids::FIRST_RANDOM_REQUESTOR - ids::JOHN_SMITH) as usize;
    let randoms = ctx.scale.requestors.saturating_sub(sentinel_count);
    for k in 0..randoms as i64 {
        let id = ids::FIRST_RANDOM_REQUESTOR + k;
        let mut rng = sub_rng(ctx.seed, "requestor", id as u64);
        let roll: f64 = rng.random();
        let (f, l, special) = if roll < 0.01 {
            let (f, l, kind) = *SPECIAL.choose(&mut rng).unwrap_or(&SPECIAL[0]);
            (f, l, Some(kind))
        } else {
            (
                FIRST.choose(&mut rng).copied().unwrap_or("A"),
                LAST.choose(&mut rng).copied().unwrap_or("B"),
                None,
            )
        };
        let full = if special == Some("name_cjk") {
            format!("{l}{f}")
        } else {
            format!("{f} {l}")
        };
        let clean = b.unique_email(f, l, id);
        let r: f64 = rng.random();
        let (email, kind) = if r < 0.02 {
            (None, Some("email_missing"))
        } else if r < 0.025 {
            (
                Some(["n/a", "none", "x@y", "unknown@"][rng.random_range(0..4)].to_string()),
                Some("email_invalid"),
            )
        } else if r < 0.045 {
            (
                Some(format!(" {} ", clean.to_uppercase())),
                Some("email_upper_padded"),
            )
        } else if r < 0.055 {
            (
                Some(clean.replacen('@', "+it@", 1)),
                Some("email_plus_address"),
            )
        } else if r < 0.06 && b.persons.len() > 40 {
            let other = rng.random_range(30..b.persons.len());
            let e = b.persons[other]
                .email
                .clone()
                .filter(|e| e.contains('@') && e.contains('.'));
            (e.clone().or(Some(clean)), e.map(|_| "email_shared"))
        } else {
            (Some(clean), None)
        };
        b.push(id, f, l, Some(&full), email, false, true);
        if let Some(k) = special {
            b.last_mut().kinds.push(k);
        }
        if let Some(k) = kind {
            b.last_mut().kinds.push(k);
        }
    }
    let persons = b.persons;
    let techs: Vec<usize> = (0..persons.len()).filter(|&i| persons[i].is_tech).collect();
    let requestors: Vec<usize> = (0..persons.len())
        .filter(|&i| persons[i].is_requestor)
        .collect();
    let group_names = [
        "Help Desk",
        "Desktop Support",
        "Network Team",
        "Applications",
        "Facilities",
    ];
    let groups: Vec<(i64, String)> = (0..ctx.scale.groups)
        .map(|g| {
            (
                g as i64 + 1,
                group_names
                    .get(g)
                    .map_or_else(|| format!("Support Group {}", g + 1), |s| s.to_string()),
            )
        })
        .collect();
    let mut members = Vec::new();
    for &ti in &techs {
        let p = &persons[ti];
        let mut rng = sub_rng(ctx.seed, "membership", p.id as u64);
        let g1 = if p.id <= 5 {
            1
        } else {
            rng.random_range(1..=groups.len() as i64)
        };
        members.push((g1, p.id));
        let g2 = rng.random_range(1..=groups.len() as i64);
        if g2 != g1 && rng.random_bool(0.3) {
            members.push((g2, p.id));
        }
    }
    members.sort_unstable();
    members.dedup();
    let unlisted_techs = vec![ids::BOT, ids::DISABLED_TECH, t];
    People {
        persons,
        techs,
        requestors,
        groups,
        members,
        unlisted_techs,
    }
}

/// Inserts HDUsers, HDGroups and HDGroupMembers and counts the people dirty-data kinds.
pub fn insert(
    conn: &rusqlite::Connection,
    ctx: &Ctx,
    defs: &Defs,
    people: &People,
    truth: &mut Truth,
) -> Result<(), GenError> {
    let mut ins = Inserter::new(conn, &defs.users)?;
    for p in &people.persons {
        let mut rng = sub_rng(ctx.seed, "person-extra", p.id as u64);
        let created = epoch(ctx) - Duration::days(rng.random_range(30..400));
        ins.insert(vec![
            V::I(p.id),
            p.login.as_str().into(),
            p.full_name.as_str().into(),
            p.first.as_str().into(),
            p.last.as_str().into(),
            V::from(&p.email),
            format!(
                "(555) {:03}-{:04}",
                rng.random_range(200..999),
                rng.random_range(0..9999)
            )
            .into(),
            p.dept.as_str().into(),
            p.location.as_str().into(),
            p.is_tech.into(),
            p.is_requestor.into(),
            p.is_active.into(),
            dt(created).into(),
        ])?;
    }
    count(people, truth);
    let mut g = Inserter::new(conn, &defs.groups)?;
    for (id, name) in &people.groups {
        g.insert(vec![V::I(*id), name.as_str().into()])?;
    }
    let mut m = Inserter::new(conn, &defs.members)?;
    for (gid, uid) in &people.members {
        m.insert(vec![V::I(*gid), V::I(*uid)])?;
    }
    Ok(())
}

/// Counts the people dirty-data kinds (per HDUsers row) and the people sentinels.
pub fn count(people: &People, truth: &mut Truth) {
    for p in &people.persons {
        for k in &p.kinds {
            truth.dirty(k, 1);
            truth.sentinel_user(k, p.id);
        }
    }
}
