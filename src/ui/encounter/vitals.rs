//! The vitals monitor: one tile per monitored sign with its value, alarm level and trend.

use leptos::prelude::*;

use crate::app::view::{TREND_H, TREND_W};

use super::ctl::EncounterCtl;

#[component]
pub(super) fn VitalsMonitor(ctl: EncounterCtl) -> impl IntoView {
    let view_box = format!("0 0 {TREND_W} {TREND_H}");
    view! {
        <section class="panel vitals" aria-labelledby="vitals-title">
            <h2 id="vitals-title">"Monitor"</h2>
            <ul class="vitals-grid">
                {move || {
                    let view_box = view_box.clone();
                    ctl.vitals
                        .get()
                        .into_iter()
                        .map(|v| {
                            let label = format!("{} trend", v.label);
                            let alarm = v.alarm_label();
                            let class = format!("vital vital-{} {}", v.key, v.level_class());
                            view! {
                                <li class=class data-vital=v.key>
                                    <span class="vital-label">{v.label}</span>
                                    <span class="vital-value">
                                        {v.value.unwrap_or_else(|| "—".into())}
                                        <span class="vital-unit">{v.unit}</span>
                                    </span>
                                    {(!alarm.is_empty())
                                        .then(|| view! { <span class="vital-alarm">{alarm}</span> })}
                                    <svg
                                        class="trend"
                                        viewBox=view_box.clone()
                                        preserveAspectRatio="none"
                                        role="img"
                                        aria-label=label
                                    >
                                        <polyline points=v.points fill="none"></polyline>
                                    </svg>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
