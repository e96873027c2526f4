// Violations (违规事件): the list of the user's institutions, filtered by type and state, kept current by the
// server-sent event stream; each row shows the snapshot with the region drawn and, once cut, the clip.

import { api, el } from "./api.js";
import { formatTime, onLangChange, t, violationTypes } from "./i18n.js";

export class ViolationsPage {
  constructor(root) {
    this.root = root;
    this.rows = new Map();  // id -> violation
    this.events = null;
    this.typeSelect = el("select", { id: "violations-type", onchange: () => this.load() },
      el("option", { value: "" }, t("violations.allTypes")),
      ...violationTypes().map((type) => el("option", { value: type }, t(`violation.${type}`))));
    this.stateSelect = el("select", { id: "violations-state", onchange: () => this.load() },
      el("option", { value: "" }, t("violations.allStates")),
      el("option", { value: "active" }, t("violations.active")),
      el("option", { value: "ended" }, t("violations.ended")));
    this.body = el("tbody");
    this.status = el("p", { class: "muted", id: "violations-status" });
    onLangChange(() => this.render());
  }

  async show() {
    if (!this.root.firstChild) {
      this.root.append(
        el("div", { class: "violations-filters" }, this.typeSelect, this.stateSelect),
        el("table", { class: "violations", id: "violations-table" },
          el("thead", {}, el("tr", {}, ...["time", "institution", "camera", "type", "state", "snapshot", "clip"]
            .map((key) => el("th", { "data-i18n": `violations.${key}` }, t(`violations.${key}`))))),
          this.body),
        this.status);
    }
    await this.load();
    if (!this.events) {
      this.events = new EventSource("/api/violations/events");
      // The browser reconnects on its own after a dropped connection; what happened meanwhile comes from the list.
      let opened = false;
      this.events.addEventListener("open", () => { if (opened) this.load(); opened = true; });
      for (const kind of ["violation.started", "violation.reopened", "violation.ended", "violation.updated"]) {
        this.events.addEventListener(kind, (event) => this.#update(JSON.parse(event.data)));
      }
    }
  }

  hide() {
    this.events?.close();
    this.events = null;
  }

  async load() {
    const params = new URLSearchParams();
    if (this.typeSelect.value) params.set("type", this.typeSelect.value);
    if (this.stateSelect.value) params.set("state", this.stateSelect.value);
    try {
      const list = await api(`/api/violations?${params}`);
      this.rows = new Map(list.map((v) => [v.id, v]));
      this.render();
    } catch (error) {
      this.status.textContent = error.message;
    }
  }

  #update(violation) {
    if (this.typeSelect.value && violation.type !== this.typeSelect.value) return;
    if (this.stateSelect.value && violation.state !== this.stateSelect.value) this.rows.delete(violation.id);
    else this.rows.set(violation.id, violation);
    this.render();
  }

  render() {
    const list = [...this.rows.values()].sort((a, b) => b.started_at - a.started_at);
    this.status.textContent = list.length ? "" : t("violations.none");
    this.body.replaceChildren(...list.map((v) => el("tr", { dataset: { violation: v.id, state: v.state, severity: v.severity } },
      el("td", {}, formatTime(v.started_at), v.ended_at ? ` – ${formatTime(v.ended_at)}` : ""),
      el("td", {}, v.institution.name),
      el("td", {}, v.camera.name, v.zone ? ` · ${v.zone}` : ""),
      el("td", {}, el("span", { class: `severity ${v.severity}` }, t(`severity.${v.severity}`)), " ",
        t(`violation.${v.type}`)),
      el("td", { class: `violation-state ${v.state}` }, t(`violations.${v.state}`)),
      el("td", {}, v.snapshot_url ? el("a", { href: v.snapshot_url, target: "_blank" },
        el("img", { src: v.snapshot_url, alt: v.label, class: "violation-snapshot" })) : ""),
      el("td", {}, v.clip.status === "ready" && v.clip.ref
        ? el("a", { href: v.clip.ref, class: "violation-clip" }, t("violations.download"))
        : t(`violations.clip.${v.clip.status}`)))));
  }
}
