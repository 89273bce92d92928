// The policy editor's form: size limit before sending, file upload into the editor, jump to an
// error's line.
(() => {
  const byteLength = (text) => new Blob([text]).size;
  const editorValue = (area) => window.ConsoleEditor ? window.ConsoleEditor.getValue(area) : area.value;
  document.querySelectorAll("form[data-max-bytes]").forEach((form) => {
    const limit = Number(form.dataset.maxBytes);
    const area = form.querySelector("textarea[name=yaml]");
    const upload = form.querySelector("input[type=file][name=upload]");
    const status = form.querySelector("[role=status]");
    form.addEventListener("submit", (event) => {
      if (area && byteLength(editorValue(area)) > limit) {
        event.preventDefault();
        if (status) status.textContent = `The YAML is larger than ${limit.toLocaleString()} bytes: a policy may not be that large.`;
      }
    });
    if (upload && area) upload.addEventListener("change", () => {
      const file = upload.files[0];
      if (!file) return;
      if (file.size > limit) {
        upload.value = "";
        status.textContent = `${file.name} is ${file.size.toLocaleString()} bytes; a policy file may be at most ${limit.toLocaleString()} bytes.`;
        return;
      }
      file.text().then((text) => {
        window.ConsoleEditor.setValue(area, text);
        upload.value = "";
        status.textContent = `Loaded ${file.name} into the editor: review it before applying.`;
      });
    });
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-goto-line]");
    if (!link || !window.ConsoleEditor) return;
    const view = window.ConsoleEditor.view("#policy-yaml");
    const doc = view.state.doc;
    const line = doc.line(Math.min(Number(link.dataset.gotoLine), doc.lines));
    const pos = Math.min(line.from + Math.max(Number(link.dataset.gotoColumn) - 1, 0), line.to);
    view.dispatch({selection: {anchor: pos}, scrollIntoView: true});
    view.focus();
  });
})();
