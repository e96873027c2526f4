// Upper platforms (上级平台): per platform the event forwarding (and the messages it refused, which can be sent
// again once its side is fixed), the pushed streams and the GB/T 28181 cascade. Bureau-level accounts only.

import { api, ApiError, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";

const REFRESH_MS = 5000;

function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.round(n / 1e3)} kB`;
}

function figures(rows, className) {
  return el("table", { class: className }, el("tbody", {}, ...rows.map(([name, value]) =>
    el("tr", {}, el("th", {}, name), el("td", {}, value)))));
}

function pushTable(pushes) {
  const head = ["uplink.push.camera", "uplink.push.url", "uplink.push.mode", "uplink.push.state", "uplink.push.sent"];
  return el("table", { class: "uplink-pushes" },
    el("thead", {}, el("tr", {}, ...head.map((key) => el("th", {}, t(key))))),
    el("tbody", {}, ...pushes.map((push) => el("tr", { dataset: { camera: push.camera_id, state: push.state } },
      el("td", {}, push.camera_id), el("td", {}, push.url), el("td", {}, t(`uplink.push.${push.mode}`)),
      el("td", { title: push.last_error || "" }, t(`uplink.push.${push.state}`) + (push.last_error ? ` — ${push.last_error}` : "")),
      el("td", {}, bytes(push.bytes_sent))))));
}

function cascadeFigures(gb) {
  if (gb.error) return figures([[t("uplink.gb.server"), gb.server], [t("uplink.gb.error"), gb.error]], "uplink-gb");
  const reg = gb.registration;
  const state = t(`uplink.gb.${reg.state}`) + (reg.reason ? ` — ${reg.reason}` : "");
  return figures([
    [t("uplink.gb.server"), gb.server],
    [t("uplink.gb.localId"), `${gb.local_id} (${gb.local || "—"})`],
    [t("uplink.gb.state"), state],
    [t("uplink.gb.keepalive"), reg.last_keepalive_at ? formatTime(reg.last_keepalive_at) : "—"],
    [t("uplink.gb.cameras"), String(gb.cameras)],
    [t("uplink.gb.withoutId"), gb.cameras_without_id.length ? gb.cameras_without_id.join(", ") : "—"],
    [t("uplink.gb.sessions"), gb.sessions.length ? gb.sessions.map((s) => `${s.camera_id} ${s.kind} ${s.transport} → ${s.destination}`).join("; ") : "0"],
    [t("uplink.gb.sent"), bytes(gb.bytes_sent)],
    [t("uplink.gb.alarms"), gb.alarms ? String(gb.alarms.pending) : "—"],
  ], "uplink-gb");
}

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
        el("h4", {}, t("uplink.events")),
        figures(rows, "uplink-figures"),
        parked.length ? el("ul", { class: "uplink-parked" }, ...parked) : "",
        platform.pushes.length ? el("h4", {}, t("uplink.pushes")) : "",
        platform.pushes.length ? pushTable(platform.pushes) : "",
        platform.gb28181 ? el("h4", {}, t("uplink.gb")) : "",
        platform.gb28181 ? cascadeFigures(platform.gb28181) : "");
    }));
  }
}
