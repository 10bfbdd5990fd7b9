//! The encounter screen (`/encounter`, `/encounter/:id`), one file per job: the page wiring
//! ([`page`]), the controller every input goes through ([`ctl`]), the conversation and speak
//! box, the order panel, the results inbox, the vitals monitor, the clock bar with wait and
//! "done with this stage", the end form, and the phone's Talk / Orders switch and vitals line.

mod clock;
mod conversation;
pub(super) mod ctl;
mod end_form;
mod inbox;
mod orders;
mod page;
mod phone;
mod vitals;

pub use page::{EncounterLanding, EncounterPage};
