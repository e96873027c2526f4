// Cases (隐患): the list of the user's institutions' cases, filtered by state and overdue, and one case with its
// history, evidence and the actions the user's role may take on it in its present state. The server decides;
// the page only leaves out buttons that would be refused.

import { api, ApiError, el } from "./api.js";
import { formatTime, lang, onLangChange, t } from "./i18n.js";

const STATES = ["open", "acknowledged", "rectifying", "rectified", "verified", "dismissed"];
const RUNNING = ["open", "acknowledged", "rectifying"];

export class CasesPage {
  constructor(root, user) {
    this.root = root;
    root.replaceChildren();  // the last user's page, after a log-out
    this.may = (permission) => (user.permissions || []).includes(permission);
    this.cases = [];
    this.selected = null;  // the case shown, as the server last answered it
    this.stateSelect = el("select", { id: "cases-state", onchange: () => this.load() },
      el("option", { value: "" }, t("cases.allStates")),
      ...STATES.map((state) => el("option", { value: state }, t(`case.state.${state}`))));
    this.overdueOnly = el("input", { type: "checkbox", id: "cases-overdue", onchange: () => this.load() });
    this.body = el("tbody");
    this.status = el("p", { class: "muted", id: "cases-status" });
    this.detail = el("div", { id: "case-detail", class: "case-detail", hidden: true });
    this.error = el("p", { class: "error", id: "case-error", role: "alert" });
    onLangChange(() => { this.render(); if (this.selected) this.#renderDetail(); });
  }

  async show() {
    if (!this.root.firstChild) {
      this.root.append(
        el("div", { class: "violations-filters" }, this.stateSelect,
          el("label", {}, this.overdueOnly, " ", el("span", { "data-i18n": "cases.overdueOnly" }, t("cases.overdueOnly")))),
        el("table", { class: "violations cases", id: "cases-table" },
          el("thead", {}, el("tr", {}, ...["id", "institution", "camera", "kind", "state", "deadline", "assignee"]
            .map((key) => el("th", { "data-i18n": `cases.${key}` }, t(`cases.${key}`))))),
          this.body),
        this.status, this.error, this.detail);
    }
    await this.load();
  }

  async load() {
    const params = new URLSearchParams();
    if (this.stateSelect.value) params.set("state", this.stateSelect.value);
    if (this.overdueOnly.checked) params.set("overdue", "true");
    try {
      this.cases = await api(`/api/cases?${params}`);
      this.render();
    } catch (error) {
      this.status.textContent = error.message;
    }
  }

  render() {
    this.status.textContent = this.cases.length ? "" : t("cases.none");
    this.body.replaceChildren(...this.cases.map((c) => el("tr", {
      dataset: { case: c.id, state: c.state }, class: c.id === this.selected?.id ? "selected" : null,
      onclick: () => this.open(c.id) },
    el("td", {}, `#${c.id}`),
    el("td", {}, c.institution.name),
    el("td", {}, c.camera ? c.camera.name : "—", c.zone ? ` · ${c.zone}` : ""),
    el("td", {}, el("span", { class: `severity ${c.severity}` }, t(`severity.${c.severity}`)), " ", label(c)),
    el("td", {}, stateBadge(c.state)),
    el("td", {}, formatTime(c.deadline_at), c.overdue ? el("span", { class: "badge overdue" }, t("cases.overdue")) : ""),
    el("td", {}, c.assignee ? c.assignee.username : t("cases.unassigned")))));
  }

  async open(id) {
    this.error.textContent = "";
    try {
      this.selected = await api(`/api/cases/${id}`);
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    this.render();
    await this.#renderDetail();
  }

  // One change of the case; the answer is the case as it stands after it.
  async #act(path, body) {
    this.error.textContent = "";
    try {
      this.selected = await api(`/api/cases/${this.selected.id}/${path}`, { method: "POST", body });
    } catch (error) {
      this.error.textContent = error instanceof ApiError ? error.message : t("error.generic");
      return;
    }
    await this.#renderDetail();
    await this.load();
  }

  async #upload(input, note) {
    const file = input.files[0];
    if (!file) { this.error.textContent = t("case.pickPhoto"); return; }
    const form = new FormData();
    form.append("photo", file);
    if (note.value.trim()) form.append("note", note.value.trim());
    this.error.textContent = "";
    try {
      await api(`/api/cases/${this.selected.id}/evidence`, { method: "POST", body: form });
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    await this.open(this.selected.id);
  }

  async #renderDetail() {
    const c = this.selected;
    const running = RUNNING.includes(c.state);
    const closed = c.state === "verified" || c.state === "dismissed";
    const actions = el("div", { class: "case-actions" });
    const button = (action, key, onclick) => el("button", { type: "button", dataset: { action }, onclick }, t(key));
    const reason = el("input", { id: "case-reason", placeholder: t("case.reason"), maxlength: 1000 });
    if (this.may("handle_cases")) {
      if (c.state === "open") actions.append(button("acknowledge", "case.acknowledge", () => this.#act("acknowledge")));
      if (c.state === "acknowledged") actions.append(button("start-rectifying", "case.startRectifying", () => this.#act("start-rectifying")));
      if (c.state === "rectifying") actions.append(button("rectified", "case.rectified", () => this.#act("rectified")));
    }
    if (this.may("supervise_cases")) {
      if (c.state === "rectified") {
        actions.append(button("verify", "case.verify", () => this.#act("verify")),
          button("reject", "case.reject", () => this.#act("reject", { reason: reason.value })));
      }
      if (running) actions.append(button("dismiss", "case.dismiss", () => this.#act("dismiss", { reason: reason.value })));
      if (c.state === "rectified" || running) actions.append(reason);
      if (!closed) {
        const assignees = await api(`/api/cases/${c.id}/assignees`).catch(() => []);
        const pick = el("select", { id: "case-assignee" },
          ...assignees.map((u) => el("option", { value: u.username, selected: c.assignee?.id === u.id }, u.username)));
        actions.append(el("span", { class: "case-assign" }, pick,
          button("assign", "case.assign", () => this.#act("assign", { username: pick.value }))));
      }
    }
    const parts = [
      el("h2", {}, `#${c.id} `, label(c), " ", stateBadge(c.state),
        c.overdue ? el("span", { class: "badge overdue" }, t("cases.overdue")) : ""),
      el("dl", { class: "case-facts" },
        ...fact("cases.institution", c.institution.name),
        ...fact("cases.camera", c.camera ? c.camera.name : "—"),
        ...fact("case.severity", t(`severity.${c.severity}`)),
        ...fact("case.source", t(`case.source.${c.source}`)),
        ...fact("cases.assignee", c.assignee ? c.assignee.username : t("cases.unassigned")),
        ...fact("case.opened", formatTime(c.opened_at)),
        ...fact("cases.deadline", formatTime(c.deadline_at)),
        ...(c.escalated_to ? fact("case.escalated", `${c.escalated_to.name} · ${formatTime(c.escalated_at)}`) : []),
        ...(c.description ? fact("case.description", c.description) : []),
        ...(c.dismiss_reason ? fact("case.dismissReason", c.dismiss_reason) : [])),
      actions,
    ];
    if (this.may("handle_cases") && !closed) {
      const input = el("input", { type: "file", id: "case-photo", accept: "image/jpeg,image/png" });
      const note = el("input", { id: "case-photo-note", placeholder: t("case.photoNote"), maxlength: 1000 });
      parts.push(el("div", { class: "case-upload" }, el("span", {}, t("case.uploadPhoto")), input, note,
        button("upload", "case.upload", () => this.#upload(input, note))));
    }
    parts.push(el("h3", {}, t("case.evidence")),
      el("div", { class: "case-evidence" }, ...c.evidence.map((e) => el("a", { href: e.url, target: "_blank" },
        el("img", { src: e.url, alt: e.note || t(`case.origin.${e.origin}`), dataset: { evidence: e.id } }))),
      ...c.linked_violations.filter((v) => v.snapshot_url).map((v) => el("a", { href: v.snapshot_url, target: "_blank" },
        el("img", { src: v.snapshot_url, alt: `#${v.id}` })))));
    if (c.linked_violations.length) {
      parts.push(el("p", { class: "muted", id: "case-video" }, t("case.violations", { n: c.linked_violations.length }), " ",
        ...c.linked_violations.map((v) => t(`case.video.${v.video_hold}`)).filter((x, i, all) => all.indexOf(x) === i)));
    }
    if (this.may("handle_cases") || this.may("supervise_cases")) {
      const text = el("textarea", { id: "case-comment", rows: 2, maxlength: 2000 });
      parts.push(el("div", { class: "case-comment" }, text, button("comment", "case.comment", async () => {
        this.error.textContent = "";
        try {
          await api(`/api/cases/${c.id}/comments`, { method: "POST", body: { text: text.value } });
        } catch (error) { this.error.textContent = error.message; return; }
        await this.open(c.id);
      })));
    }
    parts.push(el("h3", {}, t("case.history")),
      el("ol", { class: "case-history", id: "case-history" }, ...c.history.map((h) => el("li", { dataset: { action: h.action } },
        el("time", {}, formatTime(h.at)), " ", h.username || t("case.system"), " ", t(`case.action.${h.action}`),
        h.detail && h.action !== "comment" ? ` — ${h.detail}` : ""))),
      el("ul", { class: "case-comments" }, ...c.comments.map((m) => el("li", {},
        el("b", {}, m.username), ` ${formatTime(m.at)}: `, m.text))));
    this.detail.replaceChildren(...parts);
    this.detail.hidden = false;
  }
}

function label(c) { return lang() === "en" ? c.label_en : c.label; }

function stateBadge(state) {
  return el("span", { class: `case-state ${state}`, dataset: { state } }, t(`case.state.${state}`));
}

function fact(key, value) { return [el("dt", {}, t(key)), el("dd", {}, value)]; }
