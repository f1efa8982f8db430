//! A reviewer's acts in the window: comments, sign-off, disputes, opt-outs. Each goes through the
//! engine's review functions (the same as `strata comment`, `signoff`, `dispute`, `opt-out`), so
//! each is an audit entry; they are allowed when the project is open for review.

use super::StrataApp;
use super::screens::review::ReviewAction;
use crate::engine::governance::{audit, review};

impl StrataApp {
    /// The hash of the version shown: the project's definition and the assignment of the run on
    /// screen when it is this project's, else the stored one.
    pub fn version_hash(&self) -> Option<String> {
        let doc = self.doc.as_ref()?;
        let mut project = doc.project.clone();
        if let Some(out) = self.output.as_ref().filter(|o| o.is_for(doc)) {
            project.results = Some(crate::engine::project::StoredResults::from_result(&out.result));
        }
        Some(audit::version_hash(&project))
    }

    pub(super) fn review_action(&mut self, action: ReviewAction) {
        let actor = self.audit_name();
        let version = self.version_hash();
        let Some(doc) = &mut self.doc else { return };
        let project = &mut doc.project;
        let outcome: Result<String, String> = match action {
            ReviewAction::Comment { pin, text, reply_to } => {
                review::comment(project, &actor, pin, &text, reply_to).map(|id| format!("Comment {id} added"))
            }
            ReviewAction::SignOff { role, decision, comment } => {
                let verified = audit::verify_saved_part(project);
                if !verified.ok {
                    Err(format!(
                        "Nothing can be signed while the audit log is not intact: {}",
                        verified.problems.join("; ")
                    ))
                } else {
                    let version = version.unwrap_or_default();
                    review::sign_off(project, &actor, &role, decision, &comment, &version)
                        .map(|head| format!("Signed off; audit head {}", audit::short(&head.hash)))
                }
            }
            ReviewAction::Dispute { customer, segment, reason } => {
                review::dispute(project, &actor, &customer, &segment, &reason)
                    .map(|id| format!("Dispute {id} filed (pending)"))
            }
            ReviewAction::Decide { id, approve, note } => {
                let done = review::decide_dispute(project, id, &actor, approve, &note);
                if done.is_ok() && approve {
                    // The approved override moves a customer: the rules are applied again.
                    self.after_change(false, true);
                }
                done.map(|()| {
                    format!("Dispute {id} {}", if approve { "approved: its override applies" } else { "rejected" })
                })
            }
            ReviewAction::OptOut { ids, remove } => {
                review::opt_out(project, &actor, ids.iter().map(String::as_str), remove).map(|n| {
                    format!(
                        "{n} {} {}",
                        if n == 1 { "customer" } else { "customers" },
                        if remove { "back in targeting" } else { "opted out" }
                    )
                })
            }
            ReviewAction::SetUnsigned(policy) => {
                review::set_unsigned_policy(project, &actor, policy);
                Ok("Unsigned-export policy changed".to_string())
            }
        };
        match outcome {
            Ok(message) => self.info(message),
            Err(e) => self.report_error(e),
        }
    }
}
