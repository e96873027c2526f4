// Playback of recordings with a timeline: a placeholder until the recordings work lands. That work replaces
// mountPlayback (same signature); app.js calls it when the #/playback route is shown.

import { el } from "./api.js";
import { t } from "./i18n.js";

export function mountPlayback(root, { tree }) {
  root.replaceChildren(el("p", { class: "muted", id: "playback-pending" }, t("playback.pending")));
  return { hide() {} };
}
