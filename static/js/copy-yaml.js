// The policy detail's copy button: the YAML to the clipboard, or a message saying why not.
document.getElementById("copy-yaml").addEventListener("click", async () => {
  const status = document.getElementById("copy-status");
  const text = window.ConsoleEditor ? window.ConsoleEditor.getValue("#policy-yaml") : document.getElementById("policy-yaml").value;
  try { await navigator.clipboard.writeText(text); status.textContent = "Copied to the clipboard."; }
  catch (e) { status.textContent = "The browser refused the clipboard: select the text and copy it."; }
});
