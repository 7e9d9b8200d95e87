//! The random dirty data of trackit-fixture.md §4 applied to regular (non-sentinel) work orders, at the
//! stated rates.

use super::text;
use super::tickets::{Gen, Ticket, d, ymd};
use chrono::Duration;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Applies the random dirty data of §4 to a regular ticket (`frac` = its position on the timeline).
pub fn dirty(g: &Gen, t: &mut Ticket, frac: f64, rng: &mut ChaCha8Rng) {
    let p = |rng: &mut ChaCha8Rng, x: f64| rng.random_bool(x);
    if p(rng, 0.005) {
        t.dates[d::REQ] = None;
    }
    let closed = t.is_closed();
    if closed && p(rng, 0.05) {
        t.dates[d::CLSD] = None;
    }
    if !closed && p(rng, 0.01) {
        t.dates[d::COMPLETED] = t.dates[d::OPEN].map(|o| o + Duration::hours(5));
    }
    if p(rng, 0.02) {
        let day = Some(ymd(1900, 1, 1, 0, 0, 0));
        match rng.random_range(0..3) {
            0 => t.dates[d::DUE] = day,
            1 => t.dates[d::RESPONSE] = day,
            _ => t.wo_date[rng.random_range(0..6)] = day,
        }
    }
    if closed && t.dates[d::CLSD].is_some() && p(rng, 0.002) {
        t.dates[d::CLSD] = t.dates[d::OPEN].map(|o| o - Duration::hours(26));
    }
    if p(rng, 0.001) {
        t.dates[d::DUE] = Some(ymd(2099, rng.random_range(1..13), 15, 9, 0, 0));
    }
    let modi_before_req = p(rng, 0.002);
    if frac < 0.2 {
        t.status_id = None;
    } else if p(rng, 0.01) {
        t.status_id = Some(if p(rng, 0.5) {
            0
        } else {
            [104, 105, 999][rng.random_range(0..3)]
        });
    } else if p(rng, 0.01) {
        t.status = Some(if closed {
            "Open".into()
        } else {
            "Closed".into()
        });
    }
    let pr: f64 = rng.random();
    let messy = [
        "high ",
        "URGENT",
        "1-Low",
        "2 - Medium",
        "Project",
        "Change Request",
        "Ongoing Support",
        "High",
    ];
    if pr < 0.12 {
        t.priority = Some(messy[rng.random_range(0..messy.len())].into());
    } else if pr < 0.13 {
        t.priority = Some(String::new());
    } else if pr < 0.14 {
        t.priority = None;
    }
    if p(rng, 0.005) {
        t.wo_type2 = Some("VPN".into());
        if t.wo_type.as_deref() == Some("Network") {
            t.wo_type2 = Some("Toner".into());
        }
        t.kinds.push("subtype_mismatch");
    }
    if p(rng, 0.005) {
        t.type_id = t.type_id.map(|id| id % g.types.len() as i64 + 1);
    }
    let r: f64 = rng.random();
    if r < 0.03 {
        let n = g.people.persons[g.requestor(rng)].full_name.clone();
        t.request = Some(format!(
            "{} (contractor)",
            n.chars().rev().collect::<String>()
        ));
    } else if r < 0.04 {
        let person = &g.people.persons[g.requestor(rng)];
        t.request = Some(if p(rng, 0.5) {
            format!("{}, {}", person.last, person.first)
        } else {
            format!("{} ", person.full_name.to_uppercase())
        });
        t.kinds.push("requestor_name_variant");
    }
    if p(rng, 0.07) {
        t.respons = None;
    } else if !closed && p(rng, 0.03) {
        t.respons = g
            .people
            .persons
            .iter()
            .find(|p| !p.is_active)
            .map(|p| p.full_name.clone());
    } else if p(rng, 0.03) {
        t.respons = Some("helpdeskbot".into());
    }
    body_flavour(t, rng);
    if p(rng, 0.02) {
        t.wo_text[0] = Some(format!(
            "#{} Top 10 FY{}",
            rng.random_range(1..11),
            rng.random_range(15..24)
        ));
    }
    if t.assetname.is_some() {
        let r: f64 = rng.random();
        if r < 0.03 {
            t.assetname = Some(format!("OLD-PC-{}", rng.random_range(100..999)));
        } else if r < 0.06 {
            t.assetname = g.assets.tags.choose(rng).cloned();
            t.kinds.push("asset_referenced_by_tag");
        }
    }
    if p(rng, 0.005) {
        let n = rng.random_range(300..1200);
        t.memo = Some(text::long_body(rng, n));
    }
    let child = p(rng, 0.08);
    let selfp = p(rng, 0.002);
    let dangling = p(rng, 0.001);
    if selfp {
        t.parent = Some(t.woid);
    } else if dangling {
        t.parent = g.plan.gaps.iter().rev().find(|&&w| w < t.woid).copied();
    } else if child {
        for _ in 0..5 {
            let cand = t.woid - rng.random_range(1..60);
            if cand >= 100 && g.plan.exists(cand) {
                t.parent = Some(cand);
                break;
            }
        }
    }
    if modi_before_req {
        t.modi_before_req = true;
    }
}

fn body_flavour(t: &mut Ticket, rng: &mut ChaCha8Rng) {
    let r: f64 = rng.random();
    let by = t.request.clone().unwrap_or_default();
    let (body, kind): (Option<String>, Option<&'static str>) = match r {
        x if x < 0.10 => (Some(text::html_email(rng, &by)), None),
        x if x < 0.13 => (Some(text::rtf(rng)), None),
        x if x < 0.135 => (Some(" \r\n\t  ".into()), None),
        x if x < 0.14 => (Some(String::new()), None),
        x if x < 0.15 => (None, None),
        x if x < 0.17 => (
            Some("The user’s screen shows “Access denied” – again. Ordered a café crème.".into()),
            Some("body_cp1252_punctuation"),
        ),
        x if x < 0.19 => (
            Some("Step 1:\tRestart\r\nStep 2:\tLog in\tagain".into()),
            Some("body_tabs"),
        ),
        x if x < 0.191 => (Some("Pasted from log:\0end".into()), Some("body_nul")),
        x if x < 0.193 => (
            Some("Thanks so much 😀👍 it works".into()),
            Some("body_emoji"),
        ),
        x if x < 0.195 => (
            Some("Printer says: الطابعة لا تعمل — please help. שלום".into()),
            Some("body_rtl"),
        ),
        x if x < 0.198 => (
            Some("Status <none> shown; a < b so the report is empty".into()),
            Some("body_fake_markup"),
        ),
        _ => return,
    };
    t.descript = body;
    if let Some(k) = kind {
        t.kinds.push(k);
    }
}
