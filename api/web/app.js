// Start-up, log-in and routing between the pages (#/live, #/spot-check, #/playback, #/violations).

import { api, ApiError } from "./api.js";
import { AuditPage } from "./audit.js";
import { CasesPage } from "./cases.js";
import { DashboardPage } from "./dashboard.js";
import { applyStatic, lang, onLangChange, registerViolationTypes, setLang, t } from "./i18n.js";
import { LiveGrid } from "./grid.js";
import { mountPlayback } from "./playback.js";
import { SpotCheckPage } from "./spotcheck.js";
import { OrgTree } from "./tree.js";
import { ReportsPage } from "./reports.js";
import { UplinkPage } from "./uplink.js";
import { WorkersPage } from "./workers.js";
import { UsersPage } from "./users.js";
import { InspectionsPage } from "./inspections.js";
import { ViolationsPage } from "./violations.js";

const $ = (selector) => document.querySelector(selector);
let session = null;  // { user, tree, grid, spot, playback, violations }

function toggleLang() { setLang(lang() === "en" ? "zh-CN" : "en"); }

async function boot() {
  applyStatic(document);
  $("#lang-toggle").addEventListener("click", toggleLang);
  $("#login-lang").addEventListener("click", toggleLang);
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  for (const button of document.querySelectorAll("[data-grid]")) {
    button.addEventListener("click", () => session && session.grid.layout(Number(button.dataset.grid)));
  }
  window.addEventListener("hashchange", route);
  // Leaving the page (or the tab going into the back-forward cache) ends its live views on the server now,
  // not when the server notices the silence.
  window.addEventListener("pagehide", () => {
    if (session) { session.grid.stopAll(); session.spot.hide(); session.violations.hide(); }
  });
  onLangChange(() => { if (session) $("#user-name").textContent = session.user.display_name || session.user.username; });
  try {
    enter(await api("/api/me"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) console.error(error);
    showLogin();
  }
}

function showLogin() {
  $(".topbar").hidden = true;
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-form [name=username]").focus();
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#login-error").textContent = "";
  try {
    const answer = await api("/api/auth/login", { method: "POST",
      body: { username: form.get("username"), password: form.get("password") } });
    event.target.reset();
    enter(answer.user);
  } catch (error) {
    $("#login-error").textContent = error instanceof ApiError && error.status === 401 ? t("auth.failed") : error.message;
  }
}

async function logout() {
  try { await api("/api/auth/logout", { method: "POST" }); } catch { /* the session may be gone already */ }
  if (session) {
    session.grid.stopAll();
    session.spot.hide();
    session.violations.hide();
    session.uplink.hide();
    session.workers.hide();
    session.tree.stop();
  }
  session = null;
  showLogin();
}

async function enter(user) {
  registerViolationTypes(await api("/api/violation-types"));
  const grid = new LiveGrid($("#grid"));
  const may = (permission) => user.permissions.includes(permission);
  const tree = new OrgTree($("#org-tree"), (camera) => {
    if (!may("live")) return;
    if (location.hash !== "#/live" && location.hash !== "") location.hash = "#/live";
    grid.play(camera);
  });
  // The role decides which pages exist for this user; the server refuses the rest anyway.
  for (const link of document.querySelectorAll("[data-route]")) {
    link.hidden = Boolean(link.dataset.permission) && !may(link.dataset.permission);
  }
  session = { user, tree, grid, spot: new SpotCheckPage($("#page-spot-check"), tree), playback: null,
    violations: new ViolationsPage($("#page-violations")), uplink: new UplinkPage($("#page-uplink")),
    workers: new WorkersPage($("#page-workers")),
    users: new UsersPage($("#page-users"), user, tree), audit: new AuditPage($("#page-audit"), tree),
    cases: new CasesPage($("#page-cases"), user), reports: new ReportsPage($("#page-reports"), user),
    inspections: new InspectionsPage($("#page-inspections"), user), home: new DashboardPage($("#page-home"), user) };
  $("#user-name").textContent = user.display_name || user.username;
  $("#login-view").hidden = true;
  $(".topbar").hidden = false;
  $("#app-view").hidden = false;
  await tree.load();
  route();
  // The first time this browser opens the live grid, it shows the first cameras of the user's unit at once.
  if (may("live") && grid.firstOpen && !location.hash.replace(/^#\/?/, "").replace(/^live/, "")) {
    grid.fill(tree.cameraOrder().filter((camera) => camera.health && camera.health.state === "online"));
  }
}

function route() {
  if (!session) return;
  const page = (location.hash.replace(/^#\//, "") || "live").split("?")[0];
  const open = [...document.querySelectorAll("[data-route]")].filter((link) => !link.hidden).map((link) => link.dataset.route);
  const known = open.includes(page) ? page : open[0];
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== `page-${known}`;
  for (const link of document.querySelectorAll("[data-route]")) link.classList.toggle("active", link.dataset.route === known);
  if (known === "spot-check") session.spot.show();
  else session.spot.hide();
  if (known === "playback" && !session.playback) session.playback = mountPlayback($("#playback-root"), session);
  if (known === "violations") session.violations.show();
  else session.violations.hide();
  if (known === "uplink") session.uplink.show();
  else session.uplink.hide();
  if (known === "workers") session.workers.show();
  else session.workers.hide();
  if (known === "users") session.users.show();
  if (known === "inspections") session.inspections.show();
  if (known === "audit") session.audit.show();
  if (known === "cases") session.cases.show();
  if (known === "home") session.home.show();
  if (known === "reports") session.reports.show();
}

boot();
