//! KB articles (Solutions) → Help Center collections and articles. Categories are paths (`Hardware/Printers`,
//! `Hardware\Printers` or `Hardware > Printers`) → nested collections; articles without category go to
//! `Uncategorised`. Bodies (HTML, RTF or plain) are converted to text, then to minimal HTML.

use crate::ctx::Ctx;
use crate::ledger::Lineage;
use crate::model::Article;
use crate::text::{to_html, to_plain};
use serde_json::json;
use std::collections::BTreeSet;
use ti_shared::records::RecordKind;

/// The collection path segments of a category text.
pub fn category_path(category: Option<&str>) -> Vec<String> {
    let c = category.unwrap_or("").replace(['\\', '>'], "/");
    let parts: Vec<String> = c
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if parts.is_empty() {
        vec!["Uncategorised".into()]
    } else {
        parts
    }
}

/// Emits collections and articles.
pub fn emit(ctx: &Ctx, articles: &[Article]) {
    let table = ctx.table("article");
    let mut collections: BTreeSet<Vec<String>> = BTreeSet::new();
    for a in articles {
        let path = category_path(a.category.as_deref());
        for i in 1..=path.len() {
            collections.insert(path[..i].to_vec());
        }
        let collection = format!("collection:{}", path.join("/"));
        let body_text = a
            .body
            .as_deref()
            .map(|b| to_plain(b, &ctx.text))
            .unwrap_or_default();
        let title = a
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Track-It! solution {}", a.id));
        let (author, _) = ctx.admin_ref(a.author.as_deref());
        let state = if a.published.unwrap_or(false) {
            "published"
        } else {
            "draft"
        };
        let mut rules = vec![format!(
            "category {:?} → collection {}",
            a.category.clone().unwrap_or_default(),
            path.join("/")
        )];
        if a.self_service == Some(false) && state == "published" {
            rules.push("not self-service in Track-It! but published: review visibility".into());
            ctx.ledger.count("published_articles_not_self_service", 1);
        }
        ctx.ledger.migrated("article", 1);
        ctx.emit(
            format!("article:{}", a.id),
            RecordKind::Article,
            vec![collection.clone()],
            (&table, &a.pk),
            json!({"title": title, "body": to_html(&body_text), "author_id": author, "state": state,
                   "parent_id": {"$ref": collection}, "parent_type": "collection"}),
            Lineage {
                sources: vec![format!("{table}:{}", a.pk)],
                rules,
            },
        );
    }
    for path in collections {
        let key = format!("collection:{}", path.join("/"));
        let parent = if path.len() > 1 {
            json!({"$ref": format!("collection:{}", path[..path.len() - 1].join("/"))})
        } else {
            json!(null)
        };
        let after = if path.len() > 1 {
            vec![format!("collection:{}", path[..path.len() - 1].join("/"))]
        } else {
            vec![]
        };
        let name = path.last().cloned().unwrap_or_default();
        ctx.emit(
            key,
            RecordKind::Collection,
            after,
            ("category", &path.join("/")),
            json!({"name": name, "parent_id": parent}),
            Lineage::default(),
        );
    }
}
