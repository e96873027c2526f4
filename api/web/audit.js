// Audit log (审计日志), for accounts whose role may read it: who watched, exported or changed what, when and from
// where; filtered by time, user, action and camera, paged, downloadable as CSV, with the hash chain's state.

import { api, el } from "./api.js";
import { formatTime, lang, onLangChange, t } from "./i18n.js";

const PAGE = 100;

// A datetime-local field's value (the browser's local time) as ISO 8601 with its zone, as the API wants it.
function moment(input) {
  return input.value ? new Date(input.value).toISOString() : null;
}

export class AuditPage {
  constructor(root, tree) {
    this.root = root;
    this.tree = tree;  // OrgTree: the cameras to choose from
    this.entries = [];
    this.next = null;
    this.labels = new Map();  // action -> {zh-CN, en}
    this.chain = null;
    this.since = el("input", { type: "datetime-local", id: "audit-since" });
    this.until = el("input", { type: "datetime-local", id: "audit-until" });
    this.user = el("input", { id: "audit-user", maxlength: 64, size: 10 });
    this.action = el("select", { id: "audit-action" });
    this.target = el("select", { id: "audit-target" });
    this.body = el("tbody");
    this.more = el("button", { type: "button", id: "audit-more", onclick: () => this.load(true) });
    this.status = el("p", { class: "muted", id: "audit-status", role: "status" });
    this.chainLine = el("p", { class: "audit-chain", id: "audit-chain" });
    this.csv = el("a", { id: "audit-csv", class: "button", download: "" });
    onLangChange(() => { if (this.root.firstChild) this.build(); this.render(); });
  }

  async show() {
    if (!this.labels.size) {
      try {
        for (const item of await api("/api/audit/actions")) this.labels.set(item.action, item.label);
      } catch (error) {
        this.status.textContent = error.message;
      }
    }
    this.build();
    await Promise.all([this.load(false), this.verify()]);
  }

  hide() {}

  label(action) {
    const known = this.labels.get(action) ?? this.labels.get(action.split(".")[0]);
    return known ? (known[lang()] ?? known["zh-CN"]) : action;
  }

  // Camera ids as the tree names them (a target that is no camera, or one since removed, shows its id).
  cameraNames() {
    return new Map(this.tree.cameraOrder().map((camera) => [camera.id, camera.name]));
  }

  build() {
    const chosenAction = this.action.value;
    const chosenTarget = this.target.value;
    this.action.replaceChildren(el("option", { value: "" }, t("audit.allActions")),
      ...[...this.labels.keys()].map((action) => el("option", { value: action }, this.label(action))));
    this.action.value = chosenAction;
    this.target.replaceChildren(el("option", { value: "" }, t("audit.allTargets")),
      ...this.tree.cameraOrder().map((camera) => el("option", { value: camera.id }, camera.name)));
    this.target.value = chosenTarget;
    const field = (key, input) => el("label", {}, el("span", {}, t(key)), input);
    this.more.textContent = t("audit.more");
    this.csv.textContent = t("audit.csv");
    this.root.replaceChildren(
      el("h2", {}, t("audit.title")),
      this.chainLine,
      el("form", { class: "audit-filters", onsubmit: (event) => { event.preventDefault(); this.load(false); } },
        field("audit.since", this.since), field("audit.until", this.until), field("audit.user", this.user),
        field("audit.action", this.action), field("audit.target", this.target),
        el("button", { type: "submit", id: "audit-search" }, t("audit.search")), this.csv,
        el("button", { type: "button", id: "audit-verify", onclick: () => this.verify() }, t("audit.verify"))),
      el("table", { class: "audit", id: "audit-table" },
        el("thead", {}, el("tr", {}, ...["time", "user", "action", "target", "range", "detail", "client"]
          .map((key) => el("th", {}, t(`audit.${key}`))))),
        this.body),
      this.status,
      this.more);
    this.render();
  }

  filters() {
    const params = new URLSearchParams();
    const since = moment(this.since);
    const until = moment(this.until);
    if (since) params.set("since", since);
    if (until) params.set("until", until);
    if (this.user.value.trim()) params.set("user", this.user.value.trim());
    if (this.action.value) params.set("action", this.action.value);
    if (this.target.value) params.set("target", this.target.value);
    return params;
  }

  async load(older) {
    const params = this.filters();
    this.csv.href = `/api/audit/export.csv?${params}`;
    params.set("limit", String(PAGE));
    if (older && this.next) params.set("before_id", String(this.next));
    try {
      const page = await api(`/api/audit?${params}`);
      this.entries = older ? [...this.entries, ...page.entries] : page.entries;
      this.next = page.next_before_id;
      this.status.textContent = this.entries.length ? "" : t("audit.none");
    } catch (error) {
      this.status.textContent = `${t("error.generic")}: ${error.message}`;
    }
    this.render();
  }

  async verify() {
    this.chainLine.textContent = t("audit.verifying");
    try {
      this.chain = await api("/api/audit/verify");
    } catch (error) {
      this.chain = null;
      this.chainLine.textContent = `${t("error.generic")}: ${error.message}`;
      return;
    }
    this.render();
  }

  render() {
    if (this.chain) {
      const c = this.chain;
      this.chainLine.className = `audit-chain ${c.ok ? "ok" : "broken"}`;
      this.chainLine.textContent = c.ok
        ? t("audit.chainOk", { rows: c.rows, head: c.head_id ?? "-", hash: (c.head_hash || "").slice(0, 16) })
        : t("audit.chainBroken", { row: c.first_broken_id, reason: c.reason, head: c.head_id ?? "-" });
    }
    this.more.hidden = !this.next;
    this.body.replaceChildren(...this.entries.map((e) => el("tr", { dataset: { audit: e.id, action: e.action } },
      el("td", {}, formatTime(e.at)),
      el("td", {}, e.username ?? t("audit.system")),
      el("td", { title: e.action }, this.label(e.action)),
      el("td", { title: e.target ?? "" }, this.cameraNames().get(e.target) ?? e.target ?? ""),
      el("td", {}, e.start ? formatTime(e.start) : "", e.end ? ` – ${formatTime(e.end)}` : ""),
      el("td", {}, e.detail ?? ""),
      el("td", {}, e.client ?? ""))));
  }
}
