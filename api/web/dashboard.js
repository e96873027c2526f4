// 首页: the compliance dashboard. The figures of the user's unit over a period (GET /api/statistics), charts drawn
// with Apache ECharts (installed by ./dev from npm, served at /ui/echarts.min.js), a row per child unit to drill
// into (bureau → town → institution → its cameras), and the downloads: CSV, Excel workbook, printable report.
// Without ECharts the page still shows every figure in its tables and says the charts are missing.

import { api, el } from "./api.js";
import { onLangChange, t } from "./i18n.js";

const CHART_SCRIPT = "/ui/echarts.min.js";
const STATES = ["open", "acknowledged", "rectifying", "rectified", "verified", "dismissed"];

let charting = null;
// ECharts as a classic script, loaded once on first use; null when it is not installed.
function loadCharts() {
  if (!charting) {
    charting = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = CHART_SCRIPT;
      script.onload = () => resolve(window.echarts ?? null);
      script.onerror = () => resolve(null);
      document.head.append(script);
    });
  }
  return charting;
}

const pct = (value) => (value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`);
const hours = (value) => (value === null || value === undefined ? "—" : `${value}`);

// The periods to pick from: this month and the eleven before, this quarter and the three before, this year and
// last (Beijing's calendar, as the server counts).
function periods() {
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const list = [];
  for (let i = 0; i < 12; i++) {
    const d = new Date(Date.UTC(year, month - i, 1));
    list.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  let quarter = Math.floor(month / 3) + 1;
  let qYear = year;
  for (let i = 0; i < 4; i++) {
    list.push(`${qYear}-Q${quarter}`);
    quarter -= 1;
    if (quarter === 0) { quarter = 4; qYear -= 1; }
  }
  list.push(String(year), String(year - 1));
  return list;
}

export class DashboardPage {
  constructor(root, user) {
    this.root = root;
    this.user = user;
    this.trail = [];  // [{id, name}]: the units from the user's own down to the one shown
    this.period = periods()[0];
    this.stats = null;
    this.error = "";
    this.charts = [];
    this.select = el("select", { id: "dash-period", onchange: () => { this.period = this.select.value; this.load(); } });
    this.custom = el("input", { id: "dash-custom", size: 24, maxlength: 32, placeholder: "2026-11-01..2026-11-15",
      onkeydown: (event) => { if (event.key === "Enter" && this.custom.value.trim()) { this.period = this.custom.value.trim(); this.load(); } } });
    onLangChange(() => this.render());
    window.addEventListener("resize", () => { for (const chart of this.charts) chart.resize(); });
  }

  get unit() { return this.trail.length ? this.trail[this.trail.length - 1].id : this.user.org_unit_id; }

  async show() { await this.load(); }

  hide() {}

  async open(unit) {
    this.trail.push({ id: unit.id, name: unit.name });
    await this.load();
  }

  async load() {
    const query = new URLSearchParams({ unit: this.unit, period: this.period });
    try {
      this.stats = await api(`/api/statistics?${query}`);
      this.error = "";
      if (!this.trail.length) this.trail = [{ id: this.stats.unit.id, name: this.stats.unit.name }];
    } catch (error) {
      this.error = error.message;
    }
    await this.render();
  }

  link(path) {
    return `/api/statistics/${path}?${new URLSearchParams({ unit: this.unit, period: this.period })}`;
  }

  async render() {
    for (const chart of this.charts) chart.dispose();
    this.charts = [];
    const options = periods();
    if (!options.includes(this.period)) options.unshift(this.period);
    this.select.replaceChildren(...options.map((key) => el("option", { value: key }, key)));
    this.select.value = this.period;
    const stats = this.stats;
    const crumbs = this.trail.map((unit, index) => index === this.trail.length - 1
      ? el("span", { class: "current" }, unit.name)
      : el("a", { href: "#/home", onclick: (event) => { event.preventDefault(); this.trail.length = index + 1; this.load(); } }, unit.name));
    this.root.replaceChildren(
      el("div", { class: "dash-head" },
        el("h2", {}, t("dash.title")),
        el("nav", { class: "crumbs", id: "dash-trail" }, ...crumbs.flatMap((node, i) => (i ? [" › ", node] : [node]))),
        el("label", {}, el("span", {}, t("dash.period")), this.select),
        el("label", {}, el("span", {}, t("dash.custom")), this.custom),
        el("a", { class: "button", id: "dash-csv", href: this.link("export.csv"), download: "" }, t("dash.csv")),
        el("a", { class: "button", id: "dash-xlsx", href: this.link("export.xlsx"), download: "" }, t("dash.xlsx")),
        el("a", { class: "button", id: "dash-report", href: this.link("report"), target: "_blank", rel: "noopener" },
          t("dash.report"))),
      el("p", { class: "error", id: "dash-error", role: "alert", hidden: !this.error }, this.error),
    );
    if (!stats) return;
    const u = stats.unit;
    this.root.append(
      el("p", { class: "muted", id: "dash-label" }, `${u.name} · ${stats.period.label}`),
      el("div", { class: "dash-cards", id: "dash-cards" },
        this.card("installation", pct(u.installation_rate), t("dash.installedOf", { n: u.cameras_installed, of: u.cameras_required })),
        this.card("online", pct(u.online_rate), ""),
        this.card("recording", pct(u.recording_completeness), t("dash.hoursOf", { n: u.recorded_hours, of: u.expected_hours })),
        this.card("cases", String(u.cases), t("dash.casesDetail", { open: u.cases_open, overdue: u.cases_overdue })),
        this.card("rectify", hours(u.rectify_hours_mean), t("dash.hours")),
        this.card("falseAlarms", pct(u.false_alarm_rate), t("dash.ofCases", { n: u.false_alarms, of: u.violation_cases })),
        this.card("inspections", `${u.inspections_done}/${u.inspections_due}`, t("dash.overdue", { n: u.inspections_overdue }))),
    );
    const chartBoxes = ["rates", "states", "kinds"].map((name) => el("div", { class: "dash-chart", id: `dash-chart-${name}` }));
    const note = el("p", { class: "muted", id: "dash-no-charts", hidden: true }, t("dash.noCharts"));
    this.root.append(note, el("div", { class: "dash-charts" }, ...chartBoxes));
    this.root.append(stats.children.length ? this.unitsTable(stats) : this.camerasTable(stats));
    if (u.missing.length) {
      this.root.append(el("h3", {}, t("dash.missing")), el("ul", { id: "dash-missing" },
        ...u.missing.map((m) => el("li", {}, `${m.institution}：${t(`role.${m.role}`)}`))));
    }
    const echarts = await loadCharts();
    if (!echarts) {
      note.hidden = false;
      for (const box of chartBoxes) box.hidden = true;
      return;
    }
    this.draw(echarts, chartBoxes, stats);
  }

  card(key, value, detail) {
    return el("div", { class: "dash-card", dataset: { figure: key } },
      el("div", { class: "label" }, t(`dash.${key}`)), el("div", { class: "value" }, value),
      el("div", { class: "detail" }, detail));
  }

  unitsTable(stats) {
    const head = ["unit", "institutions", "cameras", "installation", "online", "recording", "cases", "open", "overdueCases",
      "rectify", "violations", "falseAlarms", "inspections"];
    const row = (r, total) => el("tr", { dataset: { unit: r.id } },
      el("td", {}, total ? t("dash.total") : el("a", { href: "#/home", class: "drill",
        onclick: (event) => { event.preventDefault(); this.open(r); } }, r.name)),
      el("td", {}, r.institutions), el("td", {}, r.cameras), el("td", {}, pct(r.installation_rate)),
      el("td", {}, pct(r.online_rate)), el("td", {}, pct(r.recording_completeness)), el("td", {}, r.cases),
      el("td", {}, r.cases_open), el("td", {}, r.cases_overdue), el("td", {}, hours(r.rectify_hours_mean)),
      el("td", {}, r.violations), el("td", {}, pct(r.false_alarm_rate)),
      el("td", {}, `${r.inspections_done}/${r.inspections_due}`));
    return el("table", { class: "dash-table", id: "dash-units" },
      el("thead", {}, el("tr", {}, ...head.map((key) => el("th", {}, t(`dash.col.${key}`))))),
      el("tbody", {}, ...stats.children.map((r) => row(r, false)), row(stats.unit, true)));
  }

  camerasTable(stats) {
    const head = ["camera", "role", "online", "recorded", "recording", "violations", "falseAlarms"];
    return el("table", { class: "dash-table", id: "dash-cameras" },
      el("thead", {}, el("tr", {}, ...head.map((key) => el("th", {}, t(`dash.col.${key}`))))),
      el("tbody", {}, ...stats.cameras.map((c) => el("tr", { dataset: { camera: c.id } },
        el("td", {}, c.name), el("td", {}, t(`role.${c.role}`)), el("td", {}, pct(c.online_rate)),
        el("td", {}, `${c.recorded_hours}/${c.expected_hours}`), el("td", {}, pct(c.recording_completeness)),
        el("td", {}, c.violations), el("td", {}, c.false_alarms)))));
  }

  draw(echarts, [rates, states, kinds], stats) {
    const rows = stats.children.length ? stats.children : [stats.unit];
    const percent = (value) => (value === null ? null : Math.round(value * 1000) / 10);
    const chart = (box, option) => {
      const instance = echarts.init(box, null, { renderer: "canvas" });
      instance.setOption({ animation: false, ...option });
      this.charts.push(instance);
      return instance;
    };
    const bars = chart(rates, {
      title: { text: t("dash.chart.rates"), textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "—" : `${v}%`) },
      legend: { bottom: 0 },
      grid: { top: 40, left: 48, right: 16, bottom: 56 },
      xAxis: { type: "category", data: rows.map((r) => r.name) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [["installation", "installation_rate"], ["online", "online_rate"], ["recording", "recording_completeness"]]
        .map(([key, field]) => ({ name: t(`dash.${key}`), type: "bar", data: rows.map((r) => percent(r[field])) })),
    });
    // Clicking a unit's bars drills into it, as its row does.
    bars.on("click", (event) => { const r = stats.children[event.dataIndex]; if (r) this.open(r); });
    chart(states, {
      title: { text: t("dash.chart.states"), textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "62%"], center: ["50%", "50%"],
        label: { position: "inside", formatter: "{c}" }, labelLine: { show: false },
        data: STATES.map((s) => ({ name: t(`case.state.${s}`), value: stats.unit.cases_by_state[s] ?? 0 })).filter((d) => d.value) }],
    });
    const kindsData = Object.entries(stats.unit.violations_by_kind);
    chart(kinds, {
      title: { text: t("dash.chart.kinds"), textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { top: 40, left: 120, right: 16, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: kindsData.map(([k]) => t(`violation.${k}`)) },
      series: [{ type: "bar", data: kindsData.map(([, n]) => n) }],
    });
  }
}
