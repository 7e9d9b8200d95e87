//! `admins.json`: the Intercom teammates the simulator should hold for this database.

use super::people::People;
use super::{CUSTOMER_DOMAIN, Ctx, GenError, Truth, io_err};

/// The Intercom admin id given to a technician: `9100000 + UserId` as a 7-digit string.
pub fn admin_id(user_id: i64) -> String {
    format!("{}", 9_100_000 + user_id)
}

/// Writes `DIR/admins.json` (the shape `intercom-sim --seed-admins` reads) and records the technician facts.
pub fn write_admins(ctx: &Ctx, people: &People, truth: &mut Truth) -> Result<(), GenError> {
    let me_email = format!("migration-admin@{CUSTOMER_DOMAIN}");
    let me = serde_json::json!({"id": "9000001", "name": "Migration Admin", "email": me_email});
    let mut admins = vec![me.clone()];
    let mut team = Vec::new();
    for &ti in &people.techs {
        let p = &people.persons[ti];
        if people.unlisted_techs.contains(&p.id) {
            continue;
        }
        let email = p
            .email
            .as_deref()
            .map(super::truth::normalise_email)
            .unwrap_or_default();
        let name = if p.last.is_empty() {
            p.first.clone()
        } else {
            format!("{} {}", p.first, p.last)
        };
        admins.push(serde_json::json!({"id": admin_id(p.id), "name": name, "email": email}));
        team.push(admin_id(p.id));
    }
    let doc = serde_json::json!({
        "me": me,
        "admins": admins,
        "teams": [{"id": "8100001", "name": "Help Desk", "admin_ids": team}],
    });
    let path = ctx.out.join("admins.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?).map_err(io_err(&path))?;
    truth.set_technicians(people);
    Ok(())
}
