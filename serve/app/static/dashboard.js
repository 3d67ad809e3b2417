// The dashboard: summary cards, the user list (filters, sorting and pages on the
// server, through the API), one user, and the charts the API defines (plotly).
"use strict";

const API = "/api/v1/ltv";
const COLUMNS = [
  "user_id", "signup_date", "acquisition_channel", "ltv_segment", "revenue_3m",
  "revenue_6m", "revenue_12m", "revenue_lifetime", "orders_lifetime",
  "aov_lifetime", "last_order_date", "days_since_last_order",
];
const state = { sort_by: "revenue_lifetime", sort_order: "desc", page: 1, total: 0 };

const money = (v) => v === null || v === undefined ? "–"
  : "$" + Number(v).toLocaleString("en-US", { maximumFractionDigits: 2 });
const number = (v) => v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US");
const cell = (column, v) => column === "user_id" ? v : /revenue|aov|ltv_|cac|clv|order_value/.test(column)
  && typeof v === "number" ? money(v) : typeof v === "number" ? number(v) : v ?? "–";

async function getJson(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) {
    const detail = Array.isArray(body.detail)
      ? body.detail.map((e) => `${e.loc.at(-1)}: ${e.msg}`).join("; ") : body.detail;
    throw new Error(detail);
  }
  return body;
}

async function loadSummary() {
  const rows = await getJson(`${API}/summary`);
  document.getElementById("as-of").textContent = `As of ${rows[0].as_of_date}`;
  document.getElementById("cards").innerHTML = rows.map((r) => `
    <article class="card"><h3>${r.horizon === "lifetime" ? "Lifetime" : r.horizon + " LTV"}</h3>
    <dl><dt>Mean</dt><dd>${money(r.ltv_mean)}</dd><dt>Median</dt><dd>${money(r.ltv_median)}</dd>
    <dt>p95</dt><dd>${money(r.ltv_p95)}</dd><dt>Eligible users</dt><dd>${number(r.eligible_users)}</dd>
    <dt>Max CAC</dt><dd>${money(r.recommended_max_cac)}</dd></dl></article>`).join("");
}

function filterParams() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("filters"))) {
    if (value !== "") params.set(name, value);
  }
  for (const name of ["sort_by", "sort_order", "page"]) params.set(name, state[name]);
  return params;
}

async function loadUsers() {
  const error = document.getElementById("error");
  try {
    const body = await getJson(`${API}/users?${filterParams()}`);
    error.textContent = "";
    state.total = body.total;
    const pages = Math.max(1, Math.ceil(body.total / body.page_size));
    document.getElementById("page-info").textContent =
      `Page ${body.page} of ${pages} · ${number(body.total)} users`;
    document.getElementById("previous").disabled = body.page <= 1;
    document.getElementById("next").disabled = body.page >= pages;
    document.querySelector("#users tbody").innerHTML = body.items.map((u) =>
      `<tr data-user="${u.user_id}">${COLUMNS.map((c) => `<td>${cell(c, u[c])}</td>`).join("")}</tr>`
    ).join("");
    drawHeader();
  } catch (e) {
    error.textContent = e.message;
  }
}

function drawHeader() {
  document.querySelector("#users thead").innerHTML = "<tr>" + COLUMNS.map((c) => {
    const sort = c === state.sort_by
      ? ` aria-sort="${state.sort_order === "asc" ? "ascending" : "descending"}"` : "";
    return `<th data-column="${c}"${sort}>${c.replaceAll("_", " ")}</th>`;
  }).join("") + "</tr>";
}

async function showUser(userId) {
  const user = await getJson(`${API}/users/${userId}`);
  const panel = document.getElementById("user");
  panel.hidden = false;
  panel.innerHTML = `<h3>User ${user.user_id}</h3><dl>` + Object.entries(user)
    .map(([k, v]) => `<div><dt>${k.replaceAll("_", " ")}</dt><dd>${cell(k, v)}</dd></div>`)
    .join("") + "</dl>";
}

async function loadCharts() {
  const figures = await getJson(`${API}/charts`);
  for (const [name, figure] of Object.entries(figures)) {
    Plotly.newPlot(`chart-${name}`, figure.data, figure.layout, { responsive: true });
  }
}

async function loadVerdict() {
  const verdict = await getJson(`${API}/clv-verdict`);
  const paragraph = document.getElementById("clv-verdict");
  paragraph.textContent = verdict.text;
  paragraph.dataset.status = verdict.status;
}

document.getElementById("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  state.page = 1;
  loadUsers();
});
document.querySelector("#users thead").addEventListener("click", (event) => {
  const column = event.target.dataset.column;
  if (!column) return;
  state.sort_order = column === state.sort_by && state.sort_order === "desc" ? "asc" : "desc";
  state.sort_by = column;
  state.page = 1;
  loadUsers();
});
document.querySelector("#users tbody").addEventListener("click", (event) => {
  const row = event.target.closest("tr");
  if (row) showUser(row.dataset.user);
});
document.getElementById("previous").addEventListener("click", () => { state.page -= 1; loadUsers(); });
document.getElementById("next").addEventListener("click", () => { state.page += 1; loadUsers(); });

loadSummary();
loadUsers();
loadCharts();
loadVerdict();
