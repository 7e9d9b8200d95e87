//! `--sample N` (DESIGN.md §6, the pilot migration): after every record is made, only the sampled conversations
//! and what they reference are kept; the rest is counted as `records_left_out_by_sample`.

use crate::ctx::Ctx;
use std::collections::BTreeSet;
use ti_shared::records::RecordKind;

/// Sample mode: keep the selected conversations and what they reference, plus up to 20 other contacts and 10
/// articles (with their collections).
pub fn trim_sample(ctx: &Ctx) {
    let mut recs = ctx.records.lock().unwrap_or_else(|p| p.into_inner());
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for o in recs.iter() {
        if matches!(
            o.record.kind,
            RecordKind::Conversation
                | RecordKind::DataAttribute
                | RecordKind::ConversationAttribute
        ) {
            keep.insert(o.record.key.clone());
            keep.extend(o.record.after.iter().cloned());
        }
    }
    let mut extra_contacts = 0;
    let mut articles = 0;
    let mut sorted: Vec<usize> = (0..recs.len()).collect();
    sorted.sort_by(|a, b| recs[*a].record.key.cmp(&recs[*b].record.key));
    for i in sorted {
        let r = &recs[i].record;
        if r.kind == RecordKind::Contact && !keep.contains(&r.key) && extra_contacts < 20 {
            extra_contacts += 1;
            keep.insert(r.key.clone());
        }
        if r.kind == RecordKind::Article && articles < 10 {
            articles += 1;
            keep.insert(r.key.clone());
            keep.extend(r.after.iter().cloned());
        }
    }
    // Links and notes of kept contacts/companies; companies of kept contacts; parent collections.
    for _ in 0..4 {
        for o in recs.iter() {
            let r = &o.record;
            let linked = matches!(
                r.kind,
                RecordKind::ContactCompany
                    | RecordKind::ContactNote
                    | RecordKind::CompanyNote
                    | RecordKind::Collection
            );
            if linked
                && r.after.iter().any(|a| {
                    keep.contains(a) && (a.starts_with("contact:") || a.starts_with("collection:"))
                })
                && (r.kind == RecordKind::ContactCompany
                    || r.kind == RecordKind::ContactNote
                    || r.kind == RecordKind::Collection)
            {
                keep.insert(r.key.clone());
                keep.extend(r.after.iter().cloned());
            }
            if keep.contains(&r.key) {
                keep.extend(r.after.iter().cloned());
            }
        }
    }
    for o in recs.iter() {
        if o.record.kind == RecordKind::CompanyNote
            && o.record.after.iter().all(|a| keep.contains(a))
        {
            keep.insert(o.record.key.clone());
        }
    }
    let before = recs.len();
    recs.retain(|o| keep.contains(&o.record.key));
    ctx.ledger
        .count("records_left_out_by_sample", (before - recs.len()) as u64);
}
