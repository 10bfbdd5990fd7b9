//! The clock bar: simulated time and what is left, what is under way, the stage, a wait of
//! N minutes, "done with this stage", and the button that opens the end form.

use leptos::prelude::*;

use crate::app::session::{self, MAX_WAIT_MIN};

use super::ctl::EncounterCtl;

#[component]
pub(super) fn ClockBar(ctl: EncounterCtl, show_end_form: RwSignal<bool>) -> impl IntoView {
    let minutes = RwSignal::new("5".to_string());
    let wait = move || match session::wait(&minutes.get_untracked()) {
        Ok(input) => {
            let _ = ctl.apply(input);
        }
        Err(message) => ctl.show_error(message),
    };
    view! {
        <div class="clock-bar">
            <div class="clock" aria-label="Simulated time">
                <span class="clock-label">"Time"</span>
                <span class="clock-value" id="clock">
                    {move || ctl.clock.with(|c| c.elapsed.clone())}
                </span>
                <span class="clock-limit">
                    {move || ctl.clock.with(|c| c.limit_line())}
                </span>
                <span class="clock-progress" id="in-progress">
                    {move || ctl.clock.with(|c| c.in_progress.clone())}
                </span>
            </div>
            <div class="phase">
                <span class="clock-label">"Stage"</span>
                <span class="phase-label" id="phase">
                    {move || ctl.clock.with(|c| c.phase_label.clone())}
                </span>
            </div>
            <form
                class="wait-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    wait();
                }
            >
                <label for="wait-minutes">"Wait"</label>
                <input
                    id="wait-minutes"
                    type="number"
                    min="1"
                    max=MAX_WAIT_MIN
                    inputmode="numeric"
                    bind:value=minutes
                    disabled=move || ctl.is_ended()
                />
                <span>"min"</span>
                <button type="submit" class="button" disabled=move || ctl.is_ended()>
                    "Wait"
                </button>
            </form>
            <div class="stage-actions">
                <button
                    type="button"
                    class="button"
                    id="stage-done"
                    disabled=move || ctl.is_ended() || ctl.closing.with(Option::is_some)
                    aria-describedby=move || ctl.closing.with(Option::is_some).then_some("stage-done-why")
                    on:click=move |_| {
                        let _ = ctl.apply(session::stage_done());
                    }
                >
                    "Done with this stage"
                </button>
                <Show when=move || ctl.closing.with(Option::is_some) && !ctl.is_ended()>
                    <span class="stage-why" id="stage-done-why">"The end form is due: no stage is left."</span>
                </Show>
                <button
                    type="button"
                    class="button primary"
                    id="open-end-form"
                    aria-expanded=move || show_end_form.get().to_string()
                    aria-controls="end-form"
                    disabled=move || ctl.is_ended()
                    on:click=move |_| show_end_form.update(|s| *s = !*s)
                >
                    "End encounter…"
                </button>
            </div>
        </div>
    }
}
