// After a review is shown (the page loaded at #review, or htmx swapped the review in), scroll
// it into view below the sticky header, so the Review heading and its check badges are seen.
(() => {
  const place = (scroll) => {
    const review = document.getElementById("review");
    if (!review) return;
    const header = document.getElementById("top-bar");
    const offset = (header ? header.getBoundingClientRect().height : 0) + 12;
    review.style.scrollMarginTop = `${Math.round(offset)}px`;
    if (scroll) review.scrollIntoView({block: "start"});
  };
  const onLoad = () => place(window.location.hash === "#review");
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onLoad);
  else onLoad();
  // The browser's own jump to #review can run before layout settles (fonts, the editor).
  window.addEventListener("load", () => { if (window.location.hash === "#review") place(true); });
  document.addEventListener("htmx:afterSettle", (event) => {
    const review = document.getElementById("review");
    const target = event.detail && event.detail.target;
    if (review && target && (target === review || target.contains(review))) place(true);
  });
})();
