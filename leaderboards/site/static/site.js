/* ecgbench site: sortable tables, the dataset and budget filters, the "all metrics" toggle.
   Dependency-free and a classic script (not a module), so it runs from file:// as from a server.
   Without it the pages still read: every table shows in rank order, every column visible. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // -- sorting ---------------------------------------------------------------------------
  // A header cell with data-sort-type sorts its column; cells give their sort value in
  // data-value (numbers) or their text. Empty values go last in either direction. A first
  // click sorts by data-best (the best rows first), the next reverses.

  function sortKey(row, index, type) {
    var cell = row.cells[index];
    if (!cell) { return null; }
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (raw === "" || raw === "—") { return null; }
    if (type === "number") {
      var number = Number(raw);
      return isNaN(number) ? null : number;
    }
    return raw.toLowerCase();
  }

  function sortBy(table, header) {
    var headers = Array.prototype.slice.call(header.parentNode.cells);
    var index = headers.indexOf(header);
    var type = header.getAttribute("data-sort-type");
    var current = header.getAttribute("aria-sort");
    var descending;
    if (current === "ascending") { descending = true; }
    else if (current === "descending") { descending = false; }
    else { descending = header.getAttribute("data-best") === "descending"; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var ka = sortKey(a, index, type), kb = sortKey(b, index, type);
      var order = Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order"));
      if (ka === null || kb === null) { return ka === kb ? order : (ka === null ? 1 : -1); }
      if (ka === kb) { return order; }
      return (ka < kb ? -1 : 1) * (descending ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) { row.setAttribute("data-order", i); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
      var button = header.querySelector("button");
      if (button && header.hasAttribute("data-sort-type")) {
        button.addEventListener("click", function () { sortBy(table, header); });
      }
    });
  });

  // -- filters ---------------------------------------------------------------------------
  // Each <select data-filter="KEY"> hides the [data-filter-item] elements whose data-KEY
  // differs; the choice is kept in the address (#dataset=ptbxl&budget=ci) to share a view.

  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter-item]"));

  function readHash() {
    var wanted = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var pair = part.split("=");
      if (pair.length === 2) { wanted[decodeURIComponent(pair[0])] = decodeURIComponent(pair[1]); }
    });
    return wanted;
  }

  function applyFilters(updateAddress) {
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.getAttribute("data-filter")] = s.value; } });
    var shown = 0;
    items.forEach(function (item) {
      var match = Object.keys(wanted).every(function (key) {
        return item.getAttribute("data-" + key) === wanted[key];
      });
      item.hidden = !match;
      shown += match ? 1 : 0;
    });
    Array.prototype.forEach.call(document.querySelectorAll(".filter-count"), function (out) {
      out.textContent = Object.keys(wanted).length ? shown + " of " + items.length + " shown" : "";
    });
    Array.prototype.forEach.call(document.querySelectorAll(".empty-filter"), function (note) {
      note.hidden = shown > 0;
    });
    if (updateAddress && window.history && history.replaceState) {
      var parts = Object.keys(wanted).map(function (k) { return k + "=" + encodeURIComponent(wanted[k]); });
      try {
        history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
      } catch (e) { /* some browsers refuse address changes on file://; the filter still applies */ }
    }
  }

  if (selects.length) {
    var fromHash = readHash();
    selects.forEach(function (s) {
      var key = s.getAttribute("data-filter");
      if (fromHash[key] !== undefined && s.querySelector("option[value='" + fromHash[key].replace(/'/g, "") + "']")) {
        s.value = fromHash[key];
      }
      s.addEventListener("change", function () { applyFilters(true); });
    });
    applyFilters(false);
  }

  // -- all metrics -----------------------------------------------------------------------
  var toggle = document.getElementById("show-all-metrics");
  if (toggle) {
    var apply = function () { document.documentElement.classList.toggle("show-all", toggle.checked); };
    toggle.addEventListener("change", apply);
    apply();
  }
})();
