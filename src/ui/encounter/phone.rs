//! On a phone: the Talk / Orders switch and the vital signs in one line, in the sticky bar
//! with the clock.

use leptos::prelude::*;

use super::ctl::EncounterCtl;
use crate::ui::widgets::focus_by_id;

/// Which half of the encounter a phone shows: the conversation, or orders and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Talk,
    Order,
}

impl Mode {
    pub(super) fn key(self) -> &'static str {
        match self {
            Mode::Talk => "talk",
            Mode::Order => "order",
        }
    }
}

/// One control that switches between talking and ordering on a narrow screen (hidden on a
/// wide one, where both show side by side). The switch moves the focus to the box it opens.
#[component]
pub(super) fn ModeSwitch(mode: RwSignal<Mode>) -> impl IntoView {
    let pick = move |m: Mode| {
        mode.set(m);
        focus_by_id(match m {
            Mode::Talk => "speak-input",
            Mode::Order => "order-input",
        });
    };
    view! {
        <div class="mode-switch" role="group" aria-label="Show">
            <button
                type="button"
                class="button"
                id="mode-talk"
                aria-pressed=move || (mode.get() == Mode::Talk).to_string()
                on:click=move |_| pick(Mode::Talk)
            >
                "Talk"
            </button>
            <button
                type="button"
                class="button"
                id="mode-order"
                aria-pressed=move || (mode.get() == Mode::Order).to_string()
                on:click=move |_| pick(Mode::Order)
            >
                "Orders & results"
            </button>
        </div>
    }
}

/// The vital signs in one line, for the sticky bar on a narrow screen (the monitor's tiles
/// show them on a wide one). Same values and alarm labels as the tiles.
#[component]
pub(super) fn VitalsStrip(ctl: EncounterCtl) -> impl IntoView {
    view! {
        <ul class="vitals-strip" aria-label="Vital signs">
            {move || {
                ctl.vitals
                    .get()
                    .into_iter()
                    .map(|v| {
                        let alarm = v.alarm_label();
                        let class = format!("strip-vital {}", v.level_class());
                        view! {
                            <li class=class data-strip-vital=v.key>
                                <span class="strip-label">{v.label}</span>
                                " "
                                <span class="strip-value">{v.value.unwrap_or_else(|| "—".into())}</span>
                                {(!alarm.is_empty()).then(|| view! { <span class="strip-alarm">{format!(" {alarm}")}</span> })}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
