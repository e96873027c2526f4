// Public hazard reports (隐患举报) as the town triages them: the list of the user's institutions' reports, one
// report with its photos and, for those who triage, the reporter's contact and the actions its state allows
// (accept into a case, reject with a reason the reporter reads, mark for reward once its case was verified);
// and each institution's notice-board link with its QR code. The server decides; the page leaves out what it
// would refuse.

import { api, ApiError, el } from "./api.js";
import { formatTime, onLangChange, t } from "./i18n.js";

const STATES = ["received", "accepted", "rejected"];
const SEVERITIES = ["urgent", "major", "minor"];

export class ReportsPage {
  constructor(root, user) {
    this.root = root;
    root.replaceChildren();  // the last user's page, after a log-out
    this.may = (permission) => (user.permissions || []).includes(permission);
    this.reports = [];
    this.selected = null;
    this.kinds = null;
    this.stateSelect = el("select", { id: "reports-state", onchange: () => this.load() },
      el("option", { value: "" }, t("reports.allStates")),
      ...STATES.map((state) => el("option", { value: state }, t(`report.state.${state}`))));
    this.body = el("tbody");
    this.status = el("p", { class: "muted", id: "reports-status" });
    this.detail = el("div", { id: "report-detail", class: "case-detail", hidden: true });
    this.error = el("p", { class: "error", id: "report-error", role: "alert" });
    this.links = el("div", { id: "report-links", class: "report-links" });
    onLangChange(() => { this.render(); if (this.selected) this.#renderDetail(); });
  }

  async show() {
    if (!this.root.firstChild) {
      this.root.append(
        el("div", { class: "violations-filters" }, this.stateSelect),
        el("table", { class: "violations reports", id: "reports-table" },
          el("thead", {}, el("tr", {}, ...["id", "institution", "description", "submitted", "state", "photos"]
            .map((key) => el("th", { "data-i18n": `reports.${key}` }, t(`reports.${key}`))))),
          this.body),
        this.status, this.error, this.detail,
        el("h3", { "data-i18n": "reports.links" }, t("reports.links")),
        el("p", { class: "muted", "data-i18n": "reports.linksHint" }, t("reports.linksHint")), this.links);
      this.#loadLinks();
    }
    await this.load();
  }

  async load() {
    const params = new URLSearchParams();
    if (this.stateSelect.value) params.set("state", this.stateSelect.value);
    try {
      this.reports = await api(`/api/reports?${params}`);
      this.render();
    } catch (error) {
      this.status.textContent = error.message;
    }
  }

  render() {
    this.status.textContent = this.reports.length ? "" : t("reports.none");
    this.body.replaceChildren(...this.reports.map((r) => el("tr", {
      dataset: { report: r.id, state: r.state }, class: r.id === this.selected?.id ? "selected" : null,
      onclick: () => this.open(r.id) },
    el("td", {}, `#${r.id}`),
    el("td", {}, r.institution.name),
    el("td", {}, r.description.length > 40 ? `${r.description.slice(0, 40)}…` : r.description),
    el("td", {}, formatTime(r.submitted_at)),
    el("td", {}, stateBadge(r.state), r.reward ? el("span", { class: "badge reward" }, t("report.reward")) : ""),
    el("td", {}, String(r.photos.length)))));
  }

  async open(id) {
    this.error.textContent = "";
    try {
      this.selected = await api(`/api/reports/${id}`);
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    this.render();
    await this.#renderDetail();
  }

  async #act(path, body) {
    this.error.textContent = "";
    try {
      this.selected = await api(`/api/reports/${this.selected.id}/${path}`, { method: "POST", body });
    } catch (error) {
      this.error.textContent = error instanceof ApiError ? error.message : t("error.generic");
      return;
    }
    await this.#renderDetail();
    await this.load();
  }

  async #renderDetail() {
    const r = this.selected;
    const button = (action, key, onclick) => el("button", { type: "button", dataset: { action }, onclick }, t(key));
    const actions = el("div", { class: "case-actions" });
    if (this.may("supervise_cases") && r.state === "received") {
      if (this.kinds === null) this.kinds = await api("/api/case-kinds").catch(() => []);
      const kind = el("select", { id: "report-kind" },
        ...this.kinds.map((k) => el("option", { value: k.kind, selected: k.kind === "other_hazard" }, k.label)));
      const severity = el("select", { id: "report-severity" },
        ...SEVERITIES.map((s) => el("option", { value: s, selected: s === "major" }, t(`severity.${s}`))));
      const note = el("input", { id: "report-note", placeholder: t("reports.note"), maxlength: 1000 });
      const reason = el("input", { id: "report-reason", placeholder: t("reports.reason"), maxlength: 1000 });
      actions.append(kind, severity, note,
        button("accept", "reports.accept", () => this.#act("accept",
          { kind: kind.value, severity: severity.value, note: note.value.trim() || null })),
        reason, button("reject", "reports.reject", () => this.#act("reject", { reason: reason.value })));
    }
    if (this.may("supervise_cases") && r.state === "accepted" && r.case_state === "verified" && !r.reward) {
      const note = el("input", { id: "report-reward-note", placeholder: t("reports.rewardNote"), maxlength: 1000 });
      actions.append(note, button("reward", "reports.markReward",
        () => this.#act("reward", { note: note.value.trim() || null })));
    }
    const facts = [
      ...fact("reports.institution", r.institution.name),
      ...fact("reports.place", r.place || "—"),
      ...(r.contact ? fact("reports.contact", r.contact) : []),
      ...fact("reports.submitted", formatTime(r.submitted_at)),
      ...fact("reports.description", r.description),
    ];
    if (r.case_id) {
      facts.push(...fact("reports.case", el("a", { href: "#/cases", id: "report-case" },
        `#${r.case_id} · ${t(`case.state.${r.case_state}`)}`)));
    }
    if (r.reject_reason) facts.push(...fact("reports.rejectReason", r.reject_reason));
    if (r.triaged_by) facts.push(...fact("reports.triaged", `${r.triaged_by} · ${formatTime(r.triaged_at)}`));
    if (r.reward) facts.push(...fact("report.reward", `${r.reward_by} · ${formatTime(r.reward_at)}${r.reward_note ? ` · ${r.reward_note}` : ""}`));
    this.detail.replaceChildren(
      el("h2", {}, `#${r.id} `, stateBadge(r.state)),
      el("dl", { class: "case-facts" }, ...facts),
      actions,
      el("div", { class: "case-evidence" }, ...r.photos.map((p) => el("a", { href: p.url, target: "_blank" },
        el("img", { src: p.url, alt: t("reports.photo"), dataset: { photo: p.id } })))));
    this.detail.hidden = false;
  }

  async #loadLinks() {
    let links = [];
    try { links = await api("/api/report-links"); } catch (error) { this.links.textContent = error.message; return; }
    this.links.replaceChildren(...links.map((link) => el("figure", { class: "report-link", dataset: { institution: link.institution.id } },
      el("img", { src: link.qr_url, alt: `${link.institution.name} QR`, width: 180, height: 180 }),
      el("figcaption", {}, el("b", {}, link.institution.name), el("br"),
        el("a", { href: link.url, target: "_blank", rel: "noopener" }, link.url)))));
  }
}

function stateBadge(state) {
  return el("span", { class: `case-state report-${state}`, dataset: { state } }, t(`report.state.${state}`));
}

function fact(key, value) { return [el("dt", {}, t(key)), el("dd", {}, value)]; }
