// A matrix cell's detail renders below the grid: bring it into view and move focus to its
// heading once htmx has swapped it in, so clicking a cell visibly does something.
(() => {
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail && event.detail.target;
    if (!target || target.id !== "drill") return;
    const heading = target.querySelector("h2, h3");
    if (!heading) return;
    heading.setAttribute("tabindex", "-1");
    heading.focus({preventScroll: true});
    const card = target.querySelector(".card") || heading;
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    card.scrollIntoView({behavior: reduce ? "auto" : "smooth", block: "start"});
  });
})();
