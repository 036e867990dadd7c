// Try-it: sends one documented operation through the portal (which alone talks to the
// gateway) and shows the gateway's answer. The API key stays in this tab's sessionStorage.
"use strict";
(function () {
  const KEY = "gatehouse-try-key";
  const keyInput = document.getElementById("try-key");
  if (keyInput) {
    keyInput.value = sessionStorage.getItem(KEY) || "";
    keyInput.addEventListener("input", () => sessionStorage.setItem(KEY, keyInput.value));
  }
  // A key just issued is also the one try-it uses, until another is typed.
  const issued = document.getElementById("new-key");
  if (issued) sessionStorage.setItem(KEY, issued.value);
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      field.select();
      try { await navigator.clipboard.writeText(field.value); } catch (_) { document.execCommand("copy"); }
      button.textContent = "Copied";
    });
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function show(result, output) {
    output.replaceChildren();
    if (result.error) {
      output.append(element("p", result.error, "notice error"));
      return;
    }
    const ok = result.status >= 200 && result.status < 300;
    const line = element("p", "", "status-line");
    line.append(element("strong", "HTTP " + result.status, ok ? "badge ok" : "badge no"));
    line.append(element("span", " in " + result.latency_ms.toFixed(1) + " ms", "latency"));
    output.append(line);
    output.append(element("p", result.url, "hint url"));
    const headers = element("details");
    headers.append(element("summary", "Response headers"));
    headers.append(element("pre", result.headers.map(([name, value]) => name + ": " + value).join("\n")));
    output.append(headers);
    output.append(element("pre", result.body + (result.truncated ? "\n… (cut at 1 MiB)" : ""), "body"));
  }

  for (const form of document.querySelectorAll("form.try")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const output = form.querySelector(".result");
      const params = {};
      for (const input of form.querySelectorAll("[data-param]")) {
        if (input.value !== "") params[input.dataset.param] = input.value;
      }
      const body = form.querySelector("[data-body]");
      const request = {
        method: form.dataset.method,
        path: form.dataset.path,
        params,
        api_key: keyInput ? keyInput.value : "",
      };
      if (form.dataset.version) request.version = form.dataset.version;
      if (body && body.value !== "") request.body = body.value;
      output.replaceChildren(element("p", "Calling…", "hint"));
      try {
        const response = await fetch("/apis/" + encodeURIComponent(form.dataset.api) + "/try", {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": form.dataset.csrf },
          body: JSON.stringify(request),
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (!response.ok) {
          output.replaceChildren(element("p", answer.detail || "the portal refused the call", "notice error"));
          return;
        }
        show(answer, output);
      } catch (error) {
        output.replaceChildren(element("p", "The portal did not answer: " + error, "notice error"));
      }
    });
  }
})();
