// Wide tables scroll inside their card, never the page: every table in the main column that
// no template has put in a .table-responsive yet gets one, on load and after each htmx swap.
(() => {
  const wrap = (root) => {
    root.querySelectorAll("#main table").forEach((table) => {
      if (table.closest(".table-responsive, .modal, [data-no-wrap]")) return;
      const box = document.createElement("div");
      box.className = "table-responsive";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    });
  };
  wrap(document);
  document.addEventListener("htmx:afterSettle", () => wrap(document));
})();
