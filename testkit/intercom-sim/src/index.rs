//! Lookup indexes of the workspace, so that the per-request checks stay O(1) while the workspace grows to
//! the size of a real migration (tens of thousands of contacts): live contacts by email (ASCII
//! case-insensitive, as the 409 rule compares) and by `external_id`, live companies by `company_id`, the
//! number of live contacts per company (`user_count`) and the positions of each target's notes.
//!
//! The indexes are owned by [`crate::state::Workspace`] and kept current by its `put_*`/`update_*`
//! methods; [`Indexes::rebuild`] recomputes them from scratch, which the workspace uses to check itself.

use std::collections::{BTreeMap, HashMap};

use crate::model::{Company, Contact, Note};

/// The indexes (see the module documentation). Every map holds live (not deleted) objects only.
#[derive(Debug, Default, PartialEq)]
pub struct Indexes {
    contact_by_email: HashMap<String, String>,
    contact_by_external_id: HashMap<String, String>,
    company_by_company_id: HashMap<String, String>,
    users_per_company: HashMap<String, usize>,
    notes_by_target: HashMap<(String, String), Vec<usize>>,
}

impl Indexes {
    /// Index a contact (nothing for a deleted one).
    pub fn add_contact(&mut self, c: &Contact) {
        if c.deleted {
            return;
        }
        if let Some(e) = &c.email {
            self.contact_by_email
                .insert(e.to_ascii_lowercase(), c.id.clone());
        }
        if let Some(x) = &c.external_id {
            self.contact_by_external_id.insert(x.clone(), c.id.clone());
        }
        for company in &c.company_ids {
            *self.users_per_company.entry(company.clone()).or_default() += 1;
        }
    }

    /// Forget a contact as it was indexed by [`Indexes::add_contact`].
    pub fn remove_contact(&mut self, c: &Contact) {
        if c.deleted {
            return;
        }
        if let Some(e) = &c.email {
            let key = e.to_ascii_lowercase();
            if self.contact_by_email.get(&key) == Some(&c.id) {
                self.contact_by_email.remove(&key);
            }
        }
        if let Some(x) = &c.external_id
            && self.contact_by_external_id.get(x) == Some(&c.id)
        {
            self.contact_by_external_id.remove(x);
        }
        for company in &c.company_ids {
            if let Some(n) = self.users_per_company.get_mut(company) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.users_per_company.remove(company);
                }
            }
        }
    }

    /// Index a company (nothing for a deleted one).
    pub fn add_company(&mut self, c: &Company) {
        if !c.deleted {
            self.company_by_company_id
                .insert(c.company_id.clone(), c.id.clone());
        }
    }

    /// Forget a company as it was indexed by [`Indexes::add_company`].
    pub fn remove_company(&mut self, c: &Company) {
        if self.company_by_company_id.get(&c.company_id) == Some(&c.id) {
            self.company_by_company_id.remove(&c.company_id);
        }
    }

    /// Record that `notes[pos]` is `n`.
    pub fn add_note(&mut self, pos: usize, n: &Note) {
        self.notes_by_target
            .entry((n.target_type.clone(), n.target_id.clone()))
            .or_default()
            .push(pos);
    }

    /// Id of the live contact whose email equals `email` ignoring ASCII case.
    pub fn contact_by_email(&self, email: &str) -> Option<&str> {
        self.contact_by_email
            .get(&email.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Id of the live contact with this `external_id`.
    pub fn contact_by_external_id(&self, external_id: &str) -> Option<&str> {
        self.contact_by_external_id
            .get(external_id)
            .map(String::as_str)
    }

    /// Intercom id of the live company with this `company_id`.
    pub fn company_by_company_id(&self, company_id: &str) -> Option<&str> {
        self.company_by_company_id
            .get(company_id)
            .map(String::as_str)
    }

    /// Number of live contacts attached to company `id`.
    pub fn user_count(&self, id: &str) -> usize {
        self.users_per_company.get(id).copied().unwrap_or(0)
    }

    /// Positions in the workspace's `notes` of the notes on `(target_type, target_id)`, in arrival order.
    pub fn notes_of(&self, target_type: &str, target_id: &str) -> &[usize] {
        self.notes_by_target
            .get(&(target_type.to_string(), target_id.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The indexes recomputed from the objects themselves.
    pub fn rebuild(
        contacts: &BTreeMap<String, Contact>,
        companies: &BTreeMap<String, Company>,
        notes: &[Note],
    ) -> Self {
        let mut idx = Self::default();
        contacts.values().for_each(|c| idx.add_contact(c));
        companies.values().for_each(|c| idx.add_company(c));
        notes
            .iter()
            .enumerate()
            .for_each(|(i, n)| idx.add_note(i, n));
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, email: &str, ext: &str, companies: &[&str]) -> Contact {
        Contact {
            external_id: Some(ext.into()),
            email: Some(email.into()),
            company_ids: companies.iter().map(|s| s.to_string()).collect(),
            ..Contact::blank(id.into(), 0, 0)
        }
    }

    #[test]
    fn contacts_are_found_case_insensitively_and_forgotten() {
        let mut idx = Indexes::default();
        let a = contact("a", "Ann@Example.com", "TI-1", &["c1", "c2"]);
        let b = contact("b", "bob@example.com", "TI-2", &["c1"]);
        idx.add_contact(&a);
        idx.add_contact(&b);
        assert_eq!(idx.contact_by_email("ann@EXAMPLE.com"), Some("a"));
        assert_eq!(idx.contact_by_external_id("TI-2"), Some("b"));
        assert_eq!((idx.user_count("c1"), idx.user_count("c2")), (2, 1));
        idx.remove_contact(&a);
        assert_eq!(idx.contact_by_email("ann@example.com"), None);
        assert_eq!((idx.user_count("c1"), idx.user_count("c2")), (1, 0));
        let mut gone = b.clone();
        gone.deleted = true;
        idx.add_contact(&gone);
        assert_eq!(idx.contact_by_external_id("TI-2"), Some("b"));
    }

    #[test]
    fn removing_a_stale_entry_keeps_the_newer_owner() {
        let mut idx = Indexes::default();
        let old = contact("a", "x@example.com", "TI-1", &[]);
        let new = contact("b", "x@example.com", "TI-1", &[]);
        idx.add_contact(&old);
        idx.add_contact(&new);
        idx.remove_contact(&old);
        assert_eq!(idx.contact_by_email("x@example.com"), Some("b"));
        assert_eq!(idx.contact_by_external_id("TI-1"), Some("b"));
    }
}
