// When a job card reports it has finished, the page's state sections reload (they listen for
// isolation-changed); the open tab stays open across reloads, and #tab-… in the address opens it.
(() => {
  let activeTab = null;
  const showTab = (id) => {
    const button = id && document.getElementById(id);
    if (button && !button.classList.contains("active")) bootstrap.Tab.getOrCreateInstance(button).show();
  };
  const announce = () => {
    document.querySelectorAll("[data-job-area] .job-status").forEach((card) => {
      const status = card.dataset.jobStatus;
      if ((status === "succeeded" || status === "failed") && !card.dataset.announced) {
        card.dataset.announced = "1";
        htmx.trigger(document.body, "isolation-changed", {status: status});
      }
    });
  };
  document.addEventListener("shown.bs.tab", (event) => { activeTab = event.target.id; });
  document.body.addEventListener("htmx:afterSettle", () => { showTab(activeTab); announce(); });
  const tabOfAddress = () => {
    if (location.hash.startsWith("#tab-")) showTab(location.hash.slice(1) + "-button");
  };
  window.addEventListener("hashchange", tabOfAddress);
  tabOfAddress();
})();
