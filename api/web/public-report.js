// The public report page (/report/{institution}): no log-in. The form sends the report with its photos and shows
// the receipt code once; the lookup shows what became of a report by its code. Messages are the page's own, in
// Chinese; the server's detail (English) is shown only where the page has no words of its own.

const $ = (selector) => document.querySelector(selector);
const institution = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const MAX_PHOTOS = 4;
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

const STATES = { received: "已收到，待镇街核实", accepted: "已受理，已立为隐患交由机构整改", rejected: "未予受理" };
const CASE_STATES = {
  open: "待机构处理", acknowledged: "机构已确认", rectifying: "整改中", rectified: "已整改，待验收",
  verified: "已整改并验收", dismissed: "经核查已撤销",
};

async function detail(response) {
  try { return (await response.json()).detail; } catch { return response.statusText; }
}

function refusal(status, retryAfter, fallback) {
  if (status === 404) return "未找到该机构，请核对二维码或链接。";
  if (status === 413) return "照片过大：每张不超过 5 MB。";
  if (status === 415) return "照片须为 JPEG 或 PNG 格式。";
  if (status === 429) return `提交过于频繁，请 ${Math.ceil(Number(retryAfter || 60) / 60)} 分钟后再试。`;
  if (status === 422) return typeof fallback === "string" && fallback.includes("photo")
    ? "照片已损坏或无法识别，请重新拍摄后再试。" : "请填写问题描述（不超过 2000 字）。";
  return `提交失败（${status}），请稍后再试。`;
}

async function loadInstitution() {
  const response = await fetch(`/api/public/institutions/${encodeURIComponent(institution)}`);
  if (!response.ok) {
    $("#institution-name").textContent = "隐患举报";
    $("#unknown-institution").hidden = false;
    $("#report-form").hidden = true;
    return;
  }
  const unit = await response.json();
  $("#institution-name").textContent = unit.name;
  document.title = `${unit.name} · 隐患举报`;
}

function checkPhotos(files) {
  if (files.length > MAX_PHOTOS) return `最多上传 ${MAX_PHOTOS} 张照片。`;
  for (const file of files) {
    if (!["image/jpeg", "image/png"].includes(file.type)) return `“${file.name}”不是 JPEG 或 PNG 照片。`;
    if (file.size > MAX_PHOTO_BYTES) return `“${file.name}”超过 5 MB。`;
  }
  return null;
}

async function submit(event) {
  event.preventDefault();
  const error = $("#report-error");
  error.textContent = "";
  const description = $("#description").value.trim();
  if (!description) { error.textContent = "请填写问题描述。"; return; }
  const files = [...$("#photos").files];
  const problem = checkPhotos(files);
  if (problem) { error.textContent = problem; return; }
  const body = new FormData();
  body.append("description", description);
  if ($("#place").value.trim()) body.append("place", $("#place").value.trim());
  if ($("#contact").value.trim()) body.append("contact", $("#contact").value.trim());
  for (const file of files) body.append("photos", file, file.name);  // only chosen files: no empty part
  const button = $("#report-submit");
  button.disabled = true;
  try {
    const response = await fetch(`/api/public/institutions/${encodeURIComponent(institution)}/reports`,
      { method: "POST", body });
    if (!response.ok) {
      error.textContent = refusal(response.status, response.headers.get("Retry-After"), await detail(response));
      return;
    }
    const receipt = await response.json();
    $("#receipt-code").textContent = receipt.receipt;
    $("#lookup-code").value = receipt.receipt;
    $("#report-form").reset();
    $("#report-form").hidden = true;
    $("#receipt-box").hidden = false;
  } catch {
    error.textContent = "网络异常，请稍后再试。";
  } finally {
    button.disabled = false;
  }
}

function row(term, value, className) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  if (className) dd.className = className;
  return [dt, dd];
}

async function lookup(event) {
  event.preventDefault();
  const error = $("#lookup-error");
  const result = $("#lookup-result");
  error.textContent = "";
  result.hidden = true;
  const code = $("#lookup-code").value.replace(/[\s-]/g, "").toUpperCase();
  if (!/^[0-9A-Z]{10}$/.test(code)) { error.textContent = "回执码为 10 位字母和数字。"; return; }
  const response = await fetch(`/api/public/reports/${code}`);
  if (!response.ok) { error.textContent = "未找到该回执码对应的举报，请核对后再试。"; return; }
  const report = await response.json();
  const rows = [
    row("机构", report.institution.name),
    row("提交时间", new Date(report.submitted_at * 1000).toLocaleString("zh-CN", { hour12: false })),
    row("处理状态", STATES[report.state] || report.state),
  ];
  if (report.case_state) rows.push(row("整改进度", CASE_STATES[report.case_state] || report.case_state));
  if (report.reject_reason) rows.push(row("说明", report.reject_reason));
  if (report.reward) rows.push(row("奖励", "经核实属实，已列入举报奖励", "reward"));
  result.replaceChildren(...rows.flat());
  result.dataset.state = report.state;
  result.hidden = false;
}

$("#report-form").addEventListener("submit", submit);
$("#lookup-form").addEventListener("submit", lookup);
$("#report-again").addEventListener("click", () => {
  $("#receipt-box").hidden = true;
  $("#report-form").hidden = false;
});
loadInstitution();
