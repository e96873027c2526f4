// Upper platforms (上级平台): how forwarding to each is doing, and the messages a platform refused, which can be
// sent again once its side is fixed. Bureau-level accounts only.

import { api, ApiError, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";

const REFRESH_MS = 5000;

export class UplinkPage {
  constructor(root) {
    this.root = root;
    this.timer = null;
    this.platforms = [];
    this.parked = new Map();  // platform id -> parked messages
    this.status = el("p", { class: "muted", id: "uplink-status" });
    this.list = el("div", { id: "uplink-platforms" });
    onLangChange(() => this.render());
  }

  async show() {
    if (!this.root.firstChild) this.root.append(el("h2", { "data-i18n": "uplink.title" }, t("uplink.title")), this.status, this.list);
    await this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  hide() { clearInterval(this.timer); this.timer = null; }

  async load() {
    try {
      this.platforms = await api("/api/uplink/platforms");
      for (const platform of this.platforms) {
        if (platform.events && platform.events.parked) {
          this.parked.set(platform.id, await api(`/api/uplink/platforms/${encodeURIComponent(platform.id)}/parked`));
        } else this.parked.delete(platform.id);
      }
      this.status.textContent = this.platforms.length ? "" : t("uplink.none");
    } catch (error) {
      this.platforms = [];
      this.status.textContent = error instanceof ApiError && error.status === 403 ? t("uplink.bureauOnly") : error.message;
    }
    this.render();
  }

  async retry(platformId, deliveryId) {
    await api(`/api/uplink/platforms/${encodeURIComponent(platformId)}/parked/${deliveryId}/retry`, { method: "POST" });
    await this.load();
  }

  render() {
    this.list.replaceChildren(...this.platforms.map((platform) => {
      const events = platform.events;
      const rows = events ? [
        [t("uplink.endpoint"), events.url],
        [t("uplink.pending"), String(events.pending) + (events.oldest_pending_age_s ? ` (${t("uplink.oldest")} ${Math.round(events.oldest_pending_age_s)} s)` : "")],
        [t("uplink.delivered"), String(events.delivered)],
        [t("uplink.lastDelivered"), events.last_delivered_at ? formatTime(events.last_delivered_at) : "—"],
        [t("uplink.parked"), String(events.parked)],
        [t("uplink.lastError"), events.last_error || "—"],
      ] : [[t("uplink.events"), t("uplink.notForwarded")]];
      const parked = (this.parked.get(platform.id) || []).map((message) => el("li", { dataset: { delivery: message.id } },
        `${message.camera_id} · #${message.event_id} · ${message.reason || ""} `,
        el("button", { type: "button", onclick: () => this.retry(platform.id, message.id) }, t("uplink.retry"))));
      return el("section", { class: "uplink-platform", dataset: { platform: platform.id } },
        el("h3", {}, platform.name, el("span", { class: "muted" }, ` (${platform.id})`)),
        el("table", { class: "uplink-figures" }, el("tbody", {}, ...rows.map(([name, value]) =>
          el("tr", {}, el("th", {}, name), el("td", {}, value))))),
        parked.length ? el("ul", { class: "uplink-parked" }, ...parked) : "");
    }));
  }
}
