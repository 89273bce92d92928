// Finished jobs are confirmed by a toast (in the page's aria-live #toasts region) with the
// job's message; a dialog whose job succeeded closes itself once the toast is shown.
(() => {
  const DONE = ["succeeded", "failed"];
  const container = () => document.getElementById("toasts");

  const show = (text, status) => {
    const box = container();
    if (!box || !window.bootstrap) return;
    const toast = document.createElement("div");
    toast.className = "toast align-items-center border-0 " +
      (status === "failed" ? "text-bg-danger" : "text-bg-success");
    toast.setAttribute("role", status === "failed" ? "alert" : "status");
    toast.setAttribute("aria-atomic", "true");
    toast.dataset.toastStatus = status;
    const row = document.createElement("div");
    row.className = "d-flex";
    const body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.dataset.bsDismiss = "toast";
    close.setAttribute("aria-label", "Close");
    row.append(body, close);
    toast.append(row);
    box.append(toast);
    toast.addEventListener("hidden.bs.toast", () => toast.remove());
    bootstrap.Toast.getOrCreateInstance(toast, {delay: status === "failed" ? 10000 : 6000}).show();
  };

  const textOf = (card) => {
    const title = card.querySelector("[data-job-title]");
    const message = card.querySelector("[data-job-message]");
    const error = card.querySelector("[data-job-error]");
    const detail = (error || message);
    const head = title ? title.textContent.trim() : "Job";
    const done = card.dataset.jobStatus === "failed" ? "failed" : "done";
    return detail ? detail.textContent.trim() : `${head} ${done}.`;
  };

  const closeDialog = (card) => {
    const modal = card.closest(".modal");
    if (!modal || !modal.classList.contains("show")) return;
    // A moment to see the green badge, then the dialog closes and the toast stays.
    setTimeout(() => {
      if (modal.classList.contains("show")) bootstrap.Modal.getOrCreateInstance(modal).hide();
    }, 700);
  };

  const check = () => {
    document.querySelectorAll(".job-status[data-job-status]").forEach((card) => {
      const status = card.dataset.jobStatus;
      if (!DONE.includes(status) || card.dataset.toasted) return;
      card.dataset.toasted = "1";
      show(textOf(card), status);
      if (status === "succeeded") closeDialog(card);
    });
  };
  document.addEventListener("htmx:afterSettle", check);
})();
