//! The other modules (trackit-fixture.md §2.5): Assets, ConfigItems, BCMRelations, ChangeRequests with
//! approvals, KBArticles, SLA policies and targets, and the unrelated extra table `zz_import_2016`.

use super::ddl::{Inserter, V};
use super::names::LOCATIONS;
use super::people::People;
use super::schema::Defs;
use super::text::{html_email, plain_crlf, rtf, words};
use super::tickets::{dt, end, epoch, span_secs};
use super::{Ctx, GenError, sub_rng};
use chrono::Duration;
use rand::Rng;
use rand::seq::IndexedRandom;

/// Asset names and tags, by AssetId − 1.
#[derive(Debug, Clone)]
pub struct AssetNames {
    /// AssetName per asset.
    pub names: Vec<String>,
    /// AssetTag per asset.
    pub tags: Vec<String>,
}

const ASSET_TYPES: &[(&str, &str, &str, &str)] = &[
    ("LT", "Laptop", "Dell", "Latitude 5420"),
    ("DT", "Desktop", "HP", "EliteDesk 800 G5"),
    ("PR", "Printer", "HP", "LaserJet M507"),
    ("MN", "Monitor", "Dell", "P2419H"),
    ("PH", "Phone", "Cisco", "CP-8841"),
    ("SV", "Server", "Dell", "PowerEdge R740"),
    ("SW", "Switch", "Cisco", "Catalyst 2960"),
];

fn hex(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| {
            char::from_digit(rng.random_range(0..16), 16)
                .unwrap_or('0')
                .to_ascii_uppercase()
        })
        .collect()
}

fn rand_time(ctx: &Ctx, rng: &mut impl Rng) -> chrono::NaiveDateTime {
    epoch(ctx) + Duration::seconds(rng.random_range(0..span_secs(ctx)))
}

/// Inserts dbo.Assets and returns the names tickets can refer to.
pub fn insert_assets(
    conn: &rusqlite::Connection,
    ctx: &Ctx,
    defs: &Defs,
    people: &People,
) -> Result<AssetNames, GenError> {
    let mut ins = Inserter::new(conn, &defs.assets)?;
    let mut names = Vec::new();
    let mut tags = Vec::new();
    for i in 0..ctx.scale.assets {
        let id = i as i64 + 1;
        let mut rng = sub_rng(ctx.seed, "asset", id as u64);
        let (prefix, kind, make, model) = *ASSET_TYPES.choose(&mut rng).unwrap_or(&ASSET_TYPES[0]);
        let name = format!("{prefix}-{id:05}");
        let tag = format!("TAG{:06}", 100_000 + id);
        let owner = people
            .requestors
            .choose(&mut rng)
            .map(|&p| people.persons[p].full_name.clone());
        let purchased = rand_time(ctx, &mut rng) - Duration::days(365);
        let retired = rng
            .random_bool(0.1)
            .then(|| purchased + Duration::days(rng.random_range(400..1500)));
        let managed = rng.random_bool(0.6);
        ins.insert(vec![
            V::I(id),
            name.as_str().into(),
            tag.as_str().into(),
            hex(&mut rng, 10).into(),
            kind.into(),
            make.into(),
            model.into(),
            owner.into(),
            LOCATIONS
                .choose(&mut rng)
                .copied()
                .unwrap_or("Remote")
                .into(),
            dt(purchased).into(),
            retired.map(dt).into(),
            managed.into(),
            managed
                .then(|| {
                    format!(
                        "{{{}-{}-{}}}",
                        hex(&mut rng, 8),
                        hex(&mut rng, 4),
                        hex(&mut rng, 12)
                    )
                })
                .into(),
        ])?;
        names.push(name);
        tags.push(tag);
    }
    Ok(AssetNames { names, tags })
}

/// Inserts ConfigItems, BCMRelations, ChangeRequests, ChangeApprovals, KBArticles, SLAPolicies, SLATargets
/// and zz_import_2016.
pub fn insert_rest(
    conn: &rusqlite::Connection,
    ctx: &Ctx,
    defs: &Defs,
    people: &People,
    assets: &AssetNames,
) -> Result<(), GenError> {
    let n_assets = assets.names.len() as i64;
    let mut ins = Inserter::new(conn, &defs.config_items)?;
    let cis = (assets.names.len() as f64 * 0.3).round() as i64;
    for id in 1..=cis {
        let mut rng = sub_rng(ctx.seed, "ci", id as u64);
        let asset = rng.random_bool(0.9).then(|| rng.random_range(1..=n_assets));
        let ci_type =
            ["Software", "Hardware", "Service", "License", "Network"][rng.random_range(0..5)];
        let notes = if rng.random_bool(0.5) {
            Some(plain_crlf(&mut rng, 2))
        } else {
            None
        };
        ins.insert(vec![
            V::I(id),
            asset.into(),
            format!("{ci_type} item {id}: {}", words(&mut rng, 2)).into(),
            ci_type.into(),
            ["Active", "Retired", "In Stock", "Missing"][rng.random_range(0..4)].into(),
            notes.into(),
        ])?;
    }
    let mut ins = Inserter::new(conn, &defs.bcm)?;
    for id in 1..=(assets.names.len() as i64 / 2) {
        let mut rng = sub_rng(ctx.seed, "bcm", id as u64);
        let from = rng.random_range(1..=n_assets);
        let to = rng.random_bool(0.9).then(|| rng.random_range(1..=n_assets));
        ins.insert(vec![
            V::I(from),
            to.into(),
            ["Connected To", "Installed On", "Depends On", "Member Of"][rng.random_range(0..4)]
                .into(),
            format!("BCM-{}", hex(&mut rng, 16)).into(),
            dt(end() - Duration::seconds(rng.random_range(0..86_400 * 30))).into(),
        ])?;
    }
    insert_changes(conn, ctx, defs, people)?;
    insert_kb(conn, ctx, defs, people)?;
    insert_sla(conn, ctx, defs)?;
    let mut ins = Inserter::new(conn, &defs.zz_import)?;
    for id in 1..=(ctx.scale.tickets as i64 / 100).max(20) {
        let mut rng = sub_rng(ctx.seed, "zz_import", id as u64);
        let line = format!(
            "{};{};\"{}\";{}",
            id,
            hex(&mut rng, 6),
            words(&mut rng, 5),
            rng.random_range(0..9)
        );
        ins.insert(vec![
            V::I(id),
            ["HEAT", "Remedy7", "Excel"][rng.random_range(0..3)].into(),
            format!("LEG-{:06}", rng.random_range(0..999_999)).into(),
            format!(
                "2016-0{}-1{} 0{}:00:00",
                rng.random_range(1..10),
                rng.random_range(0..10),
                rng.random_range(0..10)
            )
            .into(),
            line.into(),
            rng.random_bool(0.7).into(),
        ])?;
    }
    Ok(())
}

fn tech_name(people: &People, rng: &mut impl Rng) -> String {
    people
        .techs
        .choose(rng)
        .map(|&i| people.persons[i].full_name.clone())
        .unwrap_or_default()
}

fn insert_changes(
    conn: &rusqlite::Connection,
    ctx: &Ctx,
    defs: &Defs,
    people: &People,
) -> Result<(), GenError> {
    let mut ins = Inserter::new(conn, &defs.changes)?;
    let mut app = Inserter::new(conn, &defs.approvals)?;
    for id in 1..=ctx.scale.changes as i64 {
        let mut rng = sub_rng(ctx.seed, "change", id as u64);
        let start = rand_time(ctx, &mut rng);
        let state = ["Approved", "Rejected", "Pending", "Approved"][rng.random_range(0..4)];
        let requestor = people
            .requestors
            .choose(&mut rng)
            .map(|&p| people.persons[p].full_name.clone());
        let linked = rng
            .random_bool(0.5)
            .then(|| rng.random_range(100..100 + ctx.scale.tickets as i64 / 2));
        ins.insert(vec![
            V::I(id),
            format!("Change: {}", words(&mut rng, 4)).into(),
            plain_crlf(&mut rng, 3).into(),
            requestor.into(),
            ["Planned", "Implemented", "Cancelled", "Closed"][rng.random_range(0..4)].into(),
            ["Low", "Medium", "High"][rng.random_range(0..3)].into(),
            ["Low", "Moderate", "High"][rng.random_range(0..3)].into(),
            dt(start).into(),
            dt(start + Duration::hours(rng.random_range(1..48))).into(),
            state.into(),
            linked.into(),
        ])?;
        for k in 0..2 {
            let decision = if state == "Pending" && k == 1 {
                None
            } else {
                Some(if state == "Rejected" && k == 1 {
                    "Reject"
                } else {
                    "Approve"
                })
            };
            app.insert(vec![
                V::I(id),
                tech_name(people, &mut rng).into(),
                decision.map(str::to_string).into(),
                decision
                    .map(|_| dt(start - Duration::hours(rng.random_range(1..72))))
                    .into(),
                if rng.random_bool(0.5) {
                    V::T(words(&mut rng, 6))
                } else {
                    V::Null
                },
            ])?;
        }
    }
    Ok(())
}

const KB_CATEGORIES: &[&str] = &[
    "Email/Outlook",
    "Email/Mobile",
    "Hardware/Printers",
    "Hardware/Laptops",
    "Network/VPN",
    "Accounts/Passwords",
    "Software",
    "How-To",
];

fn insert_kb(
    conn: &rusqlite::Connection,
    ctx: &Ctx,
    defs: &Defs,
    people: &People,
) -> Result<(), GenError> {
    let mut ins = Inserter::new(conn, &defs.kb)?;
    for id in 1..=ctx.scale.articles as i64 {
        let mut rng = sub_rng(ctx.seed, "kb", id as u64);
        let author = tech_name(people, &mut rng);
        let body = match rng.random_range(0..10) {
            0..=3 => html_email(&mut rng, &author),
            4..=5 => rtf(&mut rng),
            6 => "<none> applies; a < b when the queue is empty".to_string(),
            _ => plain_crlf(&mut rng, 6),
        };
        let created = rand_time(ctx, &mut rng);
        ins.insert(vec![
            V::I(id),
            format!("How to fix {}", words(&mut rng, 3)).into(),
            body.into(),
            KB_CATEGORIES
                .choose(&mut rng)
                .copied()
                .unwrap_or("How-To")
                .into(),
            rng.random_bool(0.85).into(),
            rng.random_bool(0.4).into(),
            author.into(),
            dt(created).into(),
            dt(created + Duration::days(rng.random_range(0..200))).into(),
        ])?;
    }
    Ok(())
}

fn insert_sla(conn: &rusqlite::Connection, ctx: &Ctx, defs: &Defs) -> Result<(), GenError> {
    let mut pol = Inserter::new(conn, &defs.sla_policies)?;
    let mut tgt = Inserter::new(conn, &defs.sla_targets)?;
    let prios = ["Urgent", "High", "Medium", "Low"];
    for id in 1..=ctx.scale.sla_policies as i64 {
        let prio = prios[(id as usize - 1) % prios.len()];
        let name = if id as usize <= prios.len() {
            format!("{prio} priority SLA")
        } else {
            format!("{prio} SLA v{id}")
        };
        pol.insert(vec![
            V::I(id),
            name.into(),
            prio.into(),
            (id as usize <= prios.len()).into(),
        ])?;
        let base = [60, 240, 480, 1440][(id as usize - 1) % 4];
        tgt.insert(vec![
            V::I(id),
            "Response".into(),
            V::I(base / 4),
            true.into(),
        ])?;
        tgt.insert(vec![
            V::I(id),
            "Resolution".into(),
            V::I(base * 4),
            (id % 2 == 1).into(),
        ])?;
    }
    Ok(())
}
