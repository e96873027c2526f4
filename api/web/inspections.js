// Inspections (定期巡查): what is due below the user's unit (each institution monthly, each town quarterly), and
// an inspection from start to finish: remote through a spot check or on site with photos, the checklist
// answered item by item (a failed item of an institution can open a case), then finished as a record.

import { api, el } from "./api.js";
import { formatTime, lang, onLangChange, t } from "./i18n.js";

export class InspectionsPage {
  constructor(root, user) {
    this.root = root;
    this.user = user;
    this.checklist = [];
    this.due = [];
    this.records = [];
    this.current = null;  // the inspection open in the form
    this.status = el("p", { class: "muted", id: "inspections-status", role: "status" });
    onLangChange(() => this.render());
  }

  get inspector() { return this.user.permissions.includes("plan_inspections"); }

  async show() {
    try {
      [this.checklist, this.due, this.records] = await Promise.all([
        api("/api/inspections/checklist"), api("/api/inspections/due"), api("/api/inspections")]);
    } catch (error) {
      this.status.textContent = error.message;
    }
    this.render();
  }

  hide() {}

  async act(work) {
    try {
      this.current = await work();
      this.status.textContent = "";
      [this.due, this.records] = await Promise.all([api("/api/inspections/due"), api("/api/inspections")]);
    } catch (error) {
      this.status.textContent = `${t("error.generic")}: ${error.message}`;
    }
    this.render();
  }

  render() {
    this.root.replaceChildren(
      el("h2", {}, t("inspections.due")), this.dueTable(),
      ...(this.current ? [this.form(this.current)] : []),
      el("h2", {}, t("inspections.records")), this.recordTable(),
      this.status);
  }

  dueTable() {
    const rows = this.due.map((due) => el("tr", { dataset: { unit: due.unit_id, state: due.state } },
      el("td", {}, due.unit_name), el("td", {}, due.period), el("td", {}, formatTime(due.ends_at)),
      el("td", {}, el("span", { class: `badge due-${due.state}` }, t(`inspections.state.${due.state}`))),
      el("td", {}, due.inspection_id
        ? el("button", { type: "button", onclick: () => this.act(() => api(`/api/inspections/${due.inspection_id}`)) }, t("inspections.open"))
        : this.inspector ? this.startControls(due) : "")));
    return el("table", { class: "inspections", id: "inspections-due" },
      el("thead", {}, el("tr", {}, ...["unit", "period", "deadline", "state", "action"].map((k) => el("th", {}, t(`inspections.${k}`))))),
      el("tbody", {}, ...rows));
  }

  startControls(due) {
    const start = (mode, spotCheckId) => this.act(() => api("/api/inspections", { method: "POST",
      body: { unit_id: due.unit_id, mode, spot_check_id: spotCheckId } }));
    const onSite = el("button", { type: "button", class: "start-on-site", onclick: () => start("on_site") }, t("inspections.onSite"));
    if (due.level !== "institution") return onSite;
    // Remote: through the institution's latest finished spot check (made on the spot-check page).
    const remote = el("button", { type: "button", class: "start-remote", onclick: async () => {
      const checks = await api(`/api/spot-checks?institution_id=${encodeURIComponent(due.unit_id)}`);
      const check = checks.find((c) => c.finished_at);
      if (check) start("remote", check.id);
      else this.status.textContent = t("inspections.needSpotCheck");
    } }, t("inspections.remote"));
    return el("span", {}, remote, " ", onSite);
  }

  form(inspection) {
    const answers = new Map(inspection.items.map((item) => [item.item, item]));
    const editable = !inspection.finished_at && this.inspector;
    const url = `/api/inspections/${inspection.id}`;
    const rows = this.checklist.map((item) => {
      const answer = answers.get(item.id);
      const note = el("input", { name: "note", maxlength: 2000, value: answer ? answer.note || "" : "", disabled: !editable });
      const openCase = el("input", { type: "checkbox", name: "open_case", disabled: !editable || inspection.level !== "institution" });
      const choose = (result) => this.act(() => api(`${url}/items/${item.id}`, { method: "PUT",
        body: { result, note: note.value || null, open_case: result === "fail" && openCase.checked } }));
      const buttons = ["pass", "fail", "not_applicable"].map((result) => el("button", {
        type: "button", class: `result-${result}${answer && answer.result === result ? " chosen" : ""}`,
        disabled: !editable, onclick: () => choose(result) }, t(`inspections.result.${result}`)));
      return el("tr", { dataset: { item: item.id, result: answer ? answer.result : "" } },
        el("td", {}, lang() === "en" ? item.label_en : item.label), el("td", {}, ...buttons), el("td", {}, note),
        el("td", {}, answer && answer.case_id ? el("a", { href: `#/cases?id=${answer.case_id}` }, `#${answer.case_id}`)
          : el("label", {}, openCase, t("inspections.openCase"))));
    });
    const photo = el("input", { type: "file", accept: "image/jpeg,image/png", name: "photo" });
    const summary = el("textarea", { name: "summary", maxlength: 4000, disabled: !editable }, inspection.summary || "");
    return el("section", { class: "inspection", id: "inspection-form", dataset: { id: inspection.id } },
      el("h3", {}, `${inspection.unit_name} · ${inspection.period} · ${t(`inspections.mode.${inspection.mode}`)} · ${inspection.inspector}`),
      el("table", { class: "checklist" }, el("tbody", {}, ...rows)),
      el("div", { class: "photos" }, ...inspection.photos.map((p) => el("img", { src: p.url, alt: p.item || "", loading: "lazy" }))),
      editable ? el("div", { class: "inspection-actions" },
        photo, el("button", { type: "button", class: "upload", onclick: () => {
          if (!photo.files.length) return;
          const form = new FormData();
          form.append("photo", photo.files[0]);
          this.act(async () => { await api(`${url}/photos`, { method: "POST", body: form }); return api(url); });
        } }, t("inspections.upload")),
        summary, el("button", { type: "button", class: "finish", onclick: () => this.act(() => api(`${url}/finish`,
          { method: "POST", body: { summary: summary.value || null } })) }, t("inspections.finish")))
        : el("p", {}, inspection.finished_at ? `${t("inspections.finishedAt")} ${formatTime(inspection.finished_at)}: ${inspection.summary || ""}` : ""));
  }

  recordTable() {
    const rows = this.records.map((r) => el("tr", { dataset: { id: r.id } },
      el("td", {}, formatTime(r.started_at)), el("td", {}, r.unit_name), el("td", {}, r.period),
      el("td", {}, t(`inspections.mode.${r.mode}`)), el("td", {}, r.inspector),
      el("td", {}, r.finished_at ? t("inspections.state.done") : t("inspections.underWay")),
      el("td", {}, String(r.items.filter((i) => i.result === "fail").length)),
      el("td", {}, el("button", { type: "button", onclick: () => this.act(() => api(`/api/inspections/${r.id}`)) }, t("inspections.open")))));
    return el("table", { class: "inspections", id: "inspections-records" },
      el("thead", {}, el("tr", {}, ...["started", "unit", "period", "modeName", "inspector", "state", "failed", "action"].map((k) => el("th", {}, t(`inspections.${k}`))))),
      el("tbody", {}, ...rows));
  }
}
