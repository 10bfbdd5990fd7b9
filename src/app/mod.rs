//! The app's logic, free of UI and browser APIs, so that native tests cover it: the case
//! library and imports ([`library`]), the order panel ([`orders`]), a played encounter and its
//! saved form ([`session`]), the history's rows ([`history`]), scores and exports of a saved
//! encounter ([`results`]), the view models the pages lay out ([`view`], the results inbox in
//! [`inbox`]), shared labels ([`labels`]), educator mode ([`educator`]), the model settings
//! and roles ([`settings`]), and the Compare page's sources and downloads ([`compare`]).
//!
//! Never imports leptos, web-sys or `crate::store`; the components in `crate::ui` call it.

pub mod compare;
pub mod educator;
pub mod evaluate;
pub mod history;
pub mod inbox;
pub mod labels;
pub mod library;
pub mod orders;
pub mod results;
pub mod session;
pub mod settings;
pub mod view;
